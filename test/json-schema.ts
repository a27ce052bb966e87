/**
 * A validator for the part of JSON Schema draft 2020-12 that docs/cli.schema.json uses: type, properties,
 * required, additionalProperties: false, items, enum, const, pattern, format date-time, $ref to #/$defs,
 * allOf, anyOf, not, if/then/else. Anything else in a schema is an error, so the schema cannot silently use
 * a keyword this does not check.
 */
type Schema = Record<string, unknown>;

const KNOWN = new Set([
  '$schema', '$id', 'title', 'description', '$defs', 'type', 'properties', 'required', 'additionalProperties',
  'items', 'enum', 'const', 'pattern', 'format', '$ref', 'allOf', 'anyOf', 'not', 'if', 'then', 'else',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

const equal = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The errors of `value` against `schema` (`root` holds the $defs); empty when valid. */
export function validate(value: unknown, schema: Schema, root: Schema = schema, path = '$'): string[] {
  for (const key of Object.keys(schema)) if (!KNOWN.has(key)) throw new Error(`the validator does not know the keyword ${key} (at ${path})`);
  const errors: string[] = [];
  if (typeof schema.$ref === 'string') {
    const name = /^#\/\$defs\/(.+)$/.exec(schema.$ref)?.[1];
    const target = name === undefined ? undefined : (root.$defs as Record<string, Schema>)[name];
    if (!target) throw new Error(`unresolvable $ref ${schema.$ref}`);
    errors.push(...validate(value, target, root, path));
  }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    const actual = typeOf(value);
    if (!types.includes(actual) && !(actual === 'integer' && types.includes('number'))) return [...errors, `${path}: ${actual} is not ${types.join(' or ')}`];
  }
  if (schema.enum !== undefined && !(schema.enum as unknown[]).some((option) => equal(option, value))) errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (schema.const !== undefined && !equal(schema.const, value)) errors.push(`${path}: ${JSON.stringify(value)} is not ${JSON.stringify(schema.const)}`);
  if (typeof value === 'string' && typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) errors.push(`${path}: "${value}" does not match ${schema.pattern}`);
  if (typeof value === 'string' && schema.format === 'date-time' && Number.isNaN(Date.parse(value))) errors.push(`${path}: "${value}" is not a date-time`);
  if (Array.isArray(value) && schema.items !== undefined) value.forEach((item, index) => errors.push(...validate(item, schema.items as Schema, root, `${path}[${index}]`)));
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[]) if (!(key in object)) errors.push(`${path}: ${key} is required`);
    for (const [key, item] of Object.entries(object)) {
      if (properties[key]) errors.push(...validate(item, properties[key]!, root, `${path}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${path}: ${key} is not allowed`);
    }
  }
  for (const part of (schema.allOf ?? []) as Schema[]) errors.push(...validate(value, part, root, path));
  if (schema.anyOf !== undefined && !(schema.anyOf as Schema[]).some((part) => validate(value, part, root, path).length === 0)) errors.push(`${path}: matches none of anyOf`);
  if (schema.not !== undefined && validate(value, schema.not as Schema, root, path).length === 0) errors.push(`${path}: matches what "not" forbids`);
  if (schema.if !== undefined) {
    const branch = validate(value, schema.if as Schema, root, path).length === 0 ? schema.then : schema.else;
    if (branch !== undefined) errors.push(...validate(value, branch as Schema, root, path));
  }
  return errors;
}
