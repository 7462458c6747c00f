import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createTrustedIps, normalizeIp, resolveClientIp } from '../../src/proxy/trusted-ips.ts';

describe('createTrustedIps', () => {
  const trusted = createTrustedIps(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1']);

  it('matches IPv4 ranges and single addresses', () => {
    assert.equal(trusted.isTrusted('10.1.2.3'), true);
    assert.equal(trusted.isTrusted('192.168.1.7'), true);
    assert.equal(trusted.isTrusted('192.168.1.8'), false);
    assert.equal(trusted.isTrusted('11.0.0.1'), false);
  });

  it('matches IPv6 and treats IPv4-mapped IPv6 as IPv4', () => {
    assert.equal(trusted.isTrusted('fd12::1'), true);
    assert.equal(trusted.isTrusted('::1'), true);
    assert.equal(trusted.isTrusted('fe80::1'), false);
    assert.equal(trusted.isTrusted('::ffff:10.9.9.9'), true);
    assert.equal(trusted.isTrusted('::FFFF:11.9.9.9'), false);
  });

  it('trusts everyone with 0.0.0.0/0 and ::/0, nobody when empty, rejects junk', () => {
    const all = createTrustedIps(['0.0.0.0/0', '::/0']);
    assert.equal(all.isTrusted('8.8.8.8'), true);
    assert.equal(all.isTrusted('2001:db8::1'), true);
    assert.equal(createTrustedIps([]).isTrusted('127.0.0.1'), false);
    assert.equal(trusted.isTrusted('not-an-ip'), false);
    assert.throws(() => createTrustedIps(['10.0.0.0/33']));
    assert.throws(() => createTrustedIps(['example.com']));
  });

  it('IPv4 property: an address is trusted by its /24 iff it shares the first three octets', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(fc.tuple(octet, octet, octet, octet), fc.tuple(octet, octet, octet, octet), (a, b) => {
        const list = createTrustedIps([`${a.join('.')}/24`]);
        const same = a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
        return list.isTrusted(b.join('.')) === same && list.isTrusted(`::ffff:${b.join('.')}`) === same;
      }),
    );
  });
});

describe('normalizeIp', () => {
  it('strips brackets, zones and the v4-mapped prefix', () => {
    assert.equal(normalizeIp('[::1]'), '::1');
    assert.equal(normalizeIp('fe80::1%eth0'), 'fe80::1');
    assert.equal(normalizeIp('::ffff:1.2.3.4'), '1.2.3.4');
    assert.equal(normalizeIp(' 1.2.3.4 '), '1.2.3.4');
    assert.equal(normalizeIp('1.2.3'), undefined);
  });
});

describe('resolveClientIp (nginx realip semantics)', () => {
  const trusted = createTrustedIps(['10.0.0.0/8']);
  const xff = 'x-forwarded-for';

  it('ignores the header when the peer is not trusted', () => {
    assert.equal(resolveClientIp('1.1.1.1', { 'x-real-ip': '2.2.2.2' }, trusted), '1.1.1.1');
    assert.equal(resolveClientIp('::ffff:1.1.1.1', { [xff]: '2.2.2.2' }, trusted, xff), '1.1.1.1');
  });

  it('uses X-Real-IP from a trusted peer by default', () => {
    assert.equal(resolveClientIp('10.0.0.1', { 'x-real-ip': '2.2.2.2' }, trusted), '2.2.2.2');
    assert.equal(resolveClientIp('10.0.0.1', {}, trusted), '10.0.0.1');
    assert.equal(resolveClientIp('10.0.0.1', { 'x-real-ip': 'garbage' }, trusted), '10.0.0.1');
  });

  it('takes the last X-Forwarded-For address when not recursive', () => {
    assert.equal(resolveClientIp('10.0.0.1', { [xff]: '3.3.3.3, 2.2.2.2, 10.0.0.5' }, trusted, xff, false), '10.0.0.5');
  });

  it('takes the last untrusted X-Forwarded-For address when recursive', () => {
    assert.equal(resolveClientIp('10.0.0.1', { [xff]: '3.3.3.3, 2.2.2.2, 10.0.0.5' }, trusted, xff, true), '2.2.2.2');
    assert.equal(resolveClientIp('10.0.0.1', { [xff]: ['3.3.3.3', '10.0.0.9'] }, trusted, xff, true), '3.3.3.3');
    assert.equal(resolveClientIp('10.0.0.1', { [xff]: '10.0.0.8, 10.0.0.9' }, trusted, xff, true), '10.0.0.8');
  });

  it('property: an untrusted peer is always the answer; a trusted one never yields a trusted address while an untrusted one is in the chain (recursive)', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const ip = fc.oneof(
      fc.tuple(octet, octet, octet).map(([a, b, c]) => `10.${a}.${b}.${c}`),
      fc.tuple(fc.integer({ min: 11, max: 223 }), octet, octet, octet).map((t) => t.join('.')),
    );
    fc.assert(
      fc.property(ip, fc.array(ip, { maxLength: 6 }), (peer, chain) => {
        const headers = { [xff]: chain.join(', ') };
        const result = resolveClientIp(peer, headers, trusted, xff, true);
        if (!trusted.isTrusted(peer)) return result === peer;
        if (chain.length === 0) return result === peer;
        const untrusted = chain.filter((a) => !trusted.isTrusted(a));
        if (untrusted.length === 0) return result === chain[0];
        return result === untrusted[untrusted.length - 1];
      }),
    );
  });
});
