import type { HeaderValue, Pdk } from '../../pdk/types.ts';
import type { Entry } from './entries.ts';

export interface HeaderOps {
  readonly remove: readonly string[];
  readonly rename: readonly Entry[];
  readonly replace: readonly Entry[];
  readonly add: readonly Entry[];
  readonly append: readonly Entry[];
}

/** Every value the header will carry upstream (the client's list, unless a plugin changed it). */
function currentValue(kong: Pdk, name: string): HeaderValue | undefined {
  const first = kong.service.request.getHeader(name);
  if (first === undefined) return undefined;
  const received = kong.request.getHeaders()[name.toLowerCase()];
  return Array.isArray(received) && received[0] === first ? received : first;
}

/**
 * Kong's transform_headers on the upstream request: remove, rename, replace (existing headers
 * only; `host` always, which changes the Host sent upstream), add (missing headers only, never
 * `host`), append (another value).
 */
export function transformHeaders(kong: Pdk, ops: HeaderOps): void {
  const upstream = kong.service.request;
  for (const name of ops.remove) upstream.clearHeader(name);
  for (const { name, value } of ops.rename) {
    const to = value.render(kong);
    const current = currentValue(kong, name);
    if (current === undefined || to.toLowerCase() === name.toLowerCase()) continue;
    upstream.clearHeader(name);
    upstream.setHeader(to, current);
  }
  for (const { name, value } of ops.replace) {
    if (name.toLowerCase() === 'host' || upstream.getHeader(name) !== undefined) upstream.setHeader(name, value.render(kong));
  }
  for (const { name, value } of ops.add) {
    if (name.toLowerCase() !== 'host' && upstream.getHeader(name) === undefined) upstream.setHeader(name, value.render(kong));
  }
  for (const { name, value } of ops.append) {
    if (name.toLowerCase() !== 'host') upstream.addHeader(name, value.render(kong));
  }
}
