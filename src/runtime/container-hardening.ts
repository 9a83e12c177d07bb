import type Dockerode from 'dockerode';
import type { ContainerSpec } from './container-spec.js';

/** Capabilities of Docker's default set that a web app does not need (raw sockets, device nodes, chroot, file caps, audit). */
export const DROPPED_CAPABILITIES = ['NET_RAW', 'MKNOD', 'SYS_CHROOT', 'SETFCAP', 'AUDIT_WRITE'] as const;
/** Processes (and threads) per container unless the spec names another limit. */
export const DEFAULT_PIDS_LIMIT = 1024;

/**
 * The HostConfig part of a hardened container (the default; `hardening: false` opts out):
 * no privilege gain through setuid binaries, the capabilities above dropped and a pids limit.
 * Docker's default seccomp profile stays on either way (paas never sets seccomp=unconfined).
 */
export function hardeningHostConfig(spec: Pick<ContainerSpec, 'hardening' | 'pidsLimit'>): Dockerode.HostConfig {
  if (spec.hardening === false) return {};
  return {
    SecurityOpt: ['no-new-privileges:true'],
    CapDrop: [...DROPPED_CAPABILITIES],
    PidsLimit: spec.pidsLimit ?? DEFAULT_PIDS_LIMIT,
  };
}
