// The free-disk floor (issue 21 hole 9): which place is low, in one line; no floor, no refusal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DiskFloor } from '../../../src/deploy/disk-floor.js';

const MiB = 1024 ** 2;

test('the free-disk floor names the place that is low; none set, or a place it cannot read, passes', async () => {
  const free: Record<string, number> = { '/data': 50 * 1024 ** 3, '/docker': 200 * MiB };
  let floor: number | null = 1024 ** 3;
  const disk = new DiskFloor({
    floor: () => floor,
    places: async () => [
      { what: 'the data dir', path: '/data' },
      { what: "Docker's data root", path: '/docker' },
      { what: 'a remote root', path: '/gone' },
    ],
    freeBytes: async (p) => (p in free ? free[p]! : Promise.reject(new Error('ENOENT'))),
  });
  await assert.rejects(disk.check('the push was refused'), {
    code: 'PAAS_ERR_DISK_LOW',
    message:
      "the push was refused: free disk on Docker's data root (/docker) is 200m, below the floor of 1g (builder:set --global min-free-disk); nothing was written",
  });
  free['/docker'] = 2 * 1024 ** 3;
  await disk.check('x');
  floor = null;
  free['/data'] = 0;
  await disk.check('x');
});
