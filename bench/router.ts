/**
 * Router lookups per second with 10, 1,000 and 10,000 routes of a realistic mix (prefix paths,
 * some with methods or several paths, some host-bound, some wildcard hosts, some regexes), for
 * cache hits (a working set that fits the LRU) and misses (every path unique, so every lookup
 * runs the indexes and evicts). Each measurement runs for a fixed time slice, so a row takes
 * about a second whatever the machine.
 */
import type { Route } from '../src/config/types.ts';
import { createRouter } from '../src/router/index.ts';
import type { RouteRequest, Router } from '../src/router/types.ts';
import { routeWith, serviceWith } from '../test/helpers/entities.ts';

const SLICE_MS = 400;
/** Untimed run before each measurement, so the JIT has compiled the lookup path. */
const WARMUP_MS = 150;

const service = serviceWith({ id: 'svc', host: 'upstream.test' });

function makeRoute(i: number): Route {
  const base = routeWith({ id: `route-${i}`, name: `route-${i}`, service: 'svc', created_at: i });
  switch (i % 20) {
    case 0:
    case 1:
      return { ...base, hosts: [`api${i}.example.com`], paths: [`/v1/svc${i}`] };
    case 2:
      return { ...base, hosts: [`*.tenant${i}.example.com`] };
    case 3:
    case 4:
      return { ...base, paths: [`~/svc${i}/items/(?<id>\\d+)$`] };
    case 5:
      return { ...base, paths: [`/svc${i}`], methods: ['GET', 'POST'] };
    case 6:
      return { ...base, paths: [`/svc${i}/`, `/legacy/svc${i}`] };
    default:
      return { ...base, paths: [`/svc${i}`] };
  }
}

/** A request that hits route `i` (or, with `unique`, a fresh path under it). */
function requestFor(i: number, unique: number): RouteRequest {
  const req: RouteRequest = { method: 'GET', path: '/', host: 'gateway.test', port: 8000, headers: {}, scheme: 'http' };
  switch (i % 20) {
    case 0:
    case 1:
      return { ...req, host: `api${i}.example.com`, path: `/v1/svc${i}/orders/${unique}` };
    case 2:
      return { ...req, host: `u${unique}.tenant${i}.example.com`, path: `/x/${unique}` };
    case 3:
    case 4:
      return { ...req, path: `/svc${i}/items/${unique}` };
    default:
      return { ...req, path: `/svc${i}/things/${unique}` };
  }
}

function opsPerSecond(router: Router, next: (n: number) => RouteRequest): number {
  const warmupEnd = performance.now() + WARMUP_MS;
  let w = 0;
  while (performance.now() < warmupEnd) for (let k = 0; k < 500; k++) router.match(next(w++));
  let n = w;
  const first = n;
  let misses = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < SLICE_MS) {
    for (let k = 0; k < 500; k++, n++) if (!router.match(next(n))) misses++;
    elapsed = performance.now() - start;
  }
  if (misses > (n - first) / 10) throw new Error(`bench requests did not match: ${misses}/${n - first}`);
  return ((n - first) / elapsed) * 1000;
}

function format(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export async function run(): Promise<void> {
  const services = new Map([['svc', service]]);
  console.log('| routes | lookups/s cached | lookups/s uncached | build ms |');
  console.log('|---:|---:|---:|---:|');
  for (const count of [10, 1_000, 10_000]) {
    const routes = Array.from({ length: count }, (_, i) => makeRoute(i));
    const buildStart = performance.now();
    const router = createRouter(routes, services);
    const buildMs = performance.now() - buildStart;

    // Working set of 1,000 distinct requests: after the first pass every lookup is a hit.
    const working = Array.from({ length: 1000 }, (_, k) => requestFor((k * 7919) % count, k % 10));
    const cached = opsPerSecond(router, (n) => working[n % working.length] as RouteRequest);
    let unique = 0;
    const uncached = opsPerSecond(router, (n) => requestFor((n * 7919) % count, 1_000_000 + unique++));
    console.log(`| ${format(count)} | ${format(cached)} | ${format(uncached)} | ${buildMs.toFixed(1)} |`);
  }
}
