// The ESM entry, for bundlers and Node. Nothing here touches the DOM at import time: the pure
// functions (resolveTouch, matchVariant, …) work in plain Node; createCairn needs a window.
export { createCairn, type Cairn, type CairnOptions, type CairnEventData, type PageProps } from './cairn.js';
export { CairnError, type CairnErrorCode } from './errors.js';
export { resolveTouch, registrableDomain, channelOf, type TouchInput } from './touch/index.js';
export { deviceKind, DEFAULT_DESKTOP_QUERY } from './device-kind.js';
export { matchVariant, globMatch } from './variants/index.js';
export { refusal as regexRefusal } from './variants/match.js';
export { pickPrompt } from './prompts/index.js';
export { migrate as migrateHistory, toHistory, CAPS, type StoredHistory, type HistoryV0 } from './history/history.js';
export { SESSION_MS } from './state/session.js';
export type * from './types.js';
