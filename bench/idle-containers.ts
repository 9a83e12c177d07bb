import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type Dockerode from 'dockerode';

/** Clock ticks per second of /proc/<pid>/stat's times. */
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds (user + system) a process has used; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK;
  } catch {
    return 0;
  }
}

/** Starts `n` idle busybox containers with `labels(i)`; returns their ids. */
export async function startIdleContainers(docker: Dockerode, n: number, labels: (i: number) => Record<string, string>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = await docker.createContainer({ Image: 'paas-test/busybox:1', Cmd: ['sleep', '86400'], Labels: labels(i) });
    await c.start();
    ids.push(c.id);
  }
  return ids;
}

export async function removeContainers(docker: Dockerode, ids: string[]): Promise<void> {
  await Promise.all(
    ids.map((id) =>
      docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => {}),
    ),
  );
}
