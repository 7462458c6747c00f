import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../src/gateway/errors.ts';
import { computeHashKey, createBalancer, parseTarget, type Peer } from '../../src/proxy/balancer.ts';
import { makeUpstream } from '../integration/proxy-harness.ts';

function counts(pick: () => Peer, n: number): Map<string, number> {
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const peer = pick();
    seen.set(peer.address, (seen.get(peer.address) ?? 0) + 1);
  }
  return seen;
}

describe('parseTarget', () => {
  it('splits host:port, IPv6 in brackets, and defaults the port to 8000', () => {
    assert.deepEqual(parseTarget('10.0.0.1:81'), { host: '10.0.0.1', port: 81 });
    assert.deepEqual(parseTarget('[::1]:82'), { host: '::1', port: 82 });
    assert.deepEqual(parseTarget('backend'), { host: 'backend', port: 8000 });
  });
});

describe('round-robin', () => {
  it('distributes exactly by weight over a cycle, smoothly, and skips weight 0', () => {
    const upstream = makeUpstream([['a:1', 50], ['b:1', 30], ['c:1', 20], ['off:1', 0]]);
    const balancer = createBalancer(upstream);
    const seen = counts(() => balancer.pick(), 1000);
    assert.deepEqual(Object.fromEntries(seen), { 'a:1': 500, 'b:1': 300, 'c:1': 200 });
    // Smooth: with weights 5:1:1 the heavy peer never gets more than 5 in a row and interleaves.
    const smooth = createBalancer(makeUpstream([['a:1', 5], ['b:1', 1], ['c:1', 1]]));
    const order = Array.from({ length: 7 }, () => smooth.pick().address[0]).join('');
    assert.equal(order, 'aabacaa');
  });

  it('skips unhealthy and excluded peers, and throws NO_PEER when none remain', () => {
    const down = new Set(['b:1']);
    const balancer = createBalancer(makeUpstream(['a:1', 'b:1', 'c:1']), (addr) => !down.has(addr));
    const seen = counts(() => balancer.pick(), 30);
    assert.equal(seen.get('b:1'), undefined);
    const a = balancer.peers.find((p) => p.address === 'a:1')!;
    const c = balancer.peers.find((p) => p.address === 'c:1')!;
    assert.equal(balancer.pick(undefined, new Set([a])).address, 'c:1');
    assert.throws(() => balancer.pick(undefined, new Set([a, c])), (e: unknown) => e instanceof GatewayError && e.code === 'NO_PEER');
    assert.throws(() => createBalancer(makeUpstream([])).pick(), (e: unknown) => e instanceof GatewayError && e.status === 503);
  });

  it('honours the health threshold', () => {
    const down = new Set(['a:1', 'b:1']);
    const upstream = makeUpstream(['a:1', 'b:1', 'c:1'], {
      healthchecks: { ...makeUpstream([]).healthchecks, threshold: 50 },
    });
    const balancer = createBalancer(upstream, (addr) => !down.has(addr));
    assert.throws(() => balancer.pick(), (e: unknown) => e instanceof GatewayError && e.code === 'NO_PEER');
    down.delete('b:1');
    assert.ok(balancer.pick());
  });
});

describe('least-connections', () => {
  it('prefers the peer with the fewest requests in flight per weight', () => {
    const balancer = createBalancer(makeUpstream(['a:1', 'b:1'], { algorithm: 'least-connections' }));
    const first = balancer.pick();
    const second = balancer.pick();
    assert.notEqual(first.address, second.address);
    balancer.release(first);
    assert.equal(balancer.pick().address, first.address);
  });
});

describe('consistent-hashing', () => {
  const targets = Array.from({ length: 5 }, (_, i) => `10.0.0.${i + 1}:80`);
  const keys = Array.from({ length: 5000 }, (_, i) => `user-${i}`);

  it('maps the same key to the same target, across rebuilds', () => {
    const one = createBalancer(makeUpstream(targets, { algorithm: 'consistent-hashing' }));
    const two = createBalancer(makeUpstream(targets, { algorithm: 'consistent-hashing' }));
    for (const key of keys.slice(0, 500)) {
      const a = one.pick(key).address;
      assert.equal(one.pick(key).address, a);
      assert.equal(two.pick(key).address, a);
    }
  });

  it('spreads keys roughly evenly and moves only the removed target’s keys', () => {
    const full = createBalancer(makeUpstream(targets, { algorithm: 'consistent-hashing' }));
    const reduced = createBalancer(makeUpstream(targets.slice(0, 4), { algorithm: 'consistent-hashing' }));
    const before = new Map(keys.map((k) => [k, full.pick(k).address]));
    const share = new Map<string, number>();
    for (const t of before.values()) share.set(t, (share.get(t) ?? 0) + 1);
    for (const [, n] of share) assert.ok(n > 500 && n < 1600, `uneven share ${n}`);
    let moved = 0;
    for (const key of keys) {
      const after = reduced.pick(key).address;
      if (before.get(key) !== targets[4]) {
        if (after !== before.get(key)) moved++;
      } else assert.notEqual(after, targets[4]);
    }
    // Slot granularity may move a handful of keys at ring boundaries, never a large share.
    assert.ok(moved < keys.length * 0.01, `moved ${moved} keys of remaining targets`);
  });

  it('falls over to another target when the hashed one is unhealthy', () => {
    const down = new Set<string>();
    const balancer = createBalancer(makeUpstream(targets, { algorithm: 'consistent-hashing' }), (a) => !down.has(a));
    const home = balancer.pick('sticky').address;
    down.add(home);
    const other = balancer.pick('sticky').address;
    assert.notEqual(other, home);
    assert.equal(balancer.pick('sticky').address, other);
  });

  it('computes the key from hash_on, then hash_fallback', () => {
    const inputs = {
      clientIp: '1.2.3.4',
      headers: { 'x-user': 'alice' },
      path: '/p',
      query: new URLSearchParams('tenant=t1&tenant=t2'),
      uriCaptures: { id: '42' },
      consumerId: 'c-1',
    };
    const up = (o: Parameters<typeof makeUpstream>[1]) => makeUpstream([], { algorithm: 'consistent-hashing', ...o });
    assert.equal(computeHashKey(up({ hash_on: 'header', hash_on_header: 'X-User' }), inputs), 'alice');
    assert.equal(computeHashKey(up({ hash_on: 'ip' }), inputs), '1.2.3.4');
    assert.equal(computeHashKey(up({ hash_on: 'consumer' }), inputs), 'c-1');
    assert.equal(computeHashKey(up({ hash_on: 'path' }), inputs), '/p');
    assert.equal(computeHashKey(up({ hash_on: 'query_arg', hash_on_query_arg: 'tenant' }), inputs), 't1,t2');
    assert.equal(computeHashKey(up({ hash_on: 'uri_capture', hash_on_uri_capture: 'id' }), inputs), '42');
    assert.equal(computeHashKey(up({ hash_on: 'header', hash_on_header: 'x-missing', hash_fallback: 'ip' }), inputs), '1.2.3.4');
    assert.equal(computeHashKey(up({ hash_on: 'none' }), inputs), undefined);
  });
});
