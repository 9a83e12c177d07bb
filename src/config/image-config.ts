/**
 * Base images the template builder renders into Dockerfiles, and the builder image `pack` uses.
 * Read from the environment with the official images as defaults; tests point them at local
 * images (nothing else changes).
 */
export interface ImageConfig {
  node: string;
  python: string;
  go: string;
  static: string;
  packBuilder: string;
}

export const IMAGE_ENV = {
  node: 'PAAS_IMAGE_NODE',
  python: 'PAAS_IMAGE_PYTHON',
  go: 'PAAS_IMAGE_GO',
  static: 'PAAS_IMAGE_STATIC',
  packBuilder: 'PAAS_PACK_BUILDER',
} as const satisfies Record<keyof ImageConfig, string>;

export const DEFAULT_IMAGES: Readonly<ImageConfig> = Object.freeze({
  node: 'node:20-bookworm-slim',
  python: 'python:3.12-slim',
  go: 'golang:1.22-bookworm',
  // busybox httpd serves files and honours $PORT with no config file
  static: 'busybox:1.36',
  packBuilder: 'paketobuildpacks/builder-jammy-base',
});

export function loadImageConfig(env: NodeJS.ProcessEnv = process.env): ImageConfig {
  const pick = (k: keyof ImageConfig): string => {
    const v = env[IMAGE_ENV[k]]?.trim();
    return v ? v : DEFAULT_IMAGES[k];
  };
  return { node: pick('node'), python: pick('python'), go: pick('go'), static: pick('static'), packBuilder: pick('packBuilder') };
}
