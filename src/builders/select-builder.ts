import type Dockerode from 'dockerode';
import type { ImageConfig } from '../config/image-config.js';
import type { Logger } from '../log/logger.js';
import { BuildErrors } from './build-errors.js';
import { BUILDER_NAMES, type Builder, type BuilderName, isBuilderName } from './builder.js';
import { DockerfileBuilder } from './dockerfile-builder.js';
import { findExecutable } from './find-executable.js';
import { PackBuilder } from './pack-builder.js';
import { fileExists } from './stack-detection.js';
import { TemplateBuilder } from './template-builder.js';

export interface BuilderDeps {
  docker: Dockerode;
  log: Logger;
  images: ImageConfig;
  /** environment for finding and running `pack` (PATH, DOCKER_HOST); default process.env */
  env?: NodeJS.ProcessEnv;
  /** default: the repository's templates/ */
  templatesDir?: string;
}

export function createBuilder(name: BuilderName, deps: BuilderDeps): Builder {
  switch (name) {
    case 'dockerfile':
      return new DockerfileBuilder(deps.docker, deps.log);
    case 'pack':
      return new PackBuilder(deps.docker, deps.log, { builderImage: deps.images.packBuilder, env: deps.env });
    case 'template':
      return new TemplateBuilder(deps.docker, deps.log, { images: deps.images, templatesDir: deps.templatesDir });
  }
}

/**
 * First match wins: the builder forced with `builder:set` → a `Dockerfile` at the root →
 * `project.toml` or a `pack` binary on PATH → the template builder.
 */
export async function selectBuilder(sourceDir: string, forced: string | null, deps: BuilderDeps): Promise<Builder> {
  if (forced !== null && forced !== '') {
    if (!isBuilderName(forced)) {
      throw BuildErrors.unknownBuilder(`unknown builder '${forced}': choose one of ${BUILDER_NAMES.join(', ')}`);
    }
    return createBuilder(forced, deps);
  }
  if (await fileExists(sourceDir, 'Dockerfile')) return createBuilder('dockerfile', deps);
  // project.toml asks for buildpacks explicitly: pack then reports clearly if its binary is missing.
  if (await fileExists(sourceDir, 'project.toml')) return createBuilder('pack', deps);
  if (await findExecutable('pack', (deps.env ?? process.env).PATH)) return createBuilder('pack', deps);
  return createBuilder('template', deps);
}
