/** JSON.parse that never throws: undefined for bad or missing input. */
// biome-ignore lint/suspicious/noExplicitAny: stored and inline JSON is unvalidated; every reader checks what it reads
export const parse = <T = any>(s: string | null | undefined): T | undefined => {
  try {
    return JSON.parse(s!) ?? undefined;
  } catch {}
};

/** localStorage, parsed; undefined when storage is unavailable or the value is bad. */
export const lsGet = (k: string) => {
  try {
    return parse(localStorage.getItem(k));
  } catch {}
};

/** localStorage.setItem of JSON; quietly nothing when storage is unavailable or full. */
export const lsSet = (k: string, v: unknown): void => {
  try {
    localStorage.setItem(k, JSON.stringify(v));
  } catch {}
};

/** localStorage.removeItem; quietly nothing when storage is unavailable. */
export const lsRemove = (k: string): void => {
  try {
    localStorage.removeItem(k);
  } catch {}
};
