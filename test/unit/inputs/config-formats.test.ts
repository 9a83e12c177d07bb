import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkExportFormat,
  decodeEncodedPairs,
  EXPORT_FORMATS,
  formatConfig,
  parseConfigText,
} from '../../../src/inputs/config-formats.js';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return 'no error';
};

const hostile = {
  PLAIN: 'hello',
  EMPTY: '',
  MULTI: 'line one\nline "two"\n\tthree',
  QUOTES: `it's a "test" with \\ backslash and $HOME and \`cmd\``,
  EQUALS: 'a=b=c',
  UNICODE: 'héllo ✓',
  SPACES: '  padded  ',
  CRLF: 'a\r\nb',
  HASH: 'value # not a comment',
};

test('every export format reads back to the same vars', () => {
  for (const f of EXPORT_FORMATS) assert.deepEqual(parseConfigText(formatConfig(hostile, f)), hostile, f);
});

test('shell export is sourceable-looking single-quoted lines sorted by key', () => {
  assert.equal(formatConfig({ B: "x'y", A: '1' }, 'shell'), `export A='1'\nexport B='x'\\''y'\n`);
  assert.equal(formatConfig({ A: 'a\nb' }, 'envfile'), 'A="a\\nb"\n');
});

test('--encoded values are base64 decoded, wrapped base64 too', () => {
  const v = 'multi\nline "quoted" \'x\'';
  const b64 = Buffer.from(v).toString('base64');
  assert.deepEqual(decodeEncodedPairs([`K=${b64}`, 'E=']), { K: v, E: '' });
  assert.deepEqual(decodeEncodedPairs([`K=${b64.slice(0, 8)}\n${b64.slice(8)}`]), { K: v });
});

test('bad base64 and non-UTF-8 bytes are refused', () => {
  assert.equal(
    code(() => decodeEncodedPairs(['K=not base64!'])),
    'PAAS_ERR_CONFIG_ENCODING',
  );
  assert.equal(
    code(() => decodeEncodedPairs(['K=abc=d'])),
    'PAAS_ERR_CONFIG_ENCODING',
  );
  assert.equal(
    code(() => decodeEncodedPairs(['K=a'])),
    'PAAS_ERR_CONFIG_ENCODING',
  );
  assert.equal(
    code(() => decodeEncodedPairs([`K=${Buffer.from([0xff, 0xfe]).toString('base64')}`])),
    'PAAS_ERR_CONFIG_ENCODING',
  );
  assert.equal(
    code(() => decodeEncodedPairs(['1BAD=aGk='])),
    'PAAS_ERR_CONFIG_KEY',
  );
});

test('import reads comments, blank lines, export prefixes, bare and quoted values', () => {
  const text = '# comment\n\nexport A=1\nB="two words"  # trailing comment\r\nC=\'x\'\nD=bare\n';
  assert.deepEqual(parseConfigText(text), { A: '1', B: 'two words', C: 'x', D: 'bare' });
  assert.deepEqual(parseConfigText('{"N": 3, "T": true, "S": "s"}'), { N: '3', T: 'true', S: 's' });
});

test('malformed import input is refused whole', () => {
  const bad = [
    'A=1\nnot a pair\n',
    'A="unterminated\n',
    "A='unterminated\n",
    'A="x"junk\n',
    'A=two words\n',
    '1A=x\n',
    '{"A": {"nested": 1}}',
    '{"A": 1',
    '[1,2]',
    '',
    '# only a comment\n',
    'A=x\0\n',
  ];
  for (const t of bad) assert.match(String(code(() => parseConfigText(t))), /PAAS_ERR_CONFIG_(IMPORT|KEY)/, JSON.stringify(t));
});

test('--format takes shell, json or envfile', () => {
  assert.equal(checkExportFormat(undefined), 'shell');
  assert.equal(checkExportFormat('json'), 'json');
  assert.equal(
    code(() => checkExportFormat('yaml')),
    'PAAS_ERR_CONFIG_FORMAT',
  );
});
