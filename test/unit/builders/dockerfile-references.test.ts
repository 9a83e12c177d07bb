import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dockerfileImageRefs, triggerImageRefs } from '../../../src/builders/dockerfile-references.js';

// Which images a Dockerfile makes the classic builder read, as the Docker 20.10 engine reads the
// file. The surprising cases (flag quoting, COPY --from not expanded, proxy build args in FROM, the
// escape directive after `# syntax`, ${X-d} refused) were built with DOCKER_BUILDKIT=0 on this host
// to confirm the engine reads them the same way.

const refs = (text: string, args: Record<string, string> = {}) => dockerfileImageRefs(text, args).map((r) => r.ref);
const BAD_SOURCE = { code: 'PAAS_ERR_BUILD_BAD_SOURCE' };

describe('FROM', () => {
  test('image, --platform, AS name; later stages that name an earlier one (any case) and scratch are no image', () => {
    const text = [
      'FROM --platform=linux/amd64 paas/victim:v1 AS Build',
      'RUN make',
      'from build',
      'FROM BUILD AS again',
      'FROM scratch',
      'From busybox:1',
    ].join('\n');
    assert.deepEqual(refs(text), ['paas/victim:v1', 'busybox:1']);
    const uses = dockerfileImageRefs(text, {});
    assert.equal(uses[0]!.where, 'line 1: FROM --platform=linux/amd64 paas/victim:v1 AS Build');
    assert.deepEqual(uses[1]!.stagesBefore, ['build', '', 'again', '']);
    assert.ok(uses.every((u) => u.base));
  });

  test('global ARGs with defaults, overridden by build args, chained; ${X:-d} and ${X:+w}; quotes removed', () => {
    assert.deepEqual(refs('ARG B=paas/victim:v1\nFROM $B'), ['paas/victim:v1']);
    assert.deepEqual(refs('ARG B=busybox:1\nFROM ${B}', { B: 'paas/victim:v1' }), ['paas/victim:v1']);
    assert.deepEqual(refs('ARG B\nFROM $B', { B: 'paas/victim:v1' }), ['paas/victim:v1']);
    assert.deepEqual(refs('ARG A=victim\nARG B=paas/${A}:v1\nFROM $B'), ['paas/victim:v1']);
    assert.deepEqual(refs('ARG A=paas B=victim:v1\nFROM $A/$B'), ['paas/victim:v1']);
    assert.deepEqual(refs('ARG A="paas/victim:v1"\nFROM $A'), ['paas/victim:v1']);
    assert.deepEqual(refs('FROM paas/victim:${T:-v1}'), ['paas/victim:v1']);
    assert.deepEqual(refs('ARG T=x\nFROM paas/victim:${T:+v1}'), ['paas/victim:v1']);
    assert.deepEqual(refs('FROM "paas/victim:v1"'), ['paas/victim:v1']);
    assert.deepEqual(refs("FROM paas/'victim':v1"), ['paas/victim:v1']);
  });

  test('a build arg reaches FROM only through an ARG before the first FROM (or as a proxy builtin)', () => {
    // the engine: an undeclared $T is empty, an ARG inside a stage is not seen by the next FROM
    assert.deepEqual(refs('FROM paas/victim:${T}', { T: 'v1' }), ['paas/victim:']);
    assert.deepEqual(refs('FROM busybox:1\nARG A=paas/victim:v1\nFROM $A'), ['busybox:1', '']);
    assert.deepEqual(refs('FROM $HTTP_PROXY', { HTTP_PROXY: 'paas/victim:v1' }), ['paas/victim:v1']);
    assert.deepEqual(refs('ARG X=$https_proxy\nFROM $X', { https_proxy: 'paas/victim:v1' }), ['paas/victim:v1']);
  });

  test('what the engine would not read either is refused, not guessed', () => {
    for (const bad of [
      'FROM ${A%x}',
      'FROM ${A-x}',
      'FROM ${A',
      'FROM "paas/victim:v1',
      "FROM 'x",
      'FROM a b',
      'RUN true\nFROM busybox',
      '# escape=x\nFROM busybox',
      '# escape=\\\n# escape=`\nFROM busybox',
    ])
      assert.throws(() => refs(bad), BAD_SOURCE, bad);
  });
});

