import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import type { Logger } from '../log/logger.js';
import { LineSplitter } from '../util/json-lines.js';
import { BuildErrors } from './build-errors.js';
import type { Builder, BuildRequest, BuildResult } from './builder.js';
import { exposedPortsOf } from '../runtime/image-ports.js';
import { buildDockerImage } from './docker-image-build.js';
import { findExecutable } from './find-executable.js';

export interface PackBuilderOptions {
  /** builder image, e.g. paketobuildpacks/builder-jammy-base (PAAS_PACK_BUILDER) */
  builderImage: string;
  /** binary name or path; default `pack` looked up on PATH */
  bin?: string;
  /** environment the pack process runs with (PATH, DOCKER_HOST); default process.env */
  env?: NodeJS.ProcessEnv;
}

const TAIL_LINES = 20;

/**
 * Cloud Native Buildpacks through the `pack` CLI, run with an argument array (never a shell).
 * Build args become `--env K=V` (buildpacks read them at build time). pack cannot label the
 * image, so labels are applied afterwards by a `FROM <image>` build with no layers.
 */
export class PackBuilder implements Builder {
  readonly name = 'pack' as const;

  constructor(
    private readonly docker: Dockerode,
    private readonly log: Logger,
    private readonly opts: PackBuilderOptions,
  ) {}

  /** The argv given to pack (exported for tests); it holds the build args' values, so log `redactedArgs` of it. */
  static args(req: Pick<BuildRequest, 'imageTag' | 'sourceDir' | 'buildArgs'>, builderImage: string): string[] {
    const args = ['build', req.imageTag, '--path', req.sourceDir, '--builder', builderImage, '--trust-builder'];
    args.push('--pull-policy', 'if-not-present', '--no-color');
    for (const [k, v] of Object.entries(req.buildArgs).sort(([a], [b]) => a.localeCompare(b))) args.push('--env', `${k}=${v}`);
    return args;
  }

  /** `args` for a log line: every `--env NAME=value` becomes `--env NAME=***` (build args may hold secrets). */
  static redactedArgs(args: string[]): string[] {
    return args.map((a, i) => (args[i - 1] === '--env' ? `${a.split('=', 1)[0]}=***` : a));
  }

  async build(req: BuildRequest): Promise<BuildResult> {
    const env = this.opts.env ?? process.env;
    const bin = await findExecutable(this.opts.bin ?? 'pack', env.PATH);
    if (!bin) {
      throw BuildErrors.packMissing(
        "the 'pack' CLI is not installed on the server (https://buildpacks.io/docs/tools/pack/); add a Dockerfile or run builder:set template",
      );
    }
    if (req.signal.aborted) throw BuildErrors.cancelled('build cancelled');
    const log = this.log.child({ app: req.app, release: req.release, builder: this.name });
    const args = PackBuilder.args(req, this.opts.builderImage);
    log.info({ bin, args: PackBuilder.redactedArgs(args) }, 'pack build');

    // pack prints its error last on stderr; stdout and stderr are read concurrently, so keep each's tail
    const tails: Record<'out' | 'err', string[]> = { out: [], err: [] };
    // loaded at the first pack build: a control plane that never runs pack stays smaller
    const { execa } = await import('execa');
    const proc = execa(bin, args, { env, extendEnv: false, cancelSignal: req.signal, reject: false, stdin: 'ignore', buffer: false });
    const pump = (s: NodeJS.ReadableStream | null, tail: string[]) =>
      new Promise<void>((resolve) => {
        if (!s) return resolve();
        const lines = new LineSplitter();
        s.on('data', (chunk: Buffer) => {
          req.output.write(chunk);
          for (const l of lines.push(chunk)) if (l.trim()) tail.push(l);
          if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES);
        });
        s.on('end', () => {
          const partial = lines.flush();
          if (partial.trim()) tail.push(partial);
          resolve();
        });
        s.on('error', () => resolve());
      });
    const [result] = await Promise.all([proc, pump(proc.stdout, tails.out), pump(proc.stderr, tails.err)]);
    if (req.signal.aborted || result.isCanceled) throw BuildErrors.cancelled('build cancelled');
    if (result.exitCode !== 0) {
      const last = (tails.err.at(-1) ?? tails.out.at(-1))?.trim() ?? 'no output';
      throw BuildErrors.failed(`pack build failed (exit ${result.exitCode ?? result.signal}): ${last}`);
    }

    let imageId: string;
    let exposedPorts: number[];
    if (Object.keys(req.labels).length > 0) {
      const r = await this.applyLabels(req, log);
      imageId = r.imageId;
      exposedPorts = r.exposedPorts;
    } else {
      const info = await this.docker
        .getImage(req.imageTag)
        .inspect()
        .catch((e: unknown) => {
          throw BuildErrors.failed(`pack finished but image ${req.imageTag} is missing`, e);
        });
      imageId = info.Id;
      exposedPorts = exposedPortsOf(info);
    }
    return { image: req.imageTag, imageId, builder: this.name, exposedPorts };
  }

  private async applyLabels(req: BuildRequest, log: Logger) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'paas-pack-label-'));
    try {
      await fs.writeFile(path.join(dir, 'Dockerfile'), `FROM ${req.imageTag}\n`);
      return await buildDockerImage(this.docker, log, {
        contextDir: dir,
        dockerfile: 'Dockerfile',
        imageTag: req.imageTag,
        buildArgs: {},
        labels: req.labels,
        output: req.output,
        signal: req.signal,
        limits: req.limits,
      });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
}
