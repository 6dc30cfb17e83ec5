import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

// The SDK's deferred parts: files beside dist/cairn.js named `cairn-<name>.<content hash>.js`, loaded
// by a URL relative to the head's (/v1/sdk.js → /v1/cairn-core.<hash>.js, which loads
// /v1/cairn-prompts.<hash>.js the same way).

/** The only names served: no slash, no dot-dot, nothing but a chunk's own shape. */
export const CHUNK_NAME = /^cairn-[a-z0-9-]+\.[0-9a-f]{8,64}\.js$/;

export interface SdkChunk {
  bytes: Uint8Array<ArrayBuffer>;
  /** Unquoted: sha-256 of the bytes, base64url, 22 characters. */
  etag: string;
}

export interface SdkChunks {
  /** The chunk, null when there is no such file, or 'unbuilt' when the SDK's dist/ cannot be found. */
  read(name: string): Promise<SdkChunk | null | 'unbuilt'>;
}

/** Chunks kept in memory at most: a few builds' worth. */
const MAX_CACHED = 32;

/**
 * Reads chunks from the directory of the resolved dist/cairn.js. A name holds its content's hash, so
 * a chunk read once is kept (its bytes cannot change under that name) and still served after a
 * rebuild deletes it, for pages whose head was cached before. A missing file is not remembered: it
 * may be built later.
 */
export function createSdkChunks(sdkPath: () => string | null): SdkChunks {
  const cache = new Map<string, SdkChunk>();
  return {
    async read(name) {
      if (!CHUNK_NAME.test(name)) return null;
      const hit = cache.get(name);
      if (hit) return hit;
      const head = sdkPath();
      if (!head) return 'unbuilt';
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = new Uint8Array(await readFile(join(dirname(head), name)));
      } catch {
        return null;
      }
      const chunk = { bytes, etag: createHash('sha256').update(bytes).digest('base64url').slice(0, 22) };
      if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
      cache.set(name, chunk);
      return chunk;
    },
  };
}
