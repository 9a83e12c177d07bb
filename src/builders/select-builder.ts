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

export function createBuilder(name: BuilderName, deps: BuilderDeps, dockerfile = 'Dockerfile'): Builder {
  switch (name) {
    case 'dockerfile':
      return new DockerfileBuilder(deps.docker, deps.log, dockerfile);
    case 'pack':
      return new PackBuilder(deps.docker, deps.log, { builderImage: deps.images.packBuilder, env: deps.env });
    case 'template':
      return new TemplateBuilder(deps.docker, deps.log, { images: deps.images, templatesDir: deps.templatesDir });
  }
}

export interface BuilderChoice {
  name: BuilderName;
  /** why, for `builder:report` */
  reason: string;
}

/**
 * First match wins: the builder forced with `builder:set` → a Dockerfile (`dockerfile`, default
 * `Dockerfile`) in the build dir → `project.toml` or a `pack` binary on PATH → the template builder.
 * `has(file)` tells whether the build dir has a file.
 */
export async function chooseBuilder(
  forced: string | null,
  has: (file: string) => Promise<boolean>,
  env: NodeJS.ProcessEnv,
  dockerfile = 'Dockerfile',
): Promise<BuilderChoice> {
  if (forced !== null && forced !== '') {
    if (!isBuilderName(forced)) {
      throw BuildErrors.unknownBuilder(`unknown builder '${forced}': choose one of ${BUILDER_NAMES.join(', ')}`);
    }
    return { name: forced, reason: 'set with builder:set' };
  }
  if (await has(dockerfile)) return { name: 'dockerfile', reason: `${dockerfile} is in the build dir` };
  // project.toml asks for buildpacks explicitly: pack then reports clearly if its binary is missing.
  if (await has('project.toml')) return { name: 'pack', reason: 'project.toml is in the build dir' };
  if (await findExecutable('pack', env.PATH)) return { name: 'pack', reason: `no ${dockerfile}, and pack is on the server's PATH` };
  return { name: 'template', reason: `no ${dockerfile} or project.toml, and no pack on the server` };
}

/** The builder for an exported source tree (chooseBuilder over its files). */
export async function selectBuilder(
  sourceDir: string,
  forced: string | null,
  deps: BuilderDeps,
  dockerfile = 'Dockerfile',
): Promise<Builder> {
  const choice = await chooseBuilder(forced, (f) => fileExists(sourceDir, f), deps.env ?? process.env, dockerfile);
  return createBuilder(choice.name, deps, dockerfile);
}
