// The dashboard's only way to the server: the session, commands through POST /api/run (the same
// commands, access rules and audit log as SSH), and JSON reads. A 401 anywhere means the session is
// gone (expired, revoked, key removed): the page goes to /login-needed.

/** An error as the user sees it: the CLI's one line, or the server's {"error"} */
export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** The first non-empty line of a command's stderr: the CLI prints one clear line on failure */
export function firstLine(text) {
  const line = String(text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  return line ?? 'the command failed';
}

async function handle(res) {
  if (res.status === 401) {
    location.assign('/login-needed');
    throw new ApiError('not logged in', 401);
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`the server answered HTTP ${res.status}`, res.status);
  }
  if (!res.ok) throw new ApiError(typeof body?.error === 'string' ? body.error : `HTTP ${res.status}`, res.status);
  return body;
}

/** GET a JSON endpoint under /api */
export async function getJson(path) {
  return handle(await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' }));
}

let current = null;
/** The session (key, role, apps, csrf), fetched once per page */
export function session() {
  current ??= getJson('/api/session').catch((e) => {
    current = null;
    throw e;
  });
  return current;
}

/** Runs a command as the session's key: resolves to {exitCode, stdout, stderr} */
export async function run(argv) {
  const s = await session();
  let res;
  try {
    res = await fetch('/api/run', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrf, accept: 'application/json' },
      body: JSON.stringify({ argv }),
    });
  } catch {
    // the connection dropped while the command ran: the server stops a command whose caller is gone
    throw new ApiError(`the connection to the server was lost during ${argv[0]}; check the state below before trying again`, 0);
  }
  return handle(res);
}

/** Runs a command; resolves to its stdout, or throws its one stderr line */
export async function act(argv) {
  const r = await run(argv);
  if (r.exitCode !== 0) throw new ApiError(firstLine(r.stderr || r.stdout), 200);
  return r.stdout;
}

/** Runs a read command with --json and parses its output */
export async function read(argv) {
  const out = await act([...argv, '--json']);
  try {
    return JSON.parse(out);
  } catch {
    throw new ApiError(`${argv[0]} did not print JSON`, 200);
  }
}
