import type { LintReport } from '../lint/lint.js';
import { ExitCode, type Command } from './command.js';

function lintText(report: LintReport): string {
  const lines = report.findings.map(
    (finding) => `${finding.file}:${finding.line}:${finding.column}: ${finding.rule}: ${finding.message}\n  why: ${finding.why}\n  instead: ${finding.recipe}`,
  );
  for (const file of report.skipped) lines.push(`${file}: skipped (SQLite only)`);
  lines.push(`${report.findings.length} finding(s) in ${report.checked.length} file(s)`);
  return lines.join('\n');
}

export const lint: Command = {
  name: 'lint',
  args: ['[files...]'],
  summary: 'check migrations (the given files, else the pending ones) for statements that lock or rewrite big tables (exit 1 if any)',
  database: 'read',
  async run(context) {
    // Loaded by this command alone, so that every other command starts without it.
    const { lintFiles, migrationFilesOf } = await import('../lint/lint.js');
    // Given files need no database; without, the pending migrations are read from it.
    const files =
      context.args.length > 0
        ? context.args
        : await migrationFilesOf(context.dir, (await context.open().compare()).comparison.pending.map((migration) => migration.version));
    const report = await lintFiles(files);
    return { fields: { ...report }, text: lintText(report), exitCode: report.findings.length > 0 ? ExitCode.FAILED : ExitCode.OK };
  },
};
