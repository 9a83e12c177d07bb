import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type Dockerode from 'dockerode';
import { followSwarmChanges, parseSwarmChange, type SwarmChange } from '../../../../src/swarm/scheduler/swarm-change-feed.js';
import { recordingLogger } from '../../fakes/app-services-fakes.js';

test('a node event carries its new state; other lines are no change', () => {
  const down = JSON.stringify({
    Type: 'node',
    Action: 'update',
    Actor: { ID: 'n1', Attributes: { 'state.old': 'ready', 'state.new': 'down' } },
  });
  assert.deepEqual(parseSwarmChange(down), { type: 'node', action: 'update', state: 'down' });
  assert.deepEqual(parseSwarmChange('{"Type":"service","Action":"update"}'), { type: 'service', action: 'update' });
  assert.equal(parseSwarmChange('{"Type":"node"}'), null);
  assert.equal(parseSwarmChange('not json'), null);
});

test('changes are reported line by line (split across chunks); a broken stream is opened again; abort stops it', async () => {
  const streams: PassThrough[] = [];
  const asked: unknown[] = [];
  const docker = {
    getEvents: async (opts: unknown) => {
      asked.push(opts);
      const s = new PassThrough();
      streams.push(s);
      return s;
    },
  } as unknown as Dockerode;
  const seen: SwarmChange[] = [];
  const ac = new AbortController();
  followSwarmChanges(docker, recordingLogger().log, (c) => seen.push(c), ac.signal);
  const until = async (what: string, ok: () => boolean) => {
    for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(ok(), what);
  };
  await until('the first stream', () => streams.length === 1);
  assert.deepEqual(asked[0], { filters: { type: ['node', 'service'] } });
  streams[0]!.write('{"Type":"node","Action":"update","Actor":{"Attributes":{"state.new":"do');
  streams[0]!.write('wn"}}}\n{"Type":"service","Action":"remove"}\n');
  await until('two changes', () => seen.length === 2);
  assert.deepEqual(seen[0], { type: 'node', action: 'update', state: 'down' });
  streams[0]!.end();
  await until('a second stream after the first ended', () => streams.length === 2);
  ac.abort();
  await until('the stream closed on abort', () => streams[1]!.destroyed);
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(streams.length, 2, 'no reconnect after abort');
});
