// The event watcher tells app.crashed for a container paas did not stop (die, oom), and nothing
// for its own stops, other actions, or apps of another server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Notice } from '../../../src/contracts/notification-sink.js';
import { EventWatcher } from '../../../src/deploy/event-watcher.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { DockerEvent } from '../../../src/runtime/docker-events.js';

test('die and oom of a container paas did not stop become app.crashed with the replica and exit code', () => {
  const notices: Notice[] = [];
  let emit!: (e: DockerEvent) => void;
  const ac = new AbortController();
  const w = new EventWatcher(
    { events: (onEvent) => (emit = onEvent), isOwnEvent: (e) => e.id === 'own' },
    { convergeApp: async () => true },
    { isLocked: () => false },
    () => ['shop'],
    silentLogger(),
    { debounceMs: 60_000, notify: { notify: (n) => notices.push(n) } },
  );
  w.start(ac.signal);
  const ev = (e: Partial<DockerEvent>): DockerEvent => ({
    action: 'die',
    id: 'c1',
    time: 0,
    app: 'shop',
    process: 'web',
    release: 4,
    replica: 2,
    ...e,
  });
  emit(ev({ exitCode: 137 }));
  emit(ev({ action: 'oom' }));
  emit(ev({ id: 'own', exitCode: 0 })); // paas stopped it
  emit(ev({ action: 'start' }));
  emit(ev({ action: 'destroy' }));
  emit(ev({ app: 'other', exitCode: 1 })); // not this server's app
  ac.abort();
  assert.deepEqual(notices, [
    { event: 'app.crashed', app: 'shop', release: 4, message: 'container web.2 exited with code 137; paas restarts it' },
    { event: 'app.crashed', app: 'shop', release: 4, message: 'container web.2 was killed: out of memory; paas restarts it' },
  ]);
});
