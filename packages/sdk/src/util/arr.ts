/** `x` when it is an array, else an empty one: config and input may be unvalidated. */
export const arr = <T>(x: T[] | readonly T[] | unknown): T[] => (Array.isArray(x) ? x : []);
