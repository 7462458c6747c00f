import type { HashOn, Target, Upstream } from '../config/types.ts';
import { GatewayError } from '../gateway/errors.ts';
import type { HashInputs } from './types.ts';

/** One balancer peer: an enabled Target with its parsed address and live counters. */
export interface Peer {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** `host:port` as written in the Target (IPv6 in brackets); the key for health state. */
  readonly address: string;
  readonly weight: number;
  /** Requests in flight, for least-connections. */
  active: number;
  /** Smooth weighted round-robin state (nginx's `current_weight`). */
  current: number;
}

export interface Balancer {
  readonly upstreamId: string;
  readonly peers: readonly Peer[];
  /**
   * Chooses a peer, skipping unhealthy ones and those in `exclude` (already tried). With a
   * `hashKey` and the consistent-hashing algorithm the choice is sticky for that key.
   * Throws `GatewayError('NO_PEER')` when nothing is available. Counts the peer as active
   * until {@link release}.
   */
  pick(hashKey?: string, exclude?: ReadonlySet<Peer>): Peer;
  /** The request sent to `peer` finished (either way). */
  release(peer: Peer): void;
}

export type HealthPredicate = (address: string) => boolean;

/** Kong's default target port when a Target has none. */
const DEFAULT_TARGET_PORT = 8000;

/** Splits a Target's `host:port` (`[v6]:port`, bare host → port 8000). */
export function parseTarget(target: string): { host: string; port: number } {
  if (target.startsWith('[')) {
    const end = target.indexOf(']');
    const host = target.slice(1, end);
    const port = target[end + 1] === ':' ? Number(target.slice(end + 2)) : DEFAULT_TARGET_PORT;
    return { host, port };
  }
  const colon = target.lastIndexOf(':');
  if (colon < 0 || target.indexOf(':') !== colon) return { host: target, port: DEFAULT_TARGET_PORT };
  return { host: target.slice(0, colon), port: Number(target.slice(colon + 1)) };
}

/**
 * 32-bit FNV-1a with murmur3's finalizer: cheap, allocation-free and well spread, which is
 * all the ring needs (it is not a security boundary).
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function headerValue(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(',');
}

function hashValue(
  on: HashOn,
  inputs: HashInputs,
  names: { header?: string; cookie?: string; queryArg?: string; uriCapture?: string },
): string | undefined {
  switch (on) {
    case 'none':
      return undefined;
    case 'consumer':
      return inputs.consumerId;
    case 'ip':
      return inputs.clientIp;
    case 'header':
      return names.header ? headerValue(inputs.headers[names.header.toLowerCase()]) : undefined;
    case 'cookie':
      return names.cookie ? inputs.cookies?.[names.cookie] : undefined;
    case 'path':
      return inputs.path;
    case 'query_arg': {
      if (!names.queryArg) return undefined;
      const values = inputs.query.getAll(names.queryArg);
      return values.length === 0 ? undefined : values.join(',');
    }
    case 'uri_capture':
      return names.uriCapture ? inputs.uriCaptures[names.uriCapture] : undefined;
  }
}

/**
 * The consistent-hashing key per the upstream's `hash_on`, falling back to `hash_fallback`
 * when the first yields nothing (Kong's order). Undefined means "no key": the balancer then
 * spreads requests round-robin.
 */
export function computeHashKey(upstream: Upstream, inputs: HashInputs | undefined): string | undefined {
  if (inputs === undefined || upstream.hash_on === 'none') return undefined;
  const primary = hashValue(upstream.hash_on, inputs, {
    header: upstream.hash_on_header,
    cookie: upstream.hash_on_cookie,
    queryArg: upstream.hash_on_query_arg,
    uriCapture: upstream.hash_on_uri_capture,
  });
  if (primary !== undefined && primary !== '') return primary;
  const fallback = hashValue(upstream.hash_fallback, inputs, {
    header: upstream.hash_fallback_header,
    queryArg: upstream.hash_fallback_query_arg,
    uriCapture: upstream.hash_fallback_uri_capture,
  });
  return fallback === '' ? undefined : fallback;
}

function toPeer(target: Target): Peer {
  const { host, port } = parseTarget(target.target);
  return { id: target.id, host, port, address: target.target, weight: target.weight, active: 0, current: 0 };
}

/** Virtual nodes per unit of weight: weight 100 (Kong's default) → 160 points, as ketama. */
const POINTS_PER_WEIGHT = 1.6;

/**
 * Kong's `slots` ring, built ketama-style so that removing a target only moves that target's
 * keys: every peer places weight-proportional points on a 32-bit circle (independently of the
 * others), and slot i belongs to the owner of the first point at or after i·2³²/slots.
 * Lookups are then one hash and one array index.
 */
