import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csrfRefusal } from '../../../src/dashboard/csrf-check.js';

const TOKEN = 'a'.repeat(43);
const base = { host: 'paas.example.com', 'content-type': 'application/json', 'x-csrf-token': TOKEN };
const check = (h: Record<string, string | undefined>) => csrfRefusal({ headers: { ...base, ...h } }, TOKEN, 'paas.example.com');

test('a same-origin JSON request with the token passes', () => {
  assert.equal(check({}), null);
  assert.equal(check({ origin: 'https://paas.example.com', 'sec-fetch-site': 'same-origin' }), null);
  assert.equal(check({ 'content-type': 'application/json; charset=utf-8' }), null);
  assert.equal(
    csrfRefusal(
      { headers: { ...base, host: 'paas.example.com:8443', origin: 'https://paas.example.com:8443' } },
      TOKEN,
      'paas.example.com',
    ),
    null,
  );
});

test('forged requests are refused', () => {
  for (const h of [
    { 'x-csrf-token': undefined },
    { 'x-csrf-token': '' },
    { 'x-csrf-token': `${TOKEN}x` },
    { 'x-csrf-token': 'b'.repeat(43) },
    { origin: 'https://evil.example' },
    { origin: 'http://paas.example.com' },
    { origin: 'https://paas.example.com.evil.example' },
    { origin: 'null' },
    { origin: 'https://paas.example.com:444' },
    { 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'same-site' },
    { 'sec-fetch-site': 'none' },
    { 'content-type': 'text/plain' },
    { 'content-type': 'application/x-www-form-urlencoded' },
    { 'content-type': undefined },
  ]) {
    assert.notEqual(check(h), null, JSON.stringify(h));
  }
});
