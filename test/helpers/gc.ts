/**
 * Forced garbage collection for tests that check something is no longer held.
 *
 * @example
 *   const refs = [new WeakRef(socket)];
 *   socket = undefined;
 *   assert.equal(await collected(refs), 0);
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
/** V8's full collection. */
export const gc = runInNewContext('gc') as () => void;

/** How many of `refs` are still held after collecting until every one is cleared (a few rounds: some objects die a turn after others). */
export async function collected(refs: readonly WeakRef<object>[]): Promise<number> {
  for (let round = 0; round < 20; round++) {
    gc();
    if (refs.every((ref) => ref.deref() === undefined)) return 0;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return refs.filter((ref) => ref.deref() !== undefined).length;
}
