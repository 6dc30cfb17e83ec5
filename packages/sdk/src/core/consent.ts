import type { DeviceState } from '../state/device-state.js';
import { CONSENT_COOKIE, readCookie } from '../storage/device-id.js';
import type { Consent, SiteConfig } from '../types.js';

export const validConsent = (c: unknown) =>
  /^(granted|denied|pending)$/.test(c as string) ? (c as Consent) : undefined;

/** The visitor refused with cairn.consent('denied') on an earlier page or in another tab (the marker cookie). */
export const refused = (): boolean => !!readCookie(CONSENT_COOKIE, 'denied');

/**
 * Consent at start: the visitor's refusal (newer than any grant: it wiped the grant), else an
 * explicit grant stored earlier, else Global Privacy Control as a denial (unless the option or the
 * config says not to), else the option (data-consent), the config's consent.default, 'granted'.
 */
export function startConsent(
  options: { consent?: Consent | null; respectGpc?: boolean | null },
  config: SiteConfig | undefined,
  stored: DeviceState | undefined,
): Consent {
  const siteConsent = config?.consent;
  return refused()
    ? 'denied'
    : stored?._granted
      ? 'granted'
      : (options.respectGpc ?? siteConsent?.respectGpc ?? 1) &&
          (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl
        ? 'denied'
        : validConsent(options.consent) || validConsent(siteConsent?.default) || 'granted';
}
