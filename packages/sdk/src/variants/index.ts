// Landing content by source (issue 6): decided synchronously, applied before first paint.
export { matchVariant, type MatchInput, type MatchResult, type Miss } from './match';
export { applySlots, hideSlots } from './slots';
export { startVariants } from './start';
export { globMatch } from '../util/glob';
export { isSafeUrl } from '../util/url';
