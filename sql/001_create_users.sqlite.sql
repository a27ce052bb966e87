-- Users of the example service. In SQLite an INTEGER PRIMARY KEY is the rowid, assigned on insert.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
