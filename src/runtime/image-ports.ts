import type Dockerode from 'dockerode';

/** The TCP ports an image EXPOSEs, sorted and without duplicates (`5000/tcp` -> 5000). */
export function exposedPortsOf(info: Dockerode.ImageInspectInfo): number[] {
  const keys = Object.keys(info.Config?.ExposedPorts ?? {});
  const ports = keys.map((k) => Number.parseInt(k, 10)).filter((n) => Number.isInteger(n) && n > 0 && n < 65536);
  return [...new Set(ports)].sort((a, b) => a - b);
}
