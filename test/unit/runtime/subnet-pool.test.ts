import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_NETWORK_POOL, parseCidr, pickSubnet } from '../../../src/runtime/subnet-pool.js';

test('the first free /24 of the pool is picked, skipping any overlap with used subnets', () => {
  assert.equal(pickSubnet(DEFAULT_NETWORK_POOL, []), '172.16.0.0/24');
  assert.equal(pickSubnet(DEFAULT_NETWORK_POOL, ['172.16.0.0/24', '172.17.0.0/16']), '172.16.1.0/24');
  assert.equal(pickSubnet(DEFAULT_NETWORK_POOL, ['172.16.0.0/23', '172.16.2.128/25']), '172.16.3.0/24');
  assert.equal(pickSubnet(DEFAULT_NETWORK_POOL, ['172.16.0.5/32']), '172.16.1.0/24', 'a host address inside a /24 takes it');
  assert.equal(pickSubnet(DEFAULT_NETWORK_POOL, ['172.0.0.0/8']), null, 'a host route over the whole pool leaves nothing');
  assert.equal(pickSubnet('10.9.0.0/23', ['10.9.0.0/24']), '10.9.1.0/24');
  assert.equal(pickSubnet('10.9.0.0/23', ['10.9.0.0/24', '10.9.1.0/24']), null, 'a full pool');
  assert.equal(pickSubnet(DEFAULT_NETWORK_POOL, ['fe80::/64', 'garbage']), '172.16.0.0/24', 'non-IPv4 entries are ignored');
});

test('256 apps fit the default pool', () => {
  const used: string[] = [];
  for (let i = 0; i < 256; i++) used.push(pickSubnet(DEFAULT_NETWORK_POOL, used)!);
  assert.equal(new Set(used).size, 256);
  assert.equal(used.at(-1), '172.16.255.0/24');
  assert.equal(pickSubnet(DEFAULT_NETWORK_POOL, used), null);
});

test('CIDRs are parsed strictly', () => {
  assert.deepEqual(parseCidr('172.16.3.7/24'), [172 * 256 ** 3 + 16 * 256 ** 2 + 3 * 256, 256]);
  for (const bad of ['172.16.0.0', '300.1.1.1/24', '1.2.3.4/33', 'x/24']) assert.equal(parseCidr(bad), null, bad);
});
