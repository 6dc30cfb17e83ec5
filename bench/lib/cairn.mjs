// Loads the workspace's built packages, with a clear message when they have not been built yet.
import { existsSync } from 'node:fs';
import { SERVER_DIST } from './paths.mjs';

/** @returns {Promise<typeof import('@cairn/server')>} */
export async function loadServer() {
  if (!existsSync(SERVER_DIST))
    throw new Error(
      '@cairn/server is not built (packages/server/dist is missing): run node scripts/pnpm.mjs run build',
    );
  const mod = await import('@cairn/server');
  if (typeof mod.startServer !== 'function') throw new Error('@cairn/server does not export startServer');
  return mod;
}
