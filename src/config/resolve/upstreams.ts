import { checkUpstream, parseTarget } from '../check-upstream.ts';
import type { EntityNode, TargetIn, UpstreamIn } from '../collect.ts';
import { entityId } from '../ids.ts';
import { EntityIndex } from '../index-by-key.ts';
import type { Target, Upstream } from '../types.ts';
import { invalidReference, label, type ResolveContext } from './context.ts';

/** An upstream whose targets are still being collected, by upstream id. */
type Pending = Map<string, { upstream: Omit<Upstream, 'targets'>; targets: Target[] }>;

/** Upstreams with their targets (nested or top-level), keyed by upstream name. */
export function resolveUpstreams(
  upstreamNodes: readonly EntityNode<UpstreamIn>[],
  targetNodes: readonly EntityNode<TargetIn>[],
  ctx: ResolveContext,
): Map<string, Upstream> {
  const index = new EntityIndex<unknown>('upstreams', ctx.sink);
  const pending: Pending = new Map();
  for (const node of upstreamNodes) {
    const v = node.value;
    const entity = label('upstream', v.name);
    node.id = entityId('upstreams', v.id, v.name);
    index.addId(node, entity);
    if (typeof v.name === 'string') index.addKey(node, 'name', v.name, entity);
    if (!node.usable) continue;
    pending.set(node.id, { upstream: checkUpstream(node.id, v, ctx.reportFor(node, entity)), targets: [] });
  }
  attachTargets(targetNodes, index, pending, ctx);

  const upstreams = new Map<string, Upstream>();
  for (const { upstream, targets } of pending.values()) upstreams.set(upstream.name, { ...upstream, targets });
  return upstreams;
}

function attachTargets(nodes: readonly EntityNode<TargetIn>[], upstreams: EntityIndex<unknown>, pending: Pending, ctx: ResolveContext): void {
  const index = new EntityIndex<unknown>('targets', ctx.sink);
  for (const node of nodes) {
    const v = node.value;
    const entity = label('target', v.target);
    const report = ctx.reportFor(node, entity);
    const parent = node.parent ?? (node.usable ? upstreams.resolve(v.upstream!, ['name']) : undefined);
    if (!node.parent && node.usable && !parent) report(['upstream'], invalidReference('upstream', v.upstream!));
    const target = typeof v.target === 'string' ? parseTarget(v.target) : undefined;
    if (typeof target === 'string') report(['target'], target);
    // The same host:port may serve several upstreams; it is unique within one.
    node.id = entityId('targets', v.id, parent && typeof target === 'object' ? `${parent.id}:${target.target}` : undefined);
    index.addId(node, entity);
    if (!node.usable || !parent || typeof target !== 'object') continue;
    index.addKey(node, 'target', `${parent.id} ${target.target}`, entity, [...node.path, 'target']);
    pending.get(parent.id)?.targets.push({
      id: node.id,
      target: target.target,
      weight: v.weight ?? 100,
      upstream: parent.id,
      tags: v.tags ?? [],
    });
  }
}
