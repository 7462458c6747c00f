import type { Snapshot } from '../../../config/types.ts';

/** One consumer's groups, from its `acls` credentials, in file order. */
export interface ConsumerGroups {
  readonly list: readonly string[];
  readonly set: ReadonlySet<string>;
  /** The `X-Consumer-Groups` value: Kong joins with ", ". */
  readonly header: string;
}

/** Consumer id → groups, for every consumer with at least one `acls` row. */
export type GroupIndex = ReadonlyMap<string, ConsumerGroups>;

export function buildGroupIndex(snapshot: Snapshot): GroupIndex {
  const lists = new Map<string, string[]>();
  for (const row of snapshot.credentials.get('acls') ?? []) {
    if (typeof row.group !== 'string') continue;
    const list = lists.get(row.consumer) ?? [];
    if (!list.includes(row.group)) list.push(row.group);
    lists.set(row.consumer, list);
  }
  const index = new Map<string, ConsumerGroups>();
  for (const [consumer, list] of lists) index.set(consumer, { list, set: new Set(list), header: list.join(', ') });
  return index;
}

/** The snapshot's index, built once and shared by every acl instance. */
export function groupIndexFor(env: { snapshot: Snapshot; memo<T>(key: string, build: () => T): T }): GroupIndex {
  return env.memo('acl:groups', () => buildGroupIndex(env.snapshot));
}
