import type { Stub } from './stub.js';

// Where the core finds the head it takes over from. In the script tag's core the build replaces this
// module (build.mjs, the hand-over): there the stub also carries the head's functions that the core
// reuses, and a core from another build than the head's finds no stub, and does nothing.

/** The stub the head left on `window.cairn`, if any. */
export const headStub = (): Stub | undefined => (window as Window & { cairn?: Stub }).cairn;
