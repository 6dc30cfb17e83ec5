import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Log } from '../log.js';
import { StoreError } from '../store/errors.js';
import type { SdkChunkFile, Store } from '../store/types.js';

// The SDK's deferred parts: files beside dist/cairn.js named `cairn-<name>.<content hash>.js`, loaded
// by a URL relative to the head's (/v1/sdk.js → /v1/cairn-core.<hash>.js, which loads
// /v1/cairn-prompts.<hash>.js the same way).
//
// A page asks for the chunks of the build whose head it got, which may not be this instance's: a
// head served by an instance of the previous build during a rolling deploy, a tab left open across
// a deploy or a restart. So every instance keeps its build's chunks in the database (the archive:
// at start, then daily, and after a failed pass sooner), and serves from there a chunk its own build
// does not have, for SDK_CHUNK_DAYS after the last instance shipping it was seen. Builds that
// shipped before the archive existed were never kept.

/** The only names served: no slash, no dot-dot, nothing but a chunk's own shape. */
export const CHUNK_NAME = /^cairn-[a-z0-9-]+\.[0-9a-f]{8,64}\.js$/;

/** A chunk no instance has shipped for this many days leaves the archive. */
export const SDK_CHUNK_DAYS = 30;
const DAY_MS = 86_400_000;
/** How often a running instance records its build's chunks as still shipped (and prunes the old ones). */
export const SDK_ARCHIVE_INTERVAL_MS = DAY_MS;
/**
 * After a failed pass, the next one is this much later, doubling up to the most below (a rolling
 * deploy's "too many connections" passes in seconds: the new build's chunks are not missing for a day).
 */
export const SDK_ARCHIVE_RETRY_MS = { first: 30_000, most: 3_600_000 } as const;

export interface SdkChunk {
  bytes: Uint8Array<ArrayBuffer>;
  /** Unquoted: sha-256 of the bytes, base64url, 22 characters. */
  etag: string;
}

export interface SdkChunks {
  /**
   * The chunk, null when there is no such chunk, or 'unbuilt' when the SDK's dist/ cannot be found and
   * the archive has no such chunk either.
   */
  read(name: string): Promise<SdkChunk | null | 'unbuilt'>;
}

/** Chunks kept in memory at most: a few builds' worth. */
const MAX_CACHED = 32;

/**
 * Reads a chunk from memory, else from the directory of the resolved dist/cairn.js, else from the
 * archive (the store). A name holds its content's hash, so a chunk read once is kept (its bytes
 * cannot change under that name) and still served after a rebuild deletes it. A missing chunk is not
 * remembered: it may be built, or archived by another instance, later. An instance whose SDK is not
 * built still serves the archived chunks: a page's head may have come from another instance; only a
 * chunk found nowhere is 'unbuilt' there (503, not 404: this instance cannot tell it does not exist).
 *
 * Bytes are served, and cached, only when they match the hash in their name (checked once per name:
 * memory holds only checked chunks): a file named by hand or half written by a rebuild falls through
 * to the archive, and a row that does not match counts as missing. Either is warned about, once per
 * name. Any failure of the archive's read rejects with StoreError 'unavailable' (the app's 503: a
 * statement timeout or an I/O error is worth a retry too).
 */
export function createSdkChunks(
  sdkPath: () => string | null,
  archive?: Pick<Store, 'sdkChunk'>,
  log?: Pick<Log, 'warn'>,
): SdkChunks {
  const cache = new Map<string, SdkChunk>();
  const warned = new Set<string>();
  /** The bytes when they match the name; else null, with a warning (once per name and source). */
  const checked = (name: string, bytes: Uint8Array<ArrayBuffer> | null, from: 'dist' | 'archive') => {
    if (!bytes || chunkMatchesName(name, bytes)) return bytes;
    const key = `${from}:${name}`;
    if (!warned.has(key)) {
      if (warned.size >= MAX_CACHED) warned.clear();
      warned.add(key);
      log?.warn({ chunk: name, from }, 'SDK chunk whose bytes do not match its name: not served from there');
    }
    return null;
  };
  return {
    async read(name) {
      if (!CHUNK_NAME.test(name)) return null;
      const hit = cache.get(name);
      if (hit) return hit;
      const head = sdkPath();
      let bytes: Uint8Array<ArrayBuffer> | null = null;
      if (head) {
        try {
          bytes = new Uint8Array(await readFile(join(dirname(head), name)));
        } catch {
          // Not in this build: the archive may have it.
        }
        bytes = checked(name, bytes, 'dist');
      }
      if (!bytes && archive) {
        let kept: Uint8Array<ArrayBuffer> | null;
        try {
          kept = await archive.sdkChunk(name);
        } catch (err) {
          const why =
            err instanceof Error ? `${(err as { code?: unknown }).code ?? err.name}: ${err.message}` : String(err);
          throw new StoreError('unavailable', `cannot read the SDK chunks' archive (${why.slice(0, 200)})`, {
            cause: err,
          });
        }
        bytes = checked(name, kept, 'archive');
      }
      if (!bytes) return head ? null : 'unbuilt';
      const chunk = { bytes, etag: createHash('sha256').update(bytes).digest('base64url').slice(0, 22) };
      if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
      cache.set(name, chunk);
      return chunk;
    },
  };
}

