import type { Readable } from 'node:stream';
import { extract, pack } from 'tar-stream';
import { RuntimeErrors } from './runtime-errors.js';

/** The small JSON files of a `docker save` tar that name images; read whole (capped), rewritten without names. */
const NAMING_FILES = new Set(['manifest.json', 'index.json', 'repositories']);
const NAMING_FILE_LIMIT = 1024 * 1024;
/** OCI annotations that make an engine tag what it loads */
const NAME_ANNOTATIONS = ['io.containerd.image.name', 'org.opencontainers.image.ref.name'];

export interface FilteredSave {
  /** the tar to hand the engine: the same layers and configs, with every image name taken out */
  tar: Readable;
  /** rejects (and `tar` errors) when the input is not a `docker save` of exactly `want`; resolves when it was read whole */
  checked: Promise<void>;
}

/**
 * Re-streams a `docker save` tar entry by entry (layers are piped, never held in memory) with its
 * naming files rewritten: manifest.json keeps its one image without RepoTags, `repositories` is
 * dropped, index.json loses its name annotations. The engine then loads the image untagged, so an
 * upload can never move a tag on the host (another app's image, a base image). The tar must hold
 * exactly one image, named `want` in its manifest; anything else (not a tar, no manifest, another
 * image, several images) fails `checked` and the output, so the engine gets a truncated upload.
 */
/** A size cap on the upload: its bytes and how the user set it (`1g`). */
export interface UploadCap {
  bytes: number;
  text: string;
}

export function filterDockerSave(input: Readable, want: string, cap: UploadCap | null = null): FilteredSave {
  const ex = extract();
  const out = pack();
  let sawManifest = false;
  let failed = false;
  let fail!: (e: Error) => void;
  let ok!: () => void;
  const checked = new Promise<void>((resolve, reject) => {
    ok = resolve;
    fail = (e) => {
      if (failed) return;
      failed = true;
      reject(e);
      out.destroy(e);
      ex.destroy(e);
      input.unpipe(ex as never);
      input.resume();
    };
  });
  checked.catch(() => {});

  ex.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '');
    if (!NAMING_FILES.has(name)) {
      if (header.type === 'file' || header.type === 'contiguous-file') {
        // an upload cut mid-layer (over the size cap, truncated, refused) destroys both ends with the
        // error `checked` already carries: without these handlers it would be thrown as uncaught
        const sink = out.entry(header, next);
        sink.on('error', () => {});
        stream.on('error', () => {});
        stream.pipe(sink);
      } else {
        stream.on('end', () => out.entry(header, next));
        stream.resume();
      }
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (data: unknown) => {
      const c = data as Buffer;
      size += c.length;
      if (size > NAMING_FILE_LIMIT) fail(RuntimeErrors.notDockerSave(`${name} in the tar is larger than 1 MiB; not a docker save`));
      else chunks.push(c);
    });
    stream.on('end', () => {
      try {
        const text = rewrite(name, Buffer.concat(chunks).toString('utf8'), want);
        if (name === 'manifest.json') sawManifest = true;
        if (text === null) next();
        else out.entry({ ...header, size: Buffer.byteLength(text) }, text, next);
      } catch (e) {
        fail(e as Error);
      }
    });
  });
  ex.on('finish', () => {
    if (!sawManifest) return fail(RuntimeErrors.notDockerSave('the input is not `docker save` output (it has no manifest.json)'));
    out.finalize();
    ok();
  });
  ex.on('error', (e: Error) => fail(RuntimeErrors.notDockerSave(`the input is not a docker save tar (${e.message})`, e)));
  input.on('error', (e: Error) => fail(RuntimeErrors.notDockerSave(`reading the upload failed: ${e.message}`, e)));
  if (cap !== null) {
    // counted as it arrives: past the cap the upload is cut, so the engine gets a truncated tar and loads nothing
    let seen = 0;
    input.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > cap.bytes && !failed)
        fail(
          RuntimeErrors.imageTooLarge(
            `the upload is larger than the cap of ${cap.text} (builder:set --global max-image-size); nothing was loaded`,
          ),
        );
    });
  }
  input.pipe(ex as never);
  return { tar: out as unknown as Readable, checked };
}

/** The naming file without names; null drops it. Throws when the manifest is not one image named `want`. */
function rewrite(name: string, text: string, want: string): string | null {
  if (name === 'repositories') return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw RuntimeErrors.notDockerSave(`${name} in the tar is not JSON; not a docker save`);
  }
  if (name === 'index.json') {
    const index = json as { manifests?: { annotations?: Record<string, string> }[] };
    for (const m of index.manifests ?? []) for (const a of NAME_ANNOTATIONS) delete m.annotations?.[a];
    return JSON.stringify(index);
  }
  if (!Array.isArray(json) || json.some((m) => typeof m !== 'object' || m === null))
    throw RuntimeErrors.notDockerSave('manifest.json in the tar is not a list of images; not a docker save');
  const tags = json.flatMap((m: { RepoTags?: unknown }) => (Array.isArray(m.RepoTags) ? m.RepoTags.map(String) : []));
  if (json.length !== 1)
    throw RuntimeErrors.wrongImage(`the tar holds ${json.length} images (${tags.join(', ') || 'untagged'}); save only ${want}`);
  if (!tags.map(normalizeRef).includes(normalizeRef(want)))
    throw RuntimeErrors.wrongImage(`the tar holds ${tags.join(', ') || 'an untagged image'}, not ${want}`);
  return JSON.stringify(json.map((m: Record<string, unknown>) => ({ ...m, RepoTags: null })));
}

/** `docker.io/library/foo:1` and `foo:1` name the same image. */
function normalizeRef(ref: string): string {
  return ref.replace(/^(docker\.io\/)?library\//, '').replace(/^docker\.io\//, '');
}