function buildRing(peers: readonly Peer[], slots: number): Int32Array {
  const points: { at: number; peer: number }[] = [];
  peers.forEach((peer, index) => {
    const count = Math.max(1, Math.round(peer.weight * POINTS_PER_WEIGHT));
    for (let i = 0; i < count; i++) points.push({ at: hash32(`${peer.address}#${i}`), peer: index });
  });
  points.sort((a, b) => a.at - b.at || a.peer - b.peer);
  const ring = new Int32Array(slots);
  if (points.length === 0) return ring.fill(-1);
  let cursor = 0;
  const step = 0x100000000 / slots;
  for (let slot = 0; slot < slots; slot++) {
    const position = slot * step;
    while (cursor < points.length && points[cursor]!.at < position) cursor++;
    ring[slot] = points[cursor % points.length]!.peer;
  }
  return ring;
}

/**
 * A balancer for one Upstream snapshot. Weight-0 targets are disabled. `isHealthy` is asked at
 * pick time, so health changes apply without rebuilding. `threshold` (percent of total weight
 * that must be healthy) makes the whole upstream unavailable below it, as Kong does.
 */
export function createBalancer(upstream: Upstream, isHealthy: HealthPredicate = () => true): Balancer {
  const peers = upstream.targets.filter((t) => t.weight > 0).map(toPeer);
  const totalWeight = peers.reduce((sum, p) => sum + p.weight, 0);
  const threshold = upstream.healthchecks.threshold;
  const ring = upstream.algorithm === 'consistent-hashing' ? buildRing(peers, upstream.slots) : undefined;
  const leastConnections = upstream.algorithm === 'least-connections' || upstream.algorithm === 'latency';
  let rotation = 0;

  const usable = (peer: Peer, exclude: ReadonlySet<Peer> | undefined): boolean =>
    !exclude?.has(peer) && isHealthy(peer.address);

  function noPeer(detail: string): never {
    throw new GatewayError('NO_PEER', { detail: `upstream '${upstream.name}': ${detail}` });
  }

  function checkThreshold(): void {
    if (threshold <= 0) return;
    let healthy = 0;
    for (const peer of peers) if (isHealthy(peer.address)) healthy += peer.weight;
    if (healthy * 100 < threshold * totalWeight) noPeer('healthy weight below threshold');
  }

  /** nginx's smooth weighted round-robin over the usable peers. */
  function roundRobin(exclude: ReadonlySet<Peer> | undefined): Peer | undefined {
    let best: Peer | undefined;
    let total = 0;
    for (const peer of peers) {
      if (!usable(peer, exclude)) continue;
      peer.current += peer.weight;
      total += peer.weight;
      if (best === undefined || peer.current > best.current) best = peer;
    }
    if (best !== undefined) best.current -= total;
    return best;
  }

  function fewestActive(exclude: ReadonlySet<Peer> | undefined): Peer | undefined {
    let best: Peer | undefined;
    let bestScore = Infinity;
    const n = peers.length;
    const start = rotation++ % Math.max(1, n);
    for (let k = 0; k < n; k++) {
      const peer = peers[(start + k) % n]!;
      if (!usable(peer, exclude)) continue;
      const score = (peer.active + 1) / peer.weight;
      if (score < bestScore) {
        best = peer;
        bestScore = score;
      }
    }
    return best;
  }

  function onRing(key: string, exclude: ReadonlySet<Peer> | undefined): Peer | undefined {
    const slots = ring!.length;
    let slot = hash32(key) % slots;
    const owner = ring![slot]!;
    if (owner >= 0 && usable(peers[owner]!, exclude)) return peers[owner];
    // Walk forward to the next slot owned by a usable peer; each peer is tested once.
    const tested = new Set<number>();
    for (let k = 0; k < slots && tested.size < peers.length; k++, slot = (slot + 1) % slots) {
      const index = ring![slot]!;
      if (index < 0 || tested.has(index)) continue;
      tested.add(index);
      const peer = peers[index]!;
      if (usable(peer, exclude)) return peer;
    }
    return undefined;
  }

  return {
    upstreamId: upstream.id,
    peers,
    pick(hashKey?: string, exclude?: ReadonlySet<Peer>): Peer {
      if (peers.length === 0) noPeer('no targets');
      checkThreshold();
      let peer: Peer | undefined;
      if (ring !== undefined && hashKey !== undefined) peer = onRing(hashKey, exclude);
      else if (leastConnections) peer = fewestActive(exclude);
      else peer = roundRobin(exclude);
      if (peer === undefined) noPeer('no healthy target available');
      peer.active++;
      return peer;
    },
    release(peer: Peer): void {
      if (peer.active > 0) peer.active--;
    },
  };
}
