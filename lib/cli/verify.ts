import { ExitCode, type Command } from './command.js';
import { cliWords } from './words.js';

export const verify: Command = {
  name: 'verify',
  args: [],
  summary: 'report drift between the files and the database (exit 1 if any)',
  database: 'read',
  async run(context) {
    const report = await context.open().verify();
    const problems = report.problems.map((problem) => ({ ...problem, message: cliWords(problem.message) }));
    return {
      fields: { problems },
      text: report.ok ? 'ok: the files and the database agree' : problems.map((problem) => `${problem.code}: ${problem.message}`).join('\n'),
      exitCode: report.ok ? ExitCode.OK : ExitCode.FAILED,
    };
  },
};
