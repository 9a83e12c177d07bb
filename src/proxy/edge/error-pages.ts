import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Finds templates/error-pages/ from src/proxy/edge (tsx) or dist/src/proxy/edge (compiled). */
function defaultErrorPagesDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../..', '../../../..']) {
    const dir = path.resolve(here, up, 'templates', 'error-pages');
    if (existsSync(dir)) return dir;
  }
  return path.resolve(here, '../../../templates/error-pages');
}

/** The HTML pages the proxy answers with when it cannot reach an app; read once at start. */
export class ErrorPages {
  /** per status: its page with status and title filled in, split where the request id goes */
  private readonly pages = new Map<number, readonly string[]>();
  private readonly generic: string;
  private readonly maintenanceTemplate: string;

  constructor(dir: string = defaultErrorPagesDir()) {
    const templates = new Map<number, string>();
    for (const status of [502, 503, 504]) {
      const file = path.join(dir, `${status}.html`);
      if (existsSync(file)) templates.set(status, readFileSync(file, 'utf8'));
    }
    const generic = path.join(dir, 'error.html');
    this.generic = existsSync(generic)
      ? readFileSync(generic, 'utf8')
      : '<!doctype html><title>{{status}} {{title}}</title><h1>{{status}} {{title}}</h1><p>Request id: {{requestId}}</p>\n';
    const maintenance = path.join(dir, 'maintenance.html');
    this.maintenanceTemplate = existsSync(maintenance)
      ? readFileSync(maintenance, 'utf8')
      : '<!doctype html><title>{{status}} {{title}}</title><h1>{{status}} {{title}}</h1><p>{{message}}</p><p>Request id: {{requestId}}</p>\n';
    for (const status of Object.keys(STATUS_TEXT).map(Number)) {
      this.pages.set(status, prepare(templates.get(status) ?? this.generic, status));
    }
  }

  render(status: number, requestId: string): string {
    const parts = this.pages.get(status) ?? prepare(this.generic, status);
    return parts.join(escapeHtml(requestId));
  }

  /** The maintenance page: 503 with the app's own message (ps:maintenance --message). */
  maintenance(message: string, requestId: string): string {
    return prepare(this.maintenanceTemplate, 503)
      .join(escapeHtml(requestId))
      .replace('{{message}}', () => escapeHtml(message));
  }

  /** The 503 page of a request that waited too long for a free connection to its app. */
  busy(requestId: string): string {
    return this.maintenance('The app is busy: every connection to it is in use. Try again in a moment.', requestId);
  }
}

/** Fills in a template's status and title and splits it on the request id placeholder. */
function prepare(tpl: string, status: number): readonly string[] {
  return tpl
    .replaceAll('{{status}}', String(status))
    .replaceAll('{{title}}', STATUS_TEXT[status] ?? 'Error')
    .split('{{requestId}}');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
