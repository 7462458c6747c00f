/**
 * Node module hooks that run Sluice's TypeScript sources as they are (no build step), for the
 * `sluice` command. The transform is esbuild's, like tsx's, with one difference that matters to a
 * server holding 10,000 streams: no `keepNames`. tsx wraps every function in `__name(fn, "x")`,
 * which redefines `name` on each closure as it is created and gives it a property array of its
 * own (about 250 bytes per closure, several per open stream, one `defineProperty` per call on the
 * request path). Tests and scripts still run through tsx; only the served process uses this.
 *
 * Registered by `bin/sluice.js` (`module.register('./ts-hooks.mjs', import.meta.url)`).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

const TS = /\.[cm]?ts$/;

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !TS.test(new URL(url).pathname)) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const source = await readFile(path, 'utf8');
  const { code } = await transform(source, {
    loader: 'ts',
    format: 'esm',
    target: `node${process.versions.node}`,
    sourcefile: path,
    sourcemap: 'inline',
    keepNames: false,
  });
  return { format: 'module', source: code, shortCircuit: true };
}
