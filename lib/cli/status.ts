import { statusOf } from '../manager.js';
import { refusals } from '../migrations/plan.js';
import { ExitCode, type Command } from './command.js';
import { listingDocument, listingTable } from './output.js';
import { cliWords } from './words.js';

export const status: Command = {
  name: 'status',
  args: [],
  summary: 'list every migration with its state; --check exits 3 when sync would apply something, 4 when it would refuse',
  database: 'read',
  options: {
    check: { type: 'boolean', help: '--check             exit 3 when sync would apply something, 4 when it would refuse: a readiness check' },
  },
  async run(context) {
    const db = context.open();
    const allowOutOfOrder = context.flags['allow-out-of-order'] === true;
    const { comparison, recorded } = await db.compare();
    const { listing, current, latest } = comparison;
    const problems = refusals(comparison, allowOutOfOrder).map((problem) => ({ ...problem, message: cliWords(problem.message) }));
    const state = statusOf(comparison, recorded, allowOutOfOrder);
    const pending = comparison.pending.map((migration) => migration.version);
    const ready = pending.length === 0 && problems.length === 0;
    const verdict = ready ? ExitCode.OK : problems.length > 0 ? ExitCode.WOULD_REFUSE : ExitCode.NOT_UP_TO_DATE;
    const lines = [listingTable(listing), `status: ${state} (current ${current ?? 'none'}, latest ${latest ?? 'none'})`];
    for (const problem of problems) lines.push(`${problem.code}: ${problem.message}`);
    if (!ready) lines.push(problems.length > 0 ? 'sync would refuse: fix the problems above first' : `sync would apply ${pending.length} migration(s)`);
    return {
      fields: { status: state, ready, current, latest, pending, problems, migrations: listing.map(listingDocument) },
      text: lines.join('\n'),
      exitCode: context.flags.check ? verdict : ExitCode.OK,
    };
  },
};
