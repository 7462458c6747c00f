import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileChannelPolicies, DEFAULT_CHANNEL_POLICY, storageOf } from '../../src/pubsub/policies.ts';

describe('channel policies', () => {
  const policies = compileChannelPolicies([
    { name: 'all', match: '*', message_buffer_length: 1 },
    { name: 'chat', match: 'chat:*', message_buffer_length: 100, message_timeout: 0 },
    { name: 'room', match: 'chat:room:*', max_subscribers: 5 },
    { name: 'lobby', match: 'chat:room:lobby', subscribe_existing_only: true, channel_timeout: 30, max_message_size: 1024 },
    { name: 'mid', match: 'a*z' },
  ]);

  it('uses nchan defaults without entries', () => {
    const p = compileChannelPolicies([]).policyFor('x');
    assert.deepEqual(p, DEFAULT_CHANNEL_POLICY);
    assert.equal(p.bufferLength, 10);
    assert.equal(p.messageTimeout, 3600);
    assert.deepEqual(storageOf(p), { bufferLength: 10, messageTimeout: 3600, channelTimeout: 0 });
  });

  it('the most specific pattern wins; unset fields take the defaults', () => {
    assert.equal(policies.policyFor('chat:room:lobby').name, 'lobby');
    assert.equal(policies.policyFor('chat:room:lobby').subscribeExistingOnly, true);
    assert.equal(policies.policyFor('chat:room:lobby').bufferLength, 10);
    assert.equal(policies.policyFor('chat:room:7').name, 'room');
    assert.equal(policies.policyFor('chat:room:7').maxSubscribers, 5);
    assert.equal(policies.policyFor('chat:x').name, 'chat');
    assert.equal(policies.policyFor('chat:x').messageTimeout, 0);
    assert.equal(policies.policyFor('abz').name, 'mid');
    assert.equal(policies.policyFor('az').name, 'mid');
    assert.equal(policies.policyFor('other').name, 'all');
    assert.equal(policies.policyFor('').name, 'all');
  });

  it('treats regex characters literally and ties go to the first entry', () => {
    const p = compileChannelPolicies([
      { name: 'first', match: 'a.*' },
      { name: 'second', match: '*.b' },
      { name: 'dots', match: 'x.y' },
    ]);
    assert.equal(p.policyFor('a.b').name, 'first');
    assert.equal(p.policyFor('axb').name, undefined);
    assert.equal(p.policyFor('x.y').name, 'dots');
    assert.equal(p.policyFor('xzy').name, undefined);
    assert.equal(p.policyFor('a.\nb').name, 'first');
  });
});
