import type { Readable, Writable } from 'node:stream';
import type Dockerode from 'dockerode';
import { exposedPortsOf } from './image-ports.js';
import { isAppError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import { LineSplitter } from '../util/json-lines.js';
import { engineMessage, statusOf } from './docker-error-details.js';
import { filterDockerSave, type UploadCap } from './docker-save-filter.js';
import { RuntimeErrors } from './runtime-errors.js';

export interface ImageInfo {
  /** sha256:... */
  id: string;
  exposedPorts: number[];
}

/**
 * Images on the engine, for deploys that do not build: inspect, tag, load (`docker save` output
 * streamed in) and pull. Loading and pulling report the engine's progress lines to `out`.
 */
/** The host's limits on `git:load-image` uploads. */
export interface ImageUploadLimits {
  /** the largest upload (`builder:set --global max-image-size`); null: no cap */
  cap(): UploadCap | null;
  /** refuses the upload (throws an AppError) before anything is read, e.g. below the free-disk floor */
  beforeLoad?(): Promise<void>;
}

export class ImageStore {
  constructor(
    private readonly docker: Dockerode,
    private readonly log: Logger,
    private readonly uploads: ImageUploadLimits | null = null,
  ) {}

  /** The image's id and EXPOSEd ports; null when the engine has no such image. */
  async inspect(ref: string): Promise<ImageInfo | null> {
    try {
      const info = await this.docker.getImage(ref).inspect();
      return { id: info.Id, exposedPorts: exposedPortsOf(info) };
    } catch (e) {
      if (statusOf(e) === 404) return null;
      throw RuntimeErrors.docker(`cannot inspect image ${ref}: ${engineMessage(e)}`, e);
    }
  }

  /** Tags `ref` as `repo:tag`. */
  async tag(ref: string, repo: string, tag: string): Promise<void> {
    try {
      await this.docker.getImage(ref).tag({ repo, tag });
    } catch (e) {
      throw RuntimeErrors.docker(`cannot tag ${ref} as ${repo}:${tag}: ${engineMessage(e)}`, e);
    }
  }

  /**
   * Streams `docker save` output of the image `want` into the engine, untagged (filterDockerSave:
   * layers are piped, never held in memory; no tag on the host moves) and returns its id. Input
   * that is not that one image, an upload over the size cap, or an abort, cuts the upload, so the
   * engine loads nothing.
   */
  async loadDockerSave(input: Readable, want: string, signal: AbortSignal): Promise<string> {
    await this.uploads?.beforeLoad?.();
    const cut = new AbortController();
    const onAbort = () => cut.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const filtered = filterDockerSave(input, want, this.uploads?.cap() ?? null);
    let refused: Error | null = null;
    filtered.checked.catch((e: Error) => {
      refused = e;
      cut.abort();
    });
    try {
      let text: string;
      try {
        const res = (await this.docker.loadImage(filtered.tar, {
          quiet: true,
          abortSignal: cut.signal,
        } as object)) as NodeJS.ReadableStream;
        const messages = await readMessages(res, null);
        if (messages.error) throw RuntimeErrors.loadFailed(`the engine refused the image: ${messages.error}`);
        text = messages.text;
      } catch (e) {
        if (refused) throw refused;
        throw isAppError(e) ? e : RuntimeErrors.loadFailed(`the engine refused the image: ${engineMessage(e)}`, e);
      }
      await filtered.checked;
      const id = /Loaded image ID: (sha256:[0-9a-f]{64})/.exec(text)?.[1];
      if (!id) throw RuntimeErrors.loadFailed(`the engine loaded no image (${text.trim().split('\n')[0] || 'no output'})`);
      this.log.info({ image: want, id }, 'image loaded');
      return id;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Pulls `ref` from its registry, writing the engine's status lines to `out`. */
  async pull(ref: string, out: Writable, signal: AbortSignal): Promise<void> {
    let res: NodeJS.ReadableStream;
    try {
      res = (await this.docker.pull(ref, { abortSignal: signal })) as NodeJS.ReadableStream;
    } catch (e) {
      throw RuntimeErrors.pullFailed(`${ref} is not on this host and cannot be pulled: ${engineMessage(e)}`, e);
    }
    const messages = await readMessages(res, out);
    if (messages.error) throw RuntimeErrors.pullFailed(`${ref} is not on this host and cannot be pulled: ${messages.error}`);
    this.log.info({ image: ref }, 'image pulled');
  }
}

/** The engine's JSON-lines progress: the text of its `stream`/`status` lines (echoed to `out`) and the first error. */
function readMessages(res: NodeJS.ReadableStream, out: Writable | null): Promise<{ text: string; error: string | null }> {
  return new Promise((resolve) => {
    const lines = new LineSplitter();
    let text = '';
    let error: string | null = null;
    const handle = (line: string) => {
      if (!line.trim()) return;
      try {
        const msg = JSON.parse(line) as { stream?: string; status?: string; error?: string; errorDetail?: { message?: string } };
        if (msg.error || msg.errorDetail) error ??= msg.errorDetail?.message ?? msg.error ?? 'unknown error';
        const t = msg.stream ?? (msg.status ? `${msg.status}\n` : '');
        text += t;
        if (t && out) out.write(t);
      } catch {
        text += `${line}\n`;
      }
    };
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      handle(lines.flush());
      if (err && !error) error = err.message;
      resolve({ text, error });
    };
    res.on('data', (c: Buffer | string) => {
      for (const l of lines.push(c)) handle(l);
    });
    res.on('end', () => finish());
    res.on('close', () => finish());
    res.on('error', (e: Error) => finish(e));
  });
}
