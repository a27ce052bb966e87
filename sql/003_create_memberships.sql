-- The same SQL runs on both databases: no dialect variant needed.
CREATE TABLE memberships (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
    PRIMARY KEY (user_id, group_id)
);

CREATE INDEX memberships_group_id_idx ON memberships (group_id);
