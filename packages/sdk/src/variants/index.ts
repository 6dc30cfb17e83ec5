// Landing content by source (issue 6): decided synchronously, applied before first paint.
export { matchVariant, globMatch, type MatchInput, type MatchResult, type Miss } from './match';
export { applySlots, hideSlots, isSafeUrl } from './slots';
export { startVariants } from './start';
export { showDebug } from './debug';
