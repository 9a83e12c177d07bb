// Local base images for Docker tests. Nothing can be pulled here, so tests make their own
// images with `docker import` and reuse them by tag:
//   paas-test/busybox:1      busybox-static + applet symlinks + the host CA bundle (seconds)
//   paas-test/debian-node:1  debootstrap minbase bookworm + nodejs, python3 (about a minute, once)
// A lock file under /var/cache/paas-test keeps two test processes from building one twice.
import { execFileSync } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export const BUSYBOX_IMAGE = 'paas-test/busybox:1';
export const NODE_IMAGE = 'paas-test/debian-node:1';
export const CACHE_DIR = process.env.PAAS_TEST_CACHE_DIR ?? '/var/cache/paas-test';
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const BUSYBOX_BIN = '/bin/busybox';

async function imageExists(tag: string): Promise<boolean> {
  const r = await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', tag], { reject: false });
  return r.exitCode === 0;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `fn` holding an exclusive lock file (O_EXCL create, pid inside; a dead holder's lock is taken over). */
async function withLock<T>(name: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  await fs.mkdir(CACHE_DIR, { recursive: true });
  const lock = path.join(CACHE_DIR, `${name}.lock`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fh = await fs.open(lock, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY);
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number((await fs.readFile(lock, 'utf8').catch(() => '')).trim());
      if (holder && !pidAlive(holder)) {
        await fs.rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock} (held by pid ${holder || '?'})`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lock, { force: true });
  }
}

async function importDir(dir: string, tag: string, changes: string[]): Promise<void> {
  const tarball = `${dir}.tar`;
  await execa('tar', ['-C', dir, '--numeric-owner', '-cf', tarball, '.']);
  await importTarball(tarball, tag, changes);
  await fs.rm(tarball, { force: true });
}

async function importTarball(tarball: string, tag: string, changes: string[]): Promise<void> {
  const args = ['import'];
  for (const c of changes) args.push('--change', c);
  args.push(tarball, tag);
  await execa('docker', args);
}

export const PATH_ENV = 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** `paas-test/busybox:1`: /bin/busybox with every applet linked, /etc/ssl/certs from the host. */
export async function ensureBusyboxImage(): Promise<string> {
  if (await imageExists(BUSYBOX_IMAGE)) return BUSYBOX_IMAGE;
  return withLock('busybox', 120_000, async () => {
    if (await imageExists(BUSYBOX_IMAGE)) return BUSYBOX_IMAGE;
    if (!existsSync(BUSYBOX_BIN)) throw new Error(`${BUSYBOX_BIN} is missing: apt-get install -y busybox-static`);
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'paas-busybox-'));
    try {
      for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc/ssl/certs', 'tmp', 'root', 'www', 'proc', 'sys', 'dev']) {
        await fs.mkdir(path.join(root, d), { recursive: true });
      }
      await fs.chmod(path.join(root, 'tmp'), 0o1777);
      await fs.copyFile(BUSYBOX_BIN, path.join(root, 'bin/busybox'));
      await fs.chmod(path.join(root, 'bin/busybox'), 0o755);
      const applets = execFileSync(BUSYBOX_BIN, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
      for (const a of applets) {
        if (a === 'busybox') continue;
        await fs.symlink('busybox', path.join(root, 'bin', a)).catch(() => {});
      }
      if (existsSync(HOST_CA_BUNDLE)) await fs.copyFile(HOST_CA_BUNDLE, path.join(root, 'etc/ssl/certs/ca-certificates.crt'));
      await fs.writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
      await fs.writeFile(path.join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
      await importDir(root, BUSYBOX_IMAGE, [PATH_ENV, 'CMD ["/bin/sh"]']);
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
    return BUSYBOX_IMAGE;
  });
}

/**
 * `paas-test/debian-node:1`: `debootstrap --variant=minbase` bookworm with nodejs, python3 and
 * ca-certificates, the host CA bundle baked in (the egress here re-signs TLS).
 */
export function ensureNodeImage(): Promise<string> {
  return ensureDebootstrapImage({
    tag: NODE_IMAGE,
    cacheName: 'debian-node-bookworm',
    include: ['nodejs', 'python3', 'ca-certificates'],
    changes: [PATH_ENV, 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt', 'CMD ["/bin/bash"]'],
  });
}

export interface DebootstrapImage {
  tag: string;
  /** the cached rootfs tarball's name under CACHE_DIR (and the lock's) */
  cacheName: string;
  include: string[];
  suite?: string;
  /** Dockerfile-like `docker import --change` lines */
  changes: string[];
  /** last touches to the rootfs before it is packed (entrypoints, cleanup) */
  prepare?(root: string): Promise<void>;
}

/**
 * A local image made by `debootstrap --variant=minbase` (nothing can be pulled here), built once
 * and reused by tag. The rootfs tarball is cached under CACHE_DIR so a lost image is
 * re-imported in seconds instead of re-bootstrapped.
 */
export async function ensureDebootstrapImage(img: DebootstrapImage): Promise<string> {
  if (await imageExists(img.tag)) return img.tag;
  return withLock(img.cacheName, 15 * 60_000, async () => {
    if (await imageExists(img.tag)) return img.tag;
    const cached = path.join(CACHE_DIR, `${img.cacheName}.tar`);
    if (!existsSync(cached)) {
      const root = await fs.mkdtemp(path.join(CACHE_DIR, 'rootfs-'));
      try {
        const suite = img.suite ?? 'bookworm';
        await execa(
          'debootstrap',
          ['--variant=minbase', `--include=${img.include.join(',')}`, suite, root, 'http://deb.debian.org/debian'],
          {
            all: true,
          },
        ).catch((e: { all?: string; message: string }) => {
          throw new Error(`debootstrap failed: ${(e.all ?? e.message).split('\n').slice(-15).join('\n')}`);
        });
        // Slim it: apt lists and caches are not needed to run tests.
        for (const d of ['var/cache/apt/archives', 'var/lib/apt/lists', 'usr/share/doc', 'usr/share/man']) {
          await fs.rm(path.join(root, d), { recursive: true, force: true });
          await fs.mkdir(path.join(root, d), { recursive: true });
        }
        if (existsSync(HOST_CA_BUNDLE)) {
          await fs.mkdir(path.join(root, 'etc/ssl/certs'), { recursive: true });
          await fs.copyFile(HOST_CA_BUNDLE, path.join(root, 'etc/ssl/certs/ca-certificates.crt'));
        }
        await img.prepare?.(root);
        const partial = `${cached}.partial`;
        await execa('tar', ['-C', root, '--numeric-owner', '-cf', partial, '.']);
        await fs.rename(partial, cached);
      } finally {
        await fs.rm(root, { recursive: true, force: true });
      }
    }
    await importTarball(cached, img.tag, img.changes);
    return img.tag;
  });
}
