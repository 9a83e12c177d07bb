import { BuildErrors } from './build-errors.js';
import { treeFileExists } from './tree-file.js';

export const STACKS = ['node', 'python', 'go', 'static'] as const;
export type Stack = (typeof STACKS)[number];

export interface DetectedStack {
  stack: Stack;
  /** the file(s) that decided it, for the build output */
  detectedBy: string[];
}

/** What each stack is recognised by, in the order they are tried (first match wins). */
export const STACK_MARKERS: ReadonlyArray<{ stack: Stack; files: string[] }> = [
  { stack: 'node', files: ['package.json'] },
  { stack: 'python', files: ['requirements.txt', 'pyproject.toml'] },
  { stack: 'go', files: ['go.mod'] },
  { stack: 'static', files: ['index.html'] },
];

/** Whether the source has `name` as a file (never following a link: see treeFileExists). */
export async function fileExists(dir: string, name: string): Promise<boolean> {
  return treeFileExists(dir, name);
}

/** Detects the app's stack from marker files at the root of `sourceDir`. */
export async function detectStack(sourceDir: string): Promise<DetectedStack> {
  for (const { stack, files } of STACK_MARKERS) {
    const found: string[] = [];
    for (const f of files) if (await fileExists(sourceDir, f)) found.push(f);
    if (found.length > 0) return { stack, detectedBy: found };
  }
  const lookedFor = STACK_MARKERS.map((m) => `${m.stack} (${m.files.join(' or ')})`).join(', ');
  throw BuildErrors.undetected(`could not detect the app's stack: no Dockerfile, and none of ${lookedFor} at the repository root`);
}