/** Whether the hex hash in a chunk's name begins the sha-256 of its bytes, as the SDK's build names them. */
export function chunkMatchesName(name: string, bytes: Uint8Array): boolean {
  const hash = /\.([0-9a-f]{8,64})\.js$/.exec(name)?.[1];
  return hash !== undefined && createHash('sha256').update(bytes).digest('hex').startsWith(hash);
}

/**
 * The chunks of the build at `head`: the files beside it named as CHUNK_NAME says. A file whose bytes
 * do not match the hash in its name (being rewritten by a build, or named by hand) is skipped: the
 * archive serves its bytes under that name to every instance, for good.
 */
export async function buildChunks(head: string): Promise<{ chunks: SdkChunkFile[]; skipped: string[] }> {
  const dir = dirname(head);
  const chunks: SdkChunkFile[] = [];
  const skipped: string[] = [];
  for (const name of (await readdir(dir)).filter((n) => CHUNK_NAME.test(n)).sort()) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(join(dir, name));
    } catch {
      continue; // deleted since the listing (a rebuild): not this build's any more
    }
    if (chunkMatchesName(name, bytes)) chunks.push({ name, bytes });
    else skipped.push(name);
  }
  return { chunks, skipped };
}

export interface SdkArchiveOptions {
  store: Pick<Store, 'keepSdkChunks' | 'pruneSdkChunks'>;
  /** Where dist/cairn.js is (the chunks are beside it), or null when the SDK is not built. */
  sdkPath: () => string | null;
  now?: () => number;
}

export interface SdkArchivePass {
  /** The chunks of this instance's build, recorded as shipped now. */
  kept: string[];
  /** Files of the chunk shape whose bytes do not match their name: not kept. */
  skipped: string[];
  /** Chunks no instance has shipped for SDK_CHUNK_DAYS, deleted. */
  pruned: number;
}

/** Records this instance's build's chunks as shipped now, then prunes the ones not seen for SDK_CHUNK_DAYS. */
export async function archiveSdkChunks(opts: SdkArchiveOptions): Promise<SdkArchivePass> {
  const at = (opts.now ?? Date.now)();
  const head = opts.sdkPath();
  const { chunks, skipped } = head ? await buildChunks(head) : { chunks: [], skipped: [] };
  if (chunks.length) await opts.store.keepSdkChunks(chunks, at);
  // Every running instance records its build daily: a chunk seen this long ago is no instance's.
  const pruned = await opts.store.pruneSdkChunks(at - SDK_CHUNK_DAYS * DAY_MS);
  return { kept: chunks.map((c) => c.name), skipped, pruned };
}

export interface SdkArchive {
  /**
   * Stops the timer (the daily one or a retry's) and waits for a pass under way to end, so the store
   * can be closed after it; no pass runs or is scheduled after.
   */
  stop(): Promise<void>;
}

/**
 * Runs a pass now (after the current tick, never in the way of the start or of requests), then
 * `intervalMs` after each pass that succeeded, on a timer that does not keep the process alive. A
 * failure is logged as a warning and retried sooner: `retryMs.first` later, doubling after each
 * failure in a row up to `retryMs.most`; the next success returns to the daily rhythm. Meanwhile
 * this instance serves its own build's chunks, and what the others archived.
 */
export function startSdkArchive(
  opts: SdkArchiveOptions & {
    log: Log;
    intervalMs?: number;
    retryMs?: { first: number; most: number };
    onPass?: (pass: SdkArchivePass) => void;
  },
): SdkArchive {
  const interval = opts.intervalMs ?? SDK_ARCHIVE_INTERVAL_MS;
  const retry = opts.retryMs ?? SDK_ARCHIVE_RETRY_MS;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  /** Failed passes in a row. */
  let failures = 0;
  const schedule = (ms: number) => {
    timer = setTimeout(run, ms);
    timer.unref();
  };
  const pass = async (): Promise<number> => {
    let done: SdkArchivePass;
    try {
      done = await archiveSdkChunks(opts);
    } catch (err) {
      const wait = Math.min(retry.first * 2 ** failures, retry.most);
      failures++;
      opts.log.warn(
        { err: err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 200) : String(err), retryInMs: wait },
        'SDK chunks not archived: other instances cannot serve this build’s until a pass succeeds',
      );
      return wait;
    }
    failures = 0;
    if (done.skipped.length)
      opts.log.warn({ skipped: done.skipped }, 'SDK chunks whose bytes do not match their name: not archived');
    opts.log.info({ kept: done.kept, pruned: done.pruned }, 'SDK chunks archived');
    opts.onPass?.(done);
    return interval;
  };
  function run() {
    timer = undefined;
    if (stopped) return;
    running = pass()
      .catch(() => interval) // onPass threw: the pass itself was done
      .then((wait) => {
        running = undefined;
        if (!stopped) schedule(wait);
      });
  }
  schedule(0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
