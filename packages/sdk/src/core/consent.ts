import type { DeviceState } from '../state/device-state.js';
import type { Consent, SiteConfig } from '../types.js';

export const validConsent = (c: unknown) =>
  /^(granted|denied|pending)$/.test(c as string) ? (c as Consent) : undefined;

/**
 * Consent at start: an explicit grant stored earlier, else Global Privacy Control as a denial
 * (unless the option or the config says not to), else the option (data-consent), the config's
 * consent.default, 'granted'.
 */
export function startConsent(
  options: { consent?: Consent | null; respectGpc?: boolean | null },
  config: SiteConfig | undefined,
  stored: DeviceState | undefined,
): Consent {
  const siteConsent = config?.consent;
  return stored?._granted
    ? 'granted'
    : (options.respectGpc ?? siteConsent?.respectGpc ?? 1) &&
        (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl
      ? 'denied'
      : validConsent(options.consent) || validConsent(siteConsent?.default) || 'granted';
}
