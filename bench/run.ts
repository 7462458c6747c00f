/**
 * `npm run bench [-- name ...]`: runs the named benchmarks (all when none is named).
 * Each benchmark module exports `run(): Promise<void>` and prints its own table.
 */
const BENCHES = {
  router: () => import('./router.ts'),
  proxy: () => import('./proxy.ts'),
  plugins: () => import('./plugins.ts'),
  'plugins-cpu': () => import('./plugins-cpu.ts'),
  fanout: () => import('./fanout.ts'),
  cluster: () => import('./cluster.ts'),
  tls: () => import('./tls.ts'),
} as const satisfies Record<string, () => Promise<{ run(): Promise<void> }>>;

type BenchName = keyof typeof BENCHES;

function isBenchName(name: string): name is BenchName {
  return Object.hasOwn(BENCHES, name);
}

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !isBenchName(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
const names = requested.length > 0 ? requested.filter(isBenchName) : (Object.keys(BENCHES) as BenchName[]);
for (const name of names) {
  console.log(`\n## ${name}\n`);
  const bench = await BENCHES[name]();
  await bench.run();
}
