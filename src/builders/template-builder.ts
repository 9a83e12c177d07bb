import type Dockerode from 'dockerode';
import type { ImageConfig } from '../config/image-config.js';
import type { Logger } from '../log/logger.js';
import type { Builder, BuildRequest, BuildResult } from './builder.js';
import { buildDockerImage } from './docker-image-build.js';
import { renderStackDockerfile } from './dockerfile-template.js';
import { detectStack } from './stack-detection.js';
import { writeTreeFile } from './tree-file.js';

/** The generated Dockerfile's name, written next to the source and kept out of the image. */
export const GENERATED_DOCKERFILE = 'Dockerfile.paas';

export interface TemplateBuilderOptions {
  images: ImageConfig;
  /** default: the repository's templates/ */
  templatesDir?: string;
}

/**
 * For apps without a Dockerfile: detects the stack, renders templates/dockerfiles/<stack>.Dockerfile
 * with the configured base image, writes it as Dockerfile.paas and builds it through the same path
 * as the Dockerfile builder.
 */
export class TemplateBuilder implements Builder {
  readonly name = 'template' as const;

  constructor(
    private readonly docker: Dockerode,
    private readonly log: Logger,
    private readonly opts: TemplateBuilderOptions,
  ) {}

  async build(req: BuildRequest): Promise<BuildResult> {
    const detected = await detectStack(req.sourceDir);
    const dockerfile = await renderStackDockerfile(req.sourceDir, detected, this.opts.images, this.opts.templatesDir);
    req.output.write(`Detected ${detected.stack} app (${detected.detectedBy.join(', ')}); building from ${GENERATED_DOCKERFILE}\n`);
    // never through a link: whatever entry the commit has under that name is replaced
    await writeTreeFile(req.sourceDir, GENERATED_DOCKERFILE, dockerfile);
    const r = await buildDockerImage(this.docker, this.log.child({ app: req.app, release: req.release, builder: this.name }), {
      contextDir: req.sourceDir,
      dockerfile: GENERATED_DOCKERFILE,
      extraIgnore: [GENERATED_DOCKERFILE],
      imageTag: req.imageTag,
      buildArgs: req.buildArgs,
      labels: { 'paas.stack': detected.stack, ...req.labels },
      output: req.output,
      signal: req.signal,
      limits: req.limits,
    });
    return { image: req.imageTag, imageId: r.imageId, builder: this.name, exposedPorts: r.exposedPorts };
  }
}
