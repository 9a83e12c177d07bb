/**
 * Whether a node has Docker, and what to do if not: decided from one probe run over SSH, so the
 * decision is a pure function a unit test covers.
 */

/** Prints `cli=`, `server=`, `apt=` and `uid=` lines on the node. */
export const DOCKER_PROBE =
  'printf "cli=%s\\nserver=%s\\napt=%s\\nuid=%s\\n" "$(command -v docker)" "$(docker version --format "{{.Server.Version}}" 2>/dev/null)" "$(command -v apt-get)" "$(id -u)"';

export type DockerPlan =
  | { kind: 'present'; version: string }
  | { kind: 'install'; command: string }
  | { kind: 'start'; command: string }
  | { kind: 'unsupported'; why: string };

export function parseProbe(output: string): Record<string, string> {
  const facts: Record<string, string> = {};
  for (const line of output.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) facts[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return facts;
}

/** present: use it; no docker but apt-get: install Debian's docker.io; a CLI whose daemon is down: start it. */
export function dockerPlan(output: string): DockerPlan {
  const f = parseProbe(output);
  const sudo = f.uid === '0' ? '' : 'sudo -n ';
  if (f.server) return { kind: 'present', version: f.server };
  if (f.cli) return { kind: 'start', command: `${sudo}systemctl enable --now docker` };
  if (f.apt)
    return {
      kind: 'install',
      command: `${sudo}env DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io && ${sudo}systemctl enable --now docker`,
    };
  return { kind: 'unsupported', why: 'Docker is not installed and there is no apt-get to install it: install Docker on the node first' };
}
