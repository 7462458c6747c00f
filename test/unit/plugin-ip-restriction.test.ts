import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileIpMatcher, parseIp } from '../../src/plugins/bundled/ip-restriction/ip-matcher.ts';
import { access, compile } from '../../src/plugins/bundled/ip-restriction/handler.ts';
import type { Pdk } from '../../src/plugins/pdk/types.ts';

const MAPPED = 0xffffn << 32n;

function v4Text(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** A 128-bit value in one of IPv6's spellings: full, `::`-compressed, upper case, dotted tail. */
function v6Text(value: bigint, style: number): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  if (style % 4 === 3 && value >> 32n === 0xffffn) return `::ffff:${v4Text(Number(value & 0xffffffffn))}`;
  let text = groups.join(':');
  if (style % 4 >= 1) {
    // Longest run of zero groups (≥ 2) becomes `::`.
    let best = { at: -1, len: 0 };
    for (let i = 0; i < 8; ) {
      let j = i;
      while (j < 8 && groups[j] === '0') j++;
      if (j - i > best.len) best = { at: i, len: j - i };
      i = j === i ? i + 1 : j;
    }
    if (best.len >= 2) text = `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
  }
  return style % 4 === 2 ? text.toUpperCase() : text;
}

type Addr = { family: 4; value: number } | { family: 6; value: bigint };

const v4Num = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const v6Num = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
  v4Num.map((n) => MAPPED + BigInt(n)),
  fc.bigInt({ min: 0n, max: 0xffffn }),
);
const addr: fc.Arbitrary<Addr> = fc.oneof(
  v4Num.map((value) => ({ family: 4 as const, value })),
  v6Num.map((value) => ({ family: 6 as const, value })),
);
const entry = fc.record({ at: addr, length: fc.integer({ min: 0, max: 128 }), style: fc.nat(), bare: fc.boolean() });

/** An address near `base`: the same high bits, random low bits (so ranges are actually hit). */
function near(base: Addr, lowBits: number, noise: bigint): Addr {
  if (base.family === 4) {
    const bits = Math.min(lowBits, 32);
    const mask = bits === 32 ? 0xffffffff : 2 ** bits - 1;
    return { family: 4, value: (base.value ^ (Number(noise & 0xffffffffn) & mask)) >>> 0 };
  }
  return { family: 6, value: base.value ^ (noise & ((1n << BigInt(Math.min(lowBits, 128))) - 1n)) };
}

function text(a: Addr, style: number): string {
  return a.family === 4 ? v4Text(a.value) : v6Text(a.value, style);
}

describe('ip-restriction matcher (property: agrees with node:net BlockList)', () => {
  it('answers as BlockList for random v4, v6 and IPv4-mapped ranges and addresses', () => {
    const stats = [0, 0]; // misses, hits: the generators must exercise both
    fc.assert(
      fc.property(
        fc.array(entry, { minLength: 1, maxLength: 6 }),
        fc.array(fc.record({ from: fc.nat(), bits: fc.integer({ min: 0, max: 130 }), noise: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), style: fc.nat(), random: addr }), { minLength: 1, maxLength: 8 }),
        (entries, probes) => {
          const list = new BlockList();
          const written: string[] = [];
          for (const e of entries) {
            const length = e.at.family === 4 ? e.length % 33 : e.length;
            const address = text(e.at, e.style);
            list.addSubnet(address, length, e.at.family === 4 ? 'ipv4' : 'ipv6');
            written.push(e.bare && length === (e.at.family === 4 ? 32 : 128) ? address : `${address}/${length}`);
          }
          const matcher = compileIpMatcher(written);
          for (const p of probes) {
            const base = entries[p.from % entries.length]!.at;
            const probe = p.bits === 130 ? p.random : near(base, p.bits, p.noise);
            const probeText = text(probe, p.style);
            const expected = list.check(probeText, probe.family === 4 ? 'ipv4' : 'ipv6');
            const parsed = parseIp(probeText);
            assert.ok(parsed, probeText);
            assert.equal(matcher.contains(parsed), expected, `${probeText} in [${written.join(', ')}]`);
            stats[expected ? 1 : 0]! += 1;
          }
        },
      ),
      { numRuns: 3000 },
    );
    assert.ok(stats[0]! > 1000 && stats[1]! > 1000, `misses/hits ${stats.join('/')}`);
  });

  it('treats IPv4-mapped IPv6 as IPv4 on both sides', () => {
    const m = compileIpMatcher(['10.0.0.0/8', '::ffff:192.168.0.0/112', '2001:db8::/32']);
    const has = (ip: string) => m.contains(parseIp(ip)!);
    assert.equal(has('10.1.2.3'), true);
    assert.equal(has('::ffff:10.1.2.3'), true);
    assert.equal(has('::FFFF:a01:203'), true);
    assert.equal(has('192.168.4.5'), true);
    assert.equal(has('192.169.0.1'), false);
    assert.equal(has('2001:db8:1::1'), true);
    assert.equal(has('2001:db9::1'), false);
    assert.equal(has('11.0.0.1'), false);
  });

  it('::/0 covers everyone, 0.0.0.0/0 only IPv4; bad entries throw with the entry', () => {
    assert.equal(compileIpMatcher(['::/0']).contains(parseIp('8.8.8.8')!), true);
    assert.equal(compileIpMatcher(['0.0.0.0/0']).contains(parseIp('::1')!), false);
    assert.equal(compileIpMatcher(['0.0.0.0/0']).contains(parseIp('::ffff:8.8.8.8')!), true);
    for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/', '::1/129', '10.0.0.0/8x', '1.2.3']) {
      assert.throws(() => compileIpMatcher([bad]), new RegExp(`invalid ip or cidr range: '${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}'`));
    }
  });

  it('parseIp rejects non-addresses', () => {
    assert.equal(parseIp('unix:'), undefined);
    assert.equal(parseIp(''), undefined);
    assert.deepEqual(parseIp('[::1]'), { v6: 1n });
  });
});

/** Just enough of the PDK for the access phase: client IP and an error recorder. */
function fakePdk(ip: string) {
  const answered: { status?: number; message?: string } = {};
  const kong = {
    client: { getIp: () => ip },
    response: {
      error(status: number, message?: string) {
        answered.status = status;
        answered.message = message;
      },
    },
  } as unknown as Pdk;
  return { kong, answered };
}

describe('ip-restriction handler', () => {
  it('needs allow or deny', () => {
    assert.throws(() => compile({}), /at least one of these fields must be non-empty: 'config.allow', 'config.deny'/);
    assert.throws(() => compile({ allow: [], deny: null }), /at least one/);
  });

  it('deny wins over allow; outside allow is refused with Kong defaults', () => {
    const conf = compile({ allow: ['10.0.0.0/8'], deny: ['10.0.0.5'] });
    const run = (ip: string) => {
      const { kong, answered } = fakePdk(ip);
      access(kong, conf);
      return answered;
    };
    assert.deepEqual(run('10.0.0.4'), {});
    assert.deepEqual(run('10.0.0.5'), { status: 403, message: 'Your IP address is not allowed' });
    assert.deepEqual(run('11.0.0.1'), { status: 403, message: 'Your IP address is not allowed' });
  });

  it('custom status and message; an unparseable client address is refused', () => {
    const conf = compile({ deny: ['::1'], status: 401, message: 'go away' });
    const { kong, answered } = fakePdk('::1');
    access(kong, conf);
    assert.deepEqual(answered, { status: 401, message: 'go away' });
    const unix = fakePdk('');
    access(unix.kong, conf);
    assert.equal(unix.answered.status, 403);
  });
});
