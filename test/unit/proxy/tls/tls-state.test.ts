import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseTlsState } from '../../../../src/proxy/tls/tls-state.js';
import { nameCovers } from '../../../../src/util/x509-names.js';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

describe('parseTlsState', () => {
  test('accepts a well-formed state', () => {
    const s = parseTlsState({
      certs: [{ id: 'a/custom', cert: CERT, key: KEY }],
      hosts: { 'a.example.com': { cert: 'a/custom', redirect: true, hsts: false } },
    });
    assert.equal(s.certs.length, 1);
    assert.deepEqual(s.hosts['a.example.com'], { cert: 'a/custom', redirect: true, hsts: false });
  });

  const bad: [string, unknown, RegExp][] = [
    ['not an object', 'x', /must be an object/],
    ['certs not an array', { certs: {}, hosts: {} }, /certs must be an array/],
    [
      'duplicate id',
      {
        certs: [
          { id: 'x', cert: CERT, key: KEY },
          { id: 'x', cert: CERT, key: KEY },
        ],
        hosts: {},
      },
      /unique/,
    ],
    ['no PEM certificate', { certs: [{ id: 'x', cert: 'hello', key: KEY }], hosts: {} }, /PEM certificate/],
    ['no PEM key', { certs: [{ id: 'x', cert: CERT, key: CERT }], hosts: {} }, /PEM private key/],
    ['host naming no cert', { certs: [], hosts: { 'a.com': { cert: 'x', redirect: true, hsts: true } } }, /must name one of certs/],
    [
      'bad host',
      { certs: [{ id: 'x', cert: CERT, key: KEY }], hosts: { 'a b': { cert: 'x', redirect: true, hsts: true } } },
      /not a host name/,
    ],
    [
      'non-boolean redirect',
      { certs: [{ id: 'x', cert: CERT, key: KEY }], hosts: { 'a.com': { cert: 'x', redirect: 'yes', hsts: true } } },
      /booleans/,
    ],
  ];
  for (const [name, input, re] of bad) {
    test(`refuses ${name}`, () => assert.throws(() => parseTlsState(input), re));
  }
});

describe('nameCovers', () => {
  test('exact names and one-label wildcards', () => {
    assert.ok(nameCovers('a.example.com', 'a.example.com'));
    assert.ok(nameCovers('*.example.com', 'a.example.com'));
    assert.ok(!nameCovers('*.example.com', 'example.com'));
    assert.ok(!nameCovers('*.example.com', 'a.b.example.com'));
    assert.ok(!nameCovers('a.example.com', 'b.example.com'));
  });
});