describe('COPY --from and friends', () => {
  test('images, not earlier stages (any case) or indexes; quotes and backslashes of the flag as the engine reads them', () => {
    const text = [
      'FROM busybox:1 AS base',
      'FROM busybox:1',
      'COPY --from=BASE /a /a',
      'COPY --from=0 /a /a',
      'COPY --from=paas/victim:v1 /secret /x',
      'COPY --chown=0:0 --from="paas/victim:v2" ["/secret", "/x"]',
      "COPY --from='paas/vic'tim:v3 /secret /x",
      'COPY --from=paas/vic\\tim:v4 /secret /x',
      'ADD --from=paas/victim:v5 /secret /x',
      'RUN --mount=type=bind,from=paas/victim:v6,target=/m cat /m/secret',
      'COPY --from=later /a /a',
      'copy /a --from=not-a-flag /b',
    ].join('\n');
    assert.deepEqual(refs(text), [
      'busybox:1',
      'busybox:1',
      'paas/victim:v1',
      'paas/victim:v2',
      'paas/victim:v3',
      'paas/victim:v4',
      'paas/victim:v5',
      'paas/victim:v6',
      'later',
    ]);
  });

  test('COPY --from is not ARG-expanded by the classic builder: the literal is what it resolves', () => {
    assert.deepEqual(refs('ARG B=paas/victim:v1\nFROM busybox:1\nCOPY --from=$B /a /b'), ['busybox:1', '$B']);
  });

  test('continuations, comments and blank lines inside them, CRLF, a BOM, lower-case instructions', () => {
    const text = '\uFEFFfrom busybox:1\r\ncopy \\\r\n# a comment\r\n   --from=paas/victim:v1 \\\r\n\r\n   /secret /x\r\n';
    const uses = dockerfileImageRefs(text, {});
    assert.deepEqual(
      uses.map((u) => u.ref),
      ['busybox:1', 'paas/victim:v1'],
    );
    assert.match(uses[1]!.where, /^line 2: copy --from=paas\/victim:v1 \/secret \/x$/);
  });

  test('the escape directive changes the continuation character; after any other line it is a comment', () => {
    assert.deepEqual(refs('# escape=`\nFROM busybox:1\nCOPY `\n --from=paas/victim:v1 /a /b'), ['busybox:1', 'paas/victim:v1']);
    assert.deepEqual(refs('# syntax=x\n# ESCAPE = `\nFROM busybox:1\nCOPY `\n --from=paas/victim:v1 /a /b'), [
      'busybox:1',
      'paas/victim:v1',
    ]);
    // after a blank line the directive is a comment: ` is no continuation, the next line is an instruction of its own
    assert.deepEqual(refs('\n# escape=`\nFROM busybox:1\nCOPY --from=paas/victim:v1 `\n /a /b'), ['busybox:1', 'paas/victim:v1']);
    assert.deepEqual(refs('# escape=`\nFROM paas/vic`tim:v1'), ['paas/victim:v1']);
  });

  test('ONBUILD lines of the Dockerfile itself count (they run where a later stage builds FROM this one)', () => {
    assert.deepEqual(refs('FROM busybox:1 AS trap\nONBUILD COPY --from=paas/victim:v1 /s /x\nFROM trap'), ['busybox:1', 'paas/victim:v1']);
    assert.deepEqual(refs('FROM busybox:1\nonbuild copy --from=3 /s /x'), ['busybox:1']);
  });
});

describe('ONBUILD triggers of a base image', () => {
  test('one instruction each; a COPY --from naming an earlier stage of this build is no image', () => {
    assert.deepEqual(
      triggerImageRefs('COPY --from=paas/victim:v1 /secret /x', [], 'line 1').map((r) => r.ref),
      ['paas/victim:v1'],
    );
    assert.deepEqual(
      triggerImageRefs('copy --from=builder /a /b', ['builder'], 'line 3').map((r) => r.ref),
      [],
    );
    assert.deepEqual(
      triggerImageRefs('RUN echo hi', [], 'line 1').map((r) => r.ref),
      [],
    );
    assert.throws(() => triggerImageRefs('RUN a\nCOPY --from=x /a /b', [], 'line 1'), BAD_SOURCE);
  });
});
