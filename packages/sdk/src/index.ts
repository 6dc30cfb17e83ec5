// The ESM entry, for bundlers and Node. Nothing here touches the DOM at import time: the pure
// functions (resolveTouch, matchVariant, …) work in plain Node; createCairn needs a window.
export { createCairn, type Cairn, type CairnOptions, type CairnEventData, type PageProps } from './cairn';
export { CairnError, type CairnErrorCode } from './errors';
export { resolveTouch, registrableDomain, channelOf, type TouchInput } from './touch';
export { deviceKind, DEFAULT_DESKTOP_QUERY } from './device-kind';
export { matchVariant, globMatch } from './variants';
export { pickPrompt } from './prompts';
export { migrate as migrateHistory, toHistory, CAPS, type StoredHistory, type HistoryV0 } from './history/history';
export { enter as enterSession, SESSION_MS, type SyncState } from './state/sync-state';
export type * from './types';
