import type { ImagePolicy } from '../runtime/image-ownership.js';
import type { BuildStepLimits } from './build-limits.js';

export const BUILDER_NAMES = ['dockerfile', 'pack', 'template'] as const;
export type BuilderName = (typeof BUILDER_NAMES)[number];

export function isBuilderName(s: string): s is BuilderName {
  return (BUILDER_NAMES as readonly string[]).includes(s);
}

export interface BuildRequest {
  app: string;
  release: number;
  /** the exported commit, already on disk */
  sourceDir: string;
  /** e.g. paas/myapp:v3 */
  imageTag: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  /** the user's terminal: build step output is streamed here as it comes */
  output: NodeJS.WritableStream;
  /** aborting cancels the build */
  signal: AbortSignal;
  /** which images the Dockerfile may use (the pusher's role); absent: the app's own and base images only */
  imagePolicy?: ImagePolicy;
  /** the memory, process and time limits of the build's steps (none: unlimited) */
  limits?: BuildStepLimits;
}

export interface BuildResult {
  /** the tag that was built (= request.imageTag) */
  image: string;
  /** the image id (sha256:…) */
  imageId: string;
  builder: BuilderName;
  /** ports from the image's EXPOSE lines, sorted */
  exposedPorts: number[];
}

export interface Builder {
  readonly name: BuilderName;
  build(req: BuildRequest): Promise<BuildResult>;
}
