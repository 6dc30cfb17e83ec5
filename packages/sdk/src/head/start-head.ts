import { startConfig } from '../core/config.js';
import { startConsent } from '../core/consent.js';
import type { CairnOptions } from '../core/options.js';
import { deviceKind } from '../device-kind.js';
import { deviceOf, newDevice, readState, type DeviceState } from '../state/device-state.js';
import { enter, touchesOf } from '../state/session.js';
import { COOKIE, readCookie } from '../storage/device-id.js';
import { resolveTouch } from '../touch/index.js';
import type {
  CairnEvent,
  Consent,
  DeviceKind,
  Emit,
  SiteConfig,
  Touch,
  Touches,
  Traits,
  VariantContext,
} from '../types.js';
import { uuid } from '../uuid.js';
import { heldOut } from '../variants/holdout.js';
import { hideSlots } from '../variants/slots.js';
import { traitsWhy } from '../variants/match.js';
import { startVariants } from '../variants/start.js';

// The head: what must happen before first paint, and nothing else. It reads the sync state and the
// config, resolves the touch, decides the session and the consent, and applies the variant. It
// writes nothing and sends nothing: the events it makes (the touch, variant_applied) are held until
// the core takes over, which stores them after first paint. Storage, sync, identity and prompts
// are the core's (src/cairn.ts).

export type Sticky = VariantContext['sticky'];

export interface Head {
  _options: CairnOptions;
  _site: string;
  /** The config known at start (option, inline or cached), if any. */
  _config?: SiteConfig;
  /** It came with the page: nothing to fetch. */
  _configWithPage?: 1;
  _consent: Consent;
  /** The sync state as this page decided it; the core stores it (over the latest stored one). */
  _state: DeviceState;
  /** The touch this page brought, when new to the journey. */
  _arrived: Touch | null;
  _deviceKind: DeviceKind;
  /** When the page started: its automatic page view's time. */
  _at: number;
  /** The id of the automatic page view, decided now so that a page hide before the core started sends the same one. */
  _pageId: string;
  /** Where events go: held here until the core takes over and puts its own. */
  _record: (event: CairnEvent) => void;
  _held: CairnEvent[];
  /**
   * Decides and applies the variant for a config (the core calls it again for a config fetched
   * late), with the person's traits as the device holds them.
   */
  _variants(config: SiteConfig, touches: Touches, sticky: Sticky, traits?: Traits): void;
  /** The traits matcher, handed to the core's prompts so that it ships once, in the head. */
  _traitsWhy: typeof traitsWhy;
  /** Shows the slots hidden while a config was awaited. */
  _reveal(): void;
  /** This page made the device id (a new visitor's, for the holdouts): no earlier page stored it. */
  _made: boolean;
}

/**
 * Starts the head. `debug` shows the ?cairn_debug=1 panel; the script tag's head defers it to the
 * core, as the panel is not render-blocking.
 */
export function startHead(options: CairnOptions, debug?: VariantContext['debug']): Head {
  const doc = document;
  const site = options.site || '';
  const { _config: config, _withPage } = startConfig(options.config, site, doc);
  const stored = readState();
  const consent = startConsent(options, config, stored);
  // Without consent nothing stored is used: a later grant starts from what this page decided. With a
  // cookie domain, another subdomain may have moved the device (a logout there): what is stored here
  // is the old device's, and this page starts afresh.
  const cookieId = options.cookieDomain && /(?:^|; )cairn_id=([\w-]{8,64})/.exec(doc.cookie)?.[1];
  const state: DeviceState =
    consent != 'granted' || !stored
      ? {}
      : cookieId && stored._deviceId && cookieId != stored._deviceId
        ? { _granted: stored._granted }
        : stored;
  const at = Date.now();
  const arrived = enter(
    state,
    resolveTouch({ url: location.href, referrer: doc.referrer, siteHosts: options.siteHosts || config?.siteHosts }),
    at,
  );
  const kind = deviceKind(window, config?.desktopQuery);
  // The holdouts are decided with the device id this visitor keeps: a new visitor's is made now,
  // before first paint (the core stores it, as it would have made it).
  const known = deviceOf(state) || (consent == 'granted' && readCookie(COOKIE));
  const id = known || newDevice(state);
  const head: Head = {
    _options: options,
    _site: site,
    _config: config,
    _configWithPage: _withPage,
    _consent: consent,
    _state: state,
    _arrived: arrived,
    _deviceKind: kind,
    _at: at,
    _pageId: uuid(),
    _held: [],
    _record: (event) => head._held.push(event),
    _variants: (config, touches, sticky, traits) =>
      startVariants({ config, touches, traits, device: kind, url: new URL(location.href), doc, sticky, emit, debug }),
    _traitsWhy: traitsWhy,
    _reveal: () => {},
    _made: !known,
  };
  const emit: Emit = (type, props) => head._record({ ...props, id: uuid(), type, at: Date.now() });
  // A new touch joins the journey, first of this page's events.
  if (arrived) emit('touch', { touch: arrived });
  if (config)
    head._variants(
      config,
      touchesOf(state),
      {
        get: () => head._state._variant,
        set: (variant) => (head._state._variant = variant),
        // Before consent, no arm: this page's device id is its own (src/variants/holdout.ts).
        _heldOut: (key, share) => (consent == 'granted' ? heldOut(head._state, id, key, share) : null),
      },
      state._traits,
    );
  // No config yet: the slots stay hidden (300 ms at most) until the fetched one lands.
  else if (consent == 'granted' && options.server && site) head._reveal = hideSlots(doc);
  return head;
}
