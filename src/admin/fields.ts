import { AdminError } from './errors.ts';

/**
 * Kong's `fields` tree: the error messages laid out like the input they are about,
 * `{ config: { minute: "expected an integer" } }`, with `@entity` for problems of an entity
 * as a whole. Array positions become array slots (null where nothing is wrong).
 *
 * ```ts
 * const fields = {};
 * setField(fields, ['services', 0, 'host'], 'missing');  // { services: [ { host: 'missing' } ] }
 * ```
 */

export type FieldPath = readonly (string | number)[];
type Tree = Record<string, unknown> | unknown[];

export function setField(root: Record<string, unknown>, path: FieldPath, message: string, options: { entity?: boolean } = {}): void {
  if (path.length === 0) {
    pushEntityMessage(root, message);
    return;
  }
  // A message about the entity `path` names as a whole goes into its `@entity` list.
  const full = options.entity ? [...path, '@entity'] : path;
  let node: Tree = root;
  for (let i = 0; i < full.length - 1; i++) {
    const key = full[i]!;
    const nextIsIndex = typeof full[i + 1] === 'number';
    let child = read(node, key);
    if (typeof child !== 'object' || child === null) {
      // A message already sits where deeper errors now go: keep it as the entity's own.
      const previous = typeof child === 'string' ? child : undefined;
      child = nextIsIndex ? [] : {};
      if (previous !== undefined && !Array.isArray(child)) pushEntityMessage(child as Record<string, unknown>, previous);
      write(node, key, child);
    }
    node = child as Tree;
  }
  const last = full[full.length - 1]!;
  if (last === '@entity') {
    pushEntityMessage(node as Record<string, unknown>, message);
    return;
  }
  const existing = read(node, last);
  if (typeof existing === 'object' && existing !== null && !Array.isArray(existing)) pushEntityMessage(existing as Record<string, unknown>, message);
  else write(node, last, typeof existing === 'string' ? `${existing}; ${message}` : message);
}

function pushEntityMessage(node: Record<string, unknown>, message: string): void {
  const list = Array.isArray(node['@entity']) ? (node['@entity'] as string[]) : [];
  list.push(message);
  node['@entity'] = list;
}

function read(node: Tree, key: string | number): unknown {
  return Array.isArray(node) ? node[Number(key)] : node[String(key)];
}

function write(node: Tree, key: string | number, value: unknown): void {
  if (Array.isArray(node) && typeof key === 'number') {
    while (node.length < key) node.push(null);
    node[key] = value;
  } else (node as Record<string, unknown>)[String(key)] = value;
}

/** Kong's schema-violation error: `schema violation (name: required field missing)`. */
export function schemaViolation(issues: readonly { readonly path: FieldPath; readonly message: string }[]): AdminError {
  const fields: Record<string, unknown> = {};
  for (const issue of issues) setField(fields, issue.path, issue.message);
  const parts = issues.map((i) => (i.path.length === 0 ? i.message : `${i.path.join('.')}: ${i.message}`));
  const message = issues.length === 1 ? `schema violation (${parts[0]})` : `${issues.length} schema violations (${parts.join('; ')})`;
  return new AdminError('SCHEMA_VIOLATION', { message, fields });
}
