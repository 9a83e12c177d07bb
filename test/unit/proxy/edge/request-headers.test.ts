import assert from 'node:assert/strict';
import type http from 'node:http';
import { test } from 'node:test';
import { isValidRequestId, MAX_REQUEST_ID, requestIdFor, upstreamRequestHeaders } from '../../../../src/proxy/edge/request-headers.js';
import { TrustedProxies } from '../../../../src/util/trusted-proxies.js';

/** Enough of a client request for the header functions. */
function fakeRequest(headers: Array<[string, string]>, peer = '198.51.100.4'): http.IncomingMessage {
  const lower: Record<string, string> = {};
  for (const [k, v] of headers) lower[k.toLowerCase()] = lower[k.toLowerCase()] === undefined ? v : `${lower[k.toLowerCase()]}, ${v}`;
  return { rawHeaders: headers.flat(), headers: lower, socket: { remoteAddress: peer } } as unknown as http.IncomingMessage;
}

test('a valid request id is 1 to 128 characters of A-Z a-z 0-9 . _ : -', () => {
  for (const ok of ['a', 'A-9', '5f1c2a9e-1k', '01HF8K3Q8Z:web.1_x', 'x'.repeat(MAX_REQUEST_ID), '550e8400-e29b-41d4-a716-446655440000']) {
    assert.equal(isValidRequestId(ok), true, ok);
  }
  for (const bad of [
    '',
    'x'.repeat(MAX_REQUEST_ID + 1),
    'a b',
    'a,b',
    'a/b',
    'a\tb',
    'a\u00e9',
    'id;drop',
    'a"b',
    '<script>',
    'a=b',
    '%41',
  ]) {
    assert.equal(isValidRequestId(bad), false, JSON.stringify(bad));
  }
});

test("a client's valid X-Request-Id is kept, from anyone; an invalid one, or two of them, is replaced", () => {
  let n = 0;
  const gen = () => `gen-${++n}`;
  assert.equal(requestIdFor(fakeRequest([['X-Request-Id', 'client-42']]), gen), 'client-42');
  assert.equal(requestIdFor(fakeRequest([['X-Request-Id', 'has space']]), gen), 'gen-1');
  assert.equal(requestIdFor(fakeRequest([['X-Request-Id', 'x'.repeat(129)]]), gen), 'gen-2');
  assert.equal(requestIdFor(fakeRequest([]), gen), 'gen-3');
  // two headers reach Node joined with ', ': not a valid id
  assert.equal(
    requestIdFor(
      fakeRequest([
        ['X-Request-Id', 'a'],
        ['X-Request-Id', 'b'],
      ]),
      gen,
    ),
    'gen-4',
  );
});

test('the chosen id is the one sent upstream, and the client header is not sent twice', () => {
  const req = fakeRequest([
    ['Host', 'a.test'],
    ['X-Request-Id', 'client-42'],
  ]);
  const id = requestIdFor(req, () => 'never');
  const out = upstreamRequestHeaders(req, new TrustedProxies([]), { requestId: id, https: false, chunked: false });
  const ids = out.filter((_, i) => i % 2 === 0 && out[i].toLowerCase() === 'x-request-id').length;
  assert.equal(ids, 1);
  assert.equal(out[out.indexOf('X-Request-Id') + 1], 'client-42');
});
