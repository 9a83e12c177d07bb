// The paas client refuses a git remote (or --host) that ssh would read as an option.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSshTarget, parseGitRemote } from '../../../src/client/git-remote.js';

const refusal = (fn: () => unknown): { code?: string; exitCode?: number; message: string } | null => {
  try {
    fn();
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message: string };
    return { code: err.code, exitCode: err.exitCode, message: err.message };
  }
  return null;
};

/** `${IFS}`, spelled so the shell-looking text stays literal */
const IFS = ['$', '{IFS}'].join('');

test('a git remote whose host or user begins with - is refused with one line, exit 2', () => {
  const cases: Array<[string, string]> = [
    [`ssh://-oProxyCommand=touch${IFS}/tmp/pwned/x`, `host '-oProxyCommand=touch${IFS}' begins with '-'`],
    [`ssh://-oProxyCommand=touch${IFS}pwned@example.com/app`, `user '-oProxyCommand=touch${IFS}pwned' begins with '-'`],
    ['ssh://-oProxyCommand=x@example.com:2222/app', "user '-oProxyCommand=x' begins with '-'"],
    [`-oProxyCommand=touch${IFS}pwned:app`, `host '-oProxyCommand=touch${IFS}pwned' begins with '-'`],
    [`-oProxyCommand=touch${IFS}pwned@example.com:app`, `user '-oProxyCommand=touch${IFS}pwned' begins with '-'`],
    ['paas@-oProxyCommand=x:app', "host '-oProxyCommand=x' begins with '-'"],
  ];
  for (const [url, what] of cases) {
    assert.deepEqual(
      refusal(() => parseGitRemote(url)),
      {
        code: 'PAAS_ERR_CLIENT_REMOTE',
        exitCode: 2,
        message: `refusing the git remote '${url}': its ${what}, which ssh would read as an option`,
      },
      url,
    );
  }
});

test('whitespace or control characters in host or user are refused; ordinary remotes still parse', () => {
  assert.match(
    refusal(() => checkSshTarget({ user: 'paas', host: 'a b', port: null, app: null }, '--host'))?.message ?? '',
    /^refusing --host: its host 'a b' is empty or holds whitespace or control characters$/,
  );
  assert.equal(refusal(() => checkSshTarget({ user: 'p\naas', host: 'h', port: null, app: null }, 'x'))?.code, 'PAAS_ERR_CLIENT_REMOTE');
  assert.deepEqual(parseGitRemote('ssh://paas@example.com:2222/my-app'), { user: 'paas', host: 'example.com', port: 2222, app: 'my-app' });
  assert.deepEqual(parseGitRemote('git@host-1.example:app-2'), { user: 'git', host: 'host-1.example', port: null, app: 'app-2' });
});
