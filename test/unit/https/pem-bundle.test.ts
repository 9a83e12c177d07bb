// The PEM bundle parser of certs:add: the same blocks as the regex it replaced, on valid bundles
// and on crafted ones, and linear time on the inputs that made that regex quadratic (a 256 KiB
// bundle of BEGIN lines without END blocked the control plane's event loop for ~2 s per call).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { AppError } from '../../../src/errors/app-error.js';
import { MAX_PEM_BUNDLE_BYTES, parsePemBundle, pemBlocks } from '../../../src/https/pem-bundle.js';

/** The regex the parser used before: the reference for what a block is. */
const OLD_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;
const oldBlocks = (text: string) => [...text.matchAll(OLD_BLOCK)].map((m) => ({ type: m[1], pem: `${m[0]}\n` }));

const KiB = 1024;
const BEGIN_CERT = '-----BEGIN CERTIFICATE-----\n';
/** Crafted bundles of 256 KiB that make a backtracking parser scan to the end once per line. */
const crafted: Record<string, string> = {
  'short BEGIN lines with no END (old regex: ~2 s)': '-----BEGIN A-----\n'.repeat(Math.floor((256 * KiB) / 18)),
  'BEGIN lines with no END': BEGIN_CERT.repeat(Math.floor((256 * KiB) / BEGIN_CERT.length)),
  'a BEGIN then a long run of base64 with no END': `${BEGIN_CERT}${'QUJD'.repeat((256 * KiB - BEGIN_CERT.length) / 4)}`,
  'nested BEGINs of other labels, one END at the very end': `${'-----BEGIN X-----\n-----BEGIN Y-----\n'.repeat(7000)}-----END Y-----`,
  'BEGIN lines of distinct labels, each without END': Array.from({ length: 8000 }, (_, i) => `-----BEGIN L${i}-----\n`).join(''),
  'ENDs of the wrong label after every BEGIN': `-----BEGIN CERTIFICATE-----\n-----END PRIVATE KEY-----\n`.repeat(4800),
  'one endless label': `-----BEGIN ${'A'.repeat(256 * KiB - 20)}`,
};

function selfSigned(dir: string, cn: string): { cert: string; key: string } {
  const key = path.join(dir, `${cn}.key`);
  const crt = path.join(dir, `${cn}.crt`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30'].concat([
      '-subj',
      `/CN=${cn}`,
      '-addext',
      `subjectAltName=DNS:${cn}`,
      '-keyout',
      key,
      '-out',
      crt,
    ]),
    { stdio: 'ignore' },
  );
  return { cert: fs.readFileSync(crt, 'utf8'), key: fs.readFileSync(key, 'utf8') };
}

describe('pemBlocks finds exactly the blocks the old regex found', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-pem-'));
  const a = selfSigned(dir, 'a.example');
  const b = selfSigned(dir, 'b.example');
  const cases: Record<string, string> = {
    'chain then key': a.cert + b.cert + a.key,
    'key first, CRLF line ends': (a.key + a.cert).replace(/\n/g, '\r\n'),
    'text around and between blocks': `subject=a\n${a.cert}junk -----END CERTIFICATE----- more\n${a.key}trailer`,
    'BEGIN inside a block': `-----BEGIN CERTIFICATE-----\nAAAA\n-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n`,
    'BEGIN without END, then a good block': `-----BEGIN PRIVATE KEY-----\nAAAA\n${a.cert}`,
    'END glued to the next BEGIN': `-----BEGIN X-----\nA-----END X----------BEGIN X-----\nB-----END X-----`,
    'header without newline, lone CR, lower-case label': `-----BEGIN X-----A\n-----END X-----\n-----BEGIN X-----\rB-----END X-----\n-----BEGIN x-----\nC-----END x-----`,
    'empty body and labels with spaces': `-----BEGIN EC PRIVATE KEY-----\n-----END EC PRIVATE KEY-----`,
    'END of a longer label does not close': `-----BEGIN A-----\n-----END AB-----\n-----END A-----`,
    'dashes before markers': `------BEGIN A-----\nx------END A-----`,
    empty: '',
    ...crafted,
  };
  for (const [name, text] of Object.entries(cases)) {
    test(name, () => assert.deepEqual(pemBlocks(text), oldBlocks(text)));
  }
  test('random mixes of marker fragments', () => {
    const parts = ['-----BEGIN ', '-----END ', 'A', 'B', 'CERTIFICATE', ' ', '-----', '\n', '\r\n', '\r', 'x', '-'];
    let seed = 21;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 3000; i++) {
      const text = Array.from({ length: 1 + rnd(40) }, () => parts[rnd(parts.length)]).join('');
      assert.deepEqual(pemBlocks(text), oldBlocks(text), JSON.stringify(text));
    }
  });
  test('parsePemBundle still orders the leaf first and keeps each block as given', () => {
    const p = parsePemBundle(b.cert + a.key + a.cert);
    assert.deepEqual(p.names, ['a.example']);
    assert.equal(p.chainPem, `${a.cert.trimEnd()}\n${b.cert.trimEnd()}\n`);
    assert.equal(p.keyPem, `${a.key.trimEnd()}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('parsing a crafted 256 KiB bundle takes linear time', () => {
  for (const [name, text] of Object.entries(crafted)) {
    test(name, () => {
      assert.ok(Buffer.byteLength(text) <= MAX_PEM_BUNDLE_BYTES, `${Buffer.byteLength(text)} bytes is within the cap`);
      const t0 = performance.now();
      assert.throws(() => parsePemBundle(text), AppError);
      const ms = performance.now() - t0;
      assert.ok(ms < 100, `${name}: ${ms.toFixed(1)} ms (the old regex took ~2 s on the first one)`);
    });
  }
  test('a bundle over the cap is refused before it is parsed', () => {
    const big = BEGIN_CERT.repeat(Math.ceil((MAX_PEM_BUNDLE_BYTES + 1) / BEGIN_CERT.length));
    assert.throws(() => parsePemBundle(big), { code: 'PAAS_ERR_CERT_INVALID_PEM', message: /larger than 256 KiB/ });
  });
});
