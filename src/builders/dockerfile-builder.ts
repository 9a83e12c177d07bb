import type Dockerode from 'dockerode';
import type { Logger } from '../log/logger.js';
import { BuildErrors } from './build-errors.js';
import type { Builder, BuildRequest, BuildResult } from './builder.js';
import { buildDockerImage } from './docker-image-build.js';
import { fileExists } from './stack-detection.js';

/** Builds the app's own `Dockerfile` through the Docker Engine API (classic builder, layer cache reused). */
export class DockerfileBuilder implements Builder {
  readonly name = 'dockerfile' as const;

  constructor(
    private readonly docker: Dockerode,
    private readonly log: Logger,
    private readonly dockerfile = 'Dockerfile',
  ) {}

  async build(req: BuildRequest): Promise<BuildResult> {
    const exists = await fileExists(req.sourceDir, this.dockerfile);
    if (!exists) throw BuildErrors.noDockerfile(`no ${this.dockerfile} at the root of the repository (builder is 'dockerfile')`);
    const r = await buildDockerImage(this.docker, this.log.child({ app: req.app, release: req.release, builder: this.name }), {
      contextDir: req.sourceDir,
      dockerfile: this.dockerfile,
      imageTag: req.imageTag,
      buildArgs: req.buildArgs,
      labels: req.labels,
      output: req.output,
      signal: req.signal,
      imagePolicy: req.imagePolicy,
      limits: req.limits,
    });
    return { image: req.imageTag, imageId: r.imageId, builder: this.name, exposedPorts: r.exposedPorts };
  }
}
