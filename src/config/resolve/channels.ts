import type { ChannelIn, EntityNode } from '../collect.ts';
import { entityId } from '../ids.ts';
import { EntityIndex } from '../index-by-key.ts';
import { label, type ResolveContext } from './context.ts';

/** Channel policies are kept raw (minus comments): only their names are checked here. */
export function resolveChannels(nodes: readonly EntityNode<ChannelIn>[], ctx: ResolveContext): Record<string, unknown>[] {
  const index = new EntityIndex<unknown>('channels', ctx.sink);
  const channels: Record<string, unknown>[] = [];
  for (const node of nodes) {
    const v = node.value;
    node.id = entityId('channels', undefined, typeof v.name === 'string' ? v.name : undefined);
    if (typeof v.name === 'string') index.addKey(node, 'name', v.name, label('channel', v.name));
    if (!node.usable) continue;
    const { _comment: _ignored, ...rest } = v;
    channels.push(rest);
  }
  return channels;
}
