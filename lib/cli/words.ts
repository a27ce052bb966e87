/**
 * The library's messages name its API (`lockTimeoutMs`, `sync()`); the CLI shows the flag or command that does
 * the same. One list, applied to every message the CLI prints, so the API's wording stays the API's.
 */
const API_TO_CLI: Array<[RegExp, string]> = [
  [/use sync\(\) or upgrade\(\)/g, 'use sync or upgrade'],
  [/raise the lock timeout \(lockTimeoutMs, --lock-timeout\)/g, 'raise --lock-timeout'],
  [/raise lockTimeoutMs/g, 'raise --lock-timeout'],
  [/choose another versionTable/g, 'choose another version table with --table'],
  [/allow out-of-order migrations \(allowOutOfOrder\)/g, 'pass --allow-out-of-order'],
  [/\(the directUrl option, --direct-url\)/g, '(--direct-url)'],
  [/leave the schema option out/g, 'leave --schema out'],
  [/\(fileMustExist\)/g, '(commands that only read never create it)'],
  [/\(the connect timeout\)/g, '(--connect-timeout, or ?connect_timeout= in the URL)'],
  [/getStatus\(\) and a sync\(\) with nothing pending/g, 'status and a sync with nothing pending'],
];

/** `message` with the API's names replaced by the CLI's. */
export function cliWords(message: string): string {
  return API_TO_CLI.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), message);
}
