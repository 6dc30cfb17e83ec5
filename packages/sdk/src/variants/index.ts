// Landing content by source: decided synchronously, applied before first paint.
export { matchVariant, type MatchInput, type MatchResult, type Miss } from './match.js';
export { applySlots, hideSlots } from './slots.js';
export { startVariants } from './start.js';
export { globMatch } from '../util/glob.js';
export { isSafeUrl } from '../util/url.js';
