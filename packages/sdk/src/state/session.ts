import type { Touch, Touches } from '../types.js';
import { uuid } from '../uuid.js';
import type { DeviceState } from './device-state.js';

// Sessions and touches, decided synchronously on the device state before first paint.

/** A new session starts after this much inactivity. */
export const SESSION_MS = 30 * 60e3;

/** Two touches are the same campaign when source, medium, campaign, term, content and click id agree. */
export const campaignKey = (t: Touch | null | undefined) =>
  t && [t.source, t.medium, t.campaign, t.term, t.content, t.clickId?.value].join('\n');

/**
 * Enters a page (or any activity) at `now`, with the touch resolved for it (null: internal
 * navigation, or no new touch). Mutates `s`. A new session starts after 30 minutes of inactivity,
 * or when a non-Direct touch other than this session's arrives; a Direct touch mid-session is
 * ignored (a reopened tab). Returns the touch when it is new to the journey, else null.
 */
export function enter(s: DeviceState, touch: Touch | null, now: number): Touch | null {
  const notDirect = touch && touch.channel != 'Direct';
  const fresh =
    !s._sessionId ||
    now - s._lastActivity! >= SESSION_MS ||
    (notDirect && campaignKey(touch) != campaignKey(s._sessionTouch));
  s._lastActivity = now;
  if (!fresh) return null;
  s._sessionId = uuid();
  s._variant = undefined;
  if (touch) {
    s._sessionTouch = touch;
    s._firstTouch ||= touch;
    if (notDirect) s._lastTouch = touch;
  }
  return touch;
}

export const touchesOf = (s: DeviceState): Touches => ({
  first: s._firstTouch || null,
  last: s._lastTouch || null,
  current: s._sessionTouch || null,
});
