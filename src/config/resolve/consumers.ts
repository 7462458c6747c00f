import type { ConsumerIn, EntityNode } from '../collect.ts';
import { entityId } from '../ids.ts';
import { EntityIndex } from '../index-by-key.ts';
import type { Consumer } from '../types.ts';
import { label, type ResolveContext } from './context.ts';

export interface ResolvedConsumers {
  /** For plugins and credentials that refer to a consumer. */
  readonly index: EntityIndex<unknown>;
  readonly consumers: Map<string, Consumer>;
}

export function resolveConsumers(nodes: readonly EntityNode<ConsumerIn>[], ctx: ResolveContext): ResolvedConsumers {
  const index = new EntityIndex<unknown>('consumers', ctx.sink);
  const consumers = new Map<string, Consumer>();
  for (const node of nodes) {
    const v = node.value;
    const entity = label('consumer', v.username ?? v.custom_id);
    const key = v.username !== undefined ? `username:${v.username}` : v.custom_id !== undefined ? `custom_id:${v.custom_id}` : undefined;
    node.id = entityId('consumers', v.id, key);
    index.addId(node, entity);
    if (typeof v.username === 'string') index.addKey(node, 'username', v.username, entity);
    if (typeof v.custom_id === 'string') index.addKey(node, 'custom_id', v.custom_id, entity);
    if (!node.usable) continue;
    if (v.username === undefined && v.custom_id === undefined) {
      ctx.reportFor(node, entity)([], "at least one of these fields must be non-empty: 'custom_id', 'username'");
      continue;
    }
    consumers.set(node.id, {
      id: node.id,
      ...(v.username !== undefined ? { username: v.username } : {}),
      ...(v.custom_id !== undefined ? { custom_id: v.custom_id } : {}),
      tags: v.tags ?? [],
    });
  }
  return { index, consumers };
}
