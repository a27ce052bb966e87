import type { DatabaseManager } from '../manager.js';

/** A new database made from a template, opened, and how to remove it (after `db` is closed). */
export interface Clone {
  url: string;
  db: DatabaseManager;
  remove(): Promise<void>;
}
