import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  413: 'Payload Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Finds templates/error-pages/ from src/proxy (tsx) or dist/src/proxy (compiled). */
export function defaultErrorPagesDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const dir = path.resolve(here, up, 'templates', 'error-pages');
    if (existsSync(dir)) return dir;
  }
  return path.resolve(here, '../../templates/error-pages');
}

/** The HTML pages the proxy answers with when it cannot reach an app; read once at start. */
export class ErrorPages {
  private readonly pages = new Map<number, string>();
  private readonly generic: string;

  constructor(dir: string = defaultErrorPagesDir()) {
    for (const status of [502, 503, 504]) {
      const file = path.join(dir, `${status}.html`);
      if (existsSync(file)) this.pages.set(status, readFileSync(file, 'utf8'));
    }
    const generic = path.join(dir, 'error.html');
    this.generic = existsSync(generic)
      ? readFileSync(generic, 'utf8')
      : '<!doctype html><title>{{status}} {{title}}</title><h1>{{status}} {{title}}</h1><p>Request id: {{requestId}}</p>\n';
  }

  render(status: number, requestId: string): string {
    const tpl = this.pages.get(status) ?? this.generic;
    return tpl
      .replaceAll('{{status}}', String(status))
      .replaceAll('{{title}}', STATUS_TEXT[status] ?? 'Error')
      .replaceAll('{{requestId}}', escapeHtml(requestId));
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
