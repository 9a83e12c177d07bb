import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageConfig } from '../config/image-config.js';
import { errMessage } from '../runtime/docker-error-details.js';
import { BuildErrors } from './build-errors.js';
import { type DetectedStack, fileExists, type Stack } from './stack-detection.js';
import { readTreeFile } from './tree-file.js';

/** Values substituted for `{{NAME}}` in templates/dockerfiles/<stack>.Dockerfile. */
export type TemplateVars = Record<string, string>;

/** The repository's `templates/` directory, found upward from this module (works from src/ and dist/src/). */
export function defaultTemplatesDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'templates', 'dockerfiles'))) return path.join(dir, 'templates');
    dir = path.dirname(dir);
  }
  throw BuildErrors.badSource('templates/dockerfiles not found next to the paas installation');
}

export function renderTemplate(template: string, vars: TemplateVars): string {
  const missing = new Set<string>();
  const sub = (line: string) =>
    line.replace(/\{\{([A-Z_]+)\}\}/g, (_m, name: string) => {
      if (!(name in vars)) missing.add(name);
      return vars[name] ?? '';
    });
  const out: string[] = [];
  for (const line of template.split('\n')) {
    const rendered = sub(line);
    // a line that held only placeholders which rendered to nothing leaves no blank line behind
    if (rendered.trim() === '' && line.trim() !== '') continue;
    out.push(rendered);
  }
  if (missing.size > 0) throw BuildErrors.badSource(`Dockerfile template needs ${[...missing].join(', ')}`);
  return `${out.join('\n').trimEnd()}\n`;
}

/** Renders the Dockerfile for a detected stack, reading the app's manifests for install and start commands. */
export async function renderStackDockerfile(
  sourceDir: string,
  detected: DetectedStack,
  images: ImageConfig,
  templatesDir: string = defaultTemplatesDir(),
): Promise<string> {
  const file = path.join(templatesDir, 'dockerfiles', `${detected.stack}.Dockerfile`);
  const template = await fs.readFile(file, 'utf8').catch((e: unknown) => {
    throw BuildErrors.badSource(`missing Dockerfile template ${file}`, e);
  });
  const vars = await varsFor(detected.stack, sourceDir, images);
  return renderTemplate(template, { DETECTED_BY: detected.detectedBy.join(', '), ...vars });
}

async function varsFor(stack: Stack, dir: string, images: ImageConfig): Promise<TemplateVars> {
  switch (stack) {
    case 'node':
      return nodeVars(dir, images.node);
    case 'python':
      return pythonVars(dir, images.python);
    case 'go':
      return goVars(dir, images.go);
    case 'static':
      return { BASE_IMAGE: images.static };
  }
}

const json = (argv: string[]) => JSON.stringify(argv);

interface PackageJson {
  main?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

async function nodeVars(dir: string, base: string): Promise<TemplateVars> {
  const text = await readTreeFile(dir, 'package.json');
  let pkg: PackageJson;
  try {
    pkg = JSON.parse(text ?? '') as PackageJson;
  } catch (e) {
    throw BuildErrors.badSource(`package.json is not valid JSON: ${errMessage(e)}`, e);
  }
  const hasDeps = Object.keys(pkg.dependencies ?? {}).length + Object.keys(pkg.devDependencies ?? {}).length > 0;
  const build = pkg.scripts?.build;
  const lock = (
    await Promise.all(
      ['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml'].map((f) =>
        fileExists(dir, f).then((ok) => (ok ? f : null)),
      ),
    )
  ).filter((f): f is string => f !== null);

  let install: string;
  let prune = '';
  if (!hasDeps) {
    install = '# no dependencies in package.json: install skipped';
  } else if (lock.includes('yarn.lock')) {
    install = 'RUN corepack enable && yarn install --frozen-lockfile';
  } else if (lock.includes('pnpm-lock.yaml')) {
    install = 'RUN corepack enable && pnpm install --frozen-lockfile';
  } else if (lock.includes('package-lock.json') || lock.includes('npm-shrinkwrap.json')) {
    install = build ? 'RUN npm ci --include=dev' : 'RUN npm ci --omit=dev';
    prune = build ? 'RUN npm prune --omit=dev' : '';
  } else {
    install = build ? 'RUN npm install --include=dev' : 'RUN npm install --omit=dev';
    prune = build ? 'RUN npm prune --omit=dev' : '';
  }
  const copyFiles = ['package.json', ...lock];
  const buildLines = [
    build
      ? lock.includes('yarn.lock')
        ? 'RUN yarn run build'
        : lock.includes('pnpm-lock.yaml')
          ? 'RUN pnpm run build'
          : 'RUN npm run build'
      : '',
    prune,
  ]
    .filter(Boolean)
    .join('\n');

  let cmd: string[];
  if (pkg.scripts?.start) cmd = ['npm', 'start'];
  else if (pkg.main) cmd = ['node', pkg.main];
  else if (await fileExists(dir, 'server.js')) cmd = ['node', 'server.js'];
  else if (await fileExists(dir, 'index.js')) cmd = ['node', 'index.js'];
  else cmd = ['npm', 'start'];

  return {
    BASE_IMAGE: base,
    DEPENDENCY_COPY: hasDeps ? `COPY ${copyFiles.join(' ')} ./` : '',
    INSTALL: install,
    BUILD: buildLines,
    CMD: json(cmd),
  };
}

async function pythonVars(dir: string, base: string): Promise<TemplateVars> {
  const req = await readTreeFile(dir, 'requirements.txt');
  const hasReq = req !== null;
  const hasPyproject = await fileExists(dir, 'pyproject.toml');
  const reqHasEntries = req?.split('\n').some((l) => l.trim() !== '' && !l.trim().startsWith('#')) ?? false;
  const install = reqHasEntries
    ? 'RUN pip install --no-cache-dir -r requirements.txt'
    : hasReq
      ? '# requirements.txt lists nothing: install skipped'
      : '';
  const build = !hasReq && hasPyproject ? 'RUN pip install --no-cache-dir .' : '';
  let cmd: string | null = null;
  for (const f of ['app.py', 'main.py', 'server.py', 'wsgi.py']) {
    if (await fileExists(dir, f)) {
      cmd = json(['python3', f]);
      break;
    }
  }
  return {
    BASE_IMAGE: base,
    DEPENDENCY_COPY: reqHasEntries ? 'COPY requirements.txt ./' : '',
    INSTALL: install,
    BUILD: build,
    // Without an obvious entry point the Procfile's `web:` line must say how to start.
    CMD: cmd ?? json(['/bin/sh', '-c', 'echo "no app.py or main.py: add a Procfile with a web: line" >&2; exit 1']),
  };
}

async function goVars(dir: string, base: string): Promise<TemplateVars> {
  const hasSum = await fileExists(dir, 'go.sum');
  return {
    BASE_IMAGE: base,
    DEPENDENCY_COPY: `COPY go.mod${hasSum ? ' go.sum' : ''} ./`,
    INSTALL: 'RUN go mod download',
    BUILD: 'RUN go build -trimpath -o /app/server .',
    CMD: json(['/app/server']),
  };
}
