/** JSON.parse that never throws: undefined for bad or missing input. */
export function parse(s: string | null | undefined): any {
  try {
    return JSON.parse(s!) ?? undefined;
  } catch {}
}

/** localStorage.getItem, parsed; undefined when storage is unavailable or the value is bad. */
export function lsGet(l: Storage | undefined, k: string): any {
  try {
    return parse(l!.getItem(k));
  } catch {}
}

/** localStorage.setItem of JSON; quietly nothing when storage is unavailable or full. */
export function lsSet(l: Storage | undefined, k: string, v: unknown): void {
  try {
    l!.setItem(k, JSON.stringify(v));
  } catch {}
}
