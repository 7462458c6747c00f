/**
 * Header edits on a flat `writeHead` list (the head of a proxied response whose plugins have no
 * response phase) give exactly what the same edits give on a header object (the held head that
 * header_filter sees): same names, values and order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { applyHeaderEdits, applyHeaderEditsToList, type HeaderEdit, type OutHeaders } from '../../src/gateway/header-edits.ts';
import type { HeaderList } from '../../src/proxy/index.ts';

function asList(headers: OutHeaders): HeaderList {
  return Object.entries(headers).flatMap(([name, value]) => [name, value]);
}

describe('applyHeaderEditsToList', () => {
  it('replaces in place, appends new names, merges adds into a list, removes cleared names', () => {
    const list: HeaderList = ['content-type', 'text/plain', 'x-up', '1', 'via', '1.1 sluice'];
    const edits: HeaderEdit[] = [
      { op: 'set', name: 'x-up', value: 'replaced' },
      { op: 'add', name: 'x-new', value: 'a' },
      { op: 'add', name: 'x-new', value: 'b' },
      { op: 'clear', name: 'content-type' },
      { op: 'set', name: 'x-many', value: ['m1', 'm2'] },
      { op: 'clear', name: 'absent' },
    ];
    assert.deepEqual(applyHeaderEditsToList(list, edits), ['x-up', 'replaced', 'via', '1.1 sluice', 'x-new', ['a', 'b'], 'x-many', ['m1', 'm2']]);
  });

  it('a name cleared then set again moves to the end, as on an object', () => {
    const edits: HeaderEdit[] = [
      { op: 'clear', name: 'a' },
      { op: 'set', name: 'a', value: 'again' },
    ];
    assert.deepEqual(applyHeaderEditsToList(['a', '1', 'b', '2'], edits), ['b', '2', 'a', 'again']);
    assert.deepEqual(asList(applyHeaderEdits({ a: '1', b: '2' }, edits)), ['b', '2', 'a', 'again']);
  });

  it('does not share a set value with the edit', () => {
    const value = ['x', 'y'];
    const list = applyHeaderEditsToList([], [{ op: 'set', name: 'a', value }]);
    value.push('z');
    assert.deepEqual(list, ['a', ['x', 'y']]);
  });

  it('any edit sequence: the same headers, in the same order, as the object form', () => {
    const name = fc.constantFrom('a', 'b', 'c', 'x-ratelimit-limit-minute', 'set-cookie', 'via');
    const value = fc.constantFrom('1', '2', 'three');
    const edit: fc.Arbitrary<HeaderEdit> = fc.oneof(
      fc.record({ op: fc.constant('set' as const), name, value: fc.oneof(value, fc.array(value, { minLength: 1, maxLength: 3 })) }),
      fc.record({ op: fc.constant('add' as const), name, value }),
      fc.record({ op: fc.constant('clear' as const), name }),
    );
    const start = fc.dictionary(name, fc.oneof(value, fc.array(value, { minLength: 1, maxLength: 2 })), { maxKeys: 4 });
    fc.assert(
      fc.property(start, fc.array(edit, { maxLength: 12 }), (headers, edits) => {
        const fromObject = asList(applyHeaderEdits(structuredClone(headers), edits));
        const fromList = applyHeaderEditsToList(asList(structuredClone(headers)), edits);
        assert.deepEqual(fromList, fromObject);
      }),
    );
  });
});
