import type { DeviceKind } from './types.js';

export const DEFAULT_DESKTOP_QUERY = '(min-width: 768px) and (pointer: fine)';

/** Desktop when the configured media query matches (by default: 768 px or wider, with a fine pointer). A bad query matches nothing. */
export const deviceKind = (
  win: Pick<Window, 'matchMedia'> | undefined,
  query: string = DEFAULT_DESKTOP_QUERY,
): DeviceKind => (win?.matchMedia?.(query).matches ? 'desktop' : 'mobile');
