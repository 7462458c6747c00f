/**
 * The differences between two loaded configs, entity by entity: what was added, removed or
 * changed (with the names of the changed fields, never their values: credentials hold secrets).
 * Entities are matched by name (username, upstream name, `target@upstream`, plugin name and
 * scope, ...); one without a name by its id, which the loader derives from its content (see
 * `src/config/ids.ts`), so a change to an unnamed entity shows as removed + added.
 *
 * @example
 *   diffSnapshots(oldSnapshot, newSnapshot)
 *   // [{ type: 'services', changes: [{ kind: 'changed', name: 'echo', fields: ['port'] }] }, …]
 */
import { canonicalJson } from '../config/canonical.ts';
import type { Snapshot } from '../config/types.ts';

export type Change =
  | { readonly kind: 'added' | 'removed'; readonly name: string }
  | { readonly kind: 'changed'; readonly name: string; readonly fields: readonly string[] };

export interface TypeDiff {
  readonly type: string;
  readonly changes: readonly Change[];
}

type Row = Readonly<Record<string, unknown>>;

/** Fields that follow from others or from file order: a move in the file is not a change. */
const VOLATILE = new Set(['created_at']);

interface Keyed {
  readonly key: string;
  readonly name: string;
  readonly row: Row;
}

/** Names of the entities that foreign keys point at, so scopes read `route chat` not a UUID. */
function namer(s: Snapshot): (kind: string, id: unknown) => string {
  const names = new Map<string, string>();
  for (const svc of s.services.values()) names.set(`service:${svc.id}`, svc.name ?? svc.id);
  for (const r of s.routes) names.set(`route:${r.id}`, r.name ?? r.id);
  for (const c of s.consumers.values()) names.set(`consumer:${c.id}`, c.username ?? c.custom_id ?? c.id);
  return (kind, id) => names.get(`${kind}:${String(id)}`) ?? String(id);
}

function strip(row: Row, drop: readonly string[] = []): Row {
  return Object.fromEntries(Object.entries(row).filter(([k]) => !VOLATILE.has(k) && !drop.includes(k)));
}

/** Every entity of the snapshot by type, keyed for matching. */
function entities(s: Snapshot): Map<string, Keyed[]> {
  const name = namer(s);
  const keyed = (row: Row, label: string | undefined, drop: readonly string[] = []): Keyed => ({
    key: label ?? `id:${String(row.id)}`,
    name: label ?? `(unnamed, id ${String(row.id).slice(0, 8)})`,
    row: strip(row, drop),
  });
  const out = new Map<string, Keyed[]>();
  out.set('services', [...s.services.values()].map((e) => keyed(e as unknown as Row, e.name)));
  out.set('routes', s.routes.map((e) => keyed(e as unknown as Row, e.name)));
  out.set('consumers', [...s.consumers.values()].map((e) => keyed(e as unknown as Row, e.username ?? e.custom_id)));
  out.set('plugins', s.plugins.map((p) => {
    const scope = [
      p.route !== undefined ? `route ${name('route', p.route)}` : undefined,
      p.service !== undefined ? `service ${name('service', p.service)}` : undefined,
      p.consumer !== undefined ? `consumer ${name('consumer', p.consumer)}` : undefined,
    ].filter((x) => x !== undefined);
    const label = `${p.instance_name ?? p.name} (${scope.length > 0 ? scope.join(', ') : 'global'})`;
    return keyed(p as unknown as Row, label);
  }));
  out.set('upstreams', [...s.upstreams.values()].map((u) => keyed(u as unknown as Row, u.name, ['targets'])));
  out.set('targets', [...s.upstreams.values()].flatMap((u) => u.targets.map((t) => keyed(t as unknown as Row, `${t.target}@${u.name}`))));
  out.set('certificates', [...s.certificates.values()].map((c) => keyed(c as unknown as Row, c.snis.length > 0 ? c.snis.join(',') : undefined)));
  out.set('snis', s.snis.map((e) => keyed(e as unknown as Row, e.name)));
  out.set('ca_certificates', [...s.ca_certificates.values()].map((c) => keyed(c as unknown as Row, undefined)));
  for (const [type, rows] of s.credentials) {
    // Credential ids derive from their key (a secret): show whose they are, match by id.
    out.set(type, rows.map((c) => ({ key: c.id, name: `${name('consumer', c.consumer)}'s (id ${c.id.slice(0, 8)})`, row: strip(c) })));
  }
  out.set('channels', s.channels.map((c) => keyed(c, typeof c.name === 'string' ? c.name : undefined)));
  return out;
}

function changedFields(a: Row, b: Row): string[] {
  const fields = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...fields].filter((f) => canonicalJson(a[f] ?? null) !== canonicalJson(b[f] ?? null)).sort();
}

/** Types with at least one change, in a stable order; changes sorted by name. */
export function diffSnapshots(before: Snapshot, after: Snapshot): TypeDiff[] {
  const a = entities(before);
  const b = entities(after);
  const types = [...new Set([...a.keys(), ...b.keys()])];
  const result: TypeDiff[] = [];
  for (const type of types) {
    const old = new Map((a.get(type) ?? []).map((e) => [e.key, e]));
    const now = new Map((b.get(type) ?? []).map((e) => [e.key, e]));
    const changes: Change[] = [];
    for (const [key, e] of now) {
      const prev = old.get(key);
      if (prev === undefined) changes.push({ kind: 'added', name: e.name });
      else {
        const fields = changedFields(prev.row, e.row);
        if (fields.length > 0) changes.push({ kind: 'changed', name: e.name, fields });
      }
    }
    for (const [key, e] of old) if (!now.has(key)) changes.push({ kind: 'removed', name: e.name });
    changes.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    if (changes.length > 0) result.push({ type, changes });
  }
  return result;
}
