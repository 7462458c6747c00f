import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pings, type PingTarget } from '../../src/pubsub/transports/pings.ts';
import type { Chunk } from '../../src/pubsub/transports/wire.ts';

/** Waits (polling) until `done()`; fails after 5 s. */
async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 5) {
    if (waited > 5000) assert.fail('timed out');
    await sleep(5);
  }
}

class Target implements PingTarget {
  got = 0;
  constructor(private readonly fail = false) {}
  ping(chunk: Chunk): void {
    assert.equal(chunk, 'ping');
    if (this.fail) throw new Error('gone');
    this.got++;
  }
}

describe('pings', () => {
  it('pings every stream added, one interval for all of them, until each is deleted', async () => {
    const pings = new Pings('ping', 10);
    const a = new Target();
    const b = new Target();
    const failing = new Target(true); // does not keep the others from their ping
    pings.add(failing);
    pings.add(a);
    pings.add(b);
    await until(() => a.got >= 2 && b.got >= 2);
    pings.delete(a);
    const [seenA, seenB] = [a.got, b.got];
    await until(() => b.got >= seenB + 2);
    assert.equal(a.got, seenA);
    pings.delete(b);
    pings.delete(failing);
  });

  it('stops its interval when the last stream goes, and starts again for the next', async () => {
    const pings = new Pings('ping', 10);
    const a = new Target();
    pings.add(a);
    pings.delete(a);
    pings.delete(a); // twice is fine
    await sleep(30);
    assert.equal(a.got, 0);
    const b = new Target();
    pings.add(b);
    await until(() => b.got >= 1);
    pings.delete(b);
  });
});
