/** Which templates a cleanup removes, besides the leftovers of crashed runs (which it always removes). */
export type TemplatePolicy =
  /** None. */
  | 'keep'
  /** Those made from the same migrations folder and options but other files: what building a new template does. */
  | { supersededBy: { hash: string; source: string } }
  /** Every template the tool made (the next call rebuilds the one it needs). */
  | 'all';

/** Whether `policy` removes a template of `source` holding `hash` (either may be a prefix, as file names keep). */
export function removesTemplate(policy: TemplatePolicy, made: { source: string; hash: string }): boolean {
  if (policy === 'all') return true;
  if (policy === 'keep') return false;
  const { source, hash } = policy.supersededBy;
  return source.startsWith(made.source) && !hash.startsWith(made.hash);
}
