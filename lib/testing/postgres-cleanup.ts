import { isGone } from './creator.js';
import type { ListedDatabase, PostgresAdmin } from './postgres-admin.js';
import { removesTemplate, type TemplatePolicy } from './template-policy.js';

function isLeftover(database: ListedDatabase, templates: TemplatePolicy): boolean {
  const made = database.provenance;
  if (made === null) return false; // not ours: never touched
  return made.kind === 'template' ? removesTemplate(templates, made) : isGone(made);
}

/**
 * Drops what the tool made and nobody uses any more: test databases and unfinished builds whose creating
 * process is gone, and templates per `templates`. A database with a session is skipped, and DROP without
 * FORCE makes the server refuse one that gains a session meanwhile; a database the tool did not create
 * (no comment of its own) is never touched. Returns the names dropped.
 */
export async function removeLeftovers(admin: PostgresAdmin, templates: TemplatePolicy): Promise<string[]> {
  const removed: string[] = [];
  for (const database of await admin.list()) {
    if (database.sessions > 0 || !isLeftover(database, templates)) continue;
    try {
      await admin.drop(database.name, { force: false, template: database.isTemplate });
      removed.push(database.name);
    } catch {
      // In use after all, or dropped by another process's cleanup: either way, not ours to remove now.
    }
  }
  return removed;
}
