// The profile's holdout arms: a person's arm of each variant and prompt is that of their first
// exposure on any of their devices, so a device that logs in adopts it (the SDK's holdout).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { profileSchema, type CairnEvent } from '@cairn/schema';
import type { Store } from '../src/store/index.js';
import { buildProfile, type ExposureRow, type ProfileRows } from '../src/store/profile.js';
import { makeStores, type TestDb } from './helpers/db.js';

// A ceiling for a shared, busy machine (real databases), not a speed assertion.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const rows = (exposures: ExposureRow[]): ProfileRows => ({
  userId: 'ann',
  kinds: new Map(),
  pages: [],
  products: [],
  categories: [],
  touches: [],
  firstTouches: [],
  lastTouches: [],
  optedIn: false,
  exposures,
});
const exposure = (id: string, at: number, type: string, item: unknown, preview = false): ExposureRow => ({
  id,
  at,
  type,
  item,
  preview,
});

describe('buildProfile: arms', () => {
  it('takes each item’s earliest exposure across devices, ties by event id; previews and odd rows are not exposures', () => {
    const p = buildProfile(
      rows([
        exposure('e-5', 50, 'variant_applied', 'pin'),
        exposure('e-1', 10, 'variant_applied', 'pin', true),
        exposure('e-3', 30, 'variant_held', 'pin'),
        exposure('e-b', 20, 'prompt_shown', 'guide'),
        exposure('e-a', 20, 'prompt_held', 'guide'),
        exposure('e-9', 5, 'variant_held', null),
        exposure('e-7', 70, 'prompt_shown', 'join'),
      ]),
    );
    expect(p.arms).toEqual({ variants: { pin: 'held' }, prompts: { guide: 'held', join: 'treated' } });
    expect(profileSchema.parse(p).arms).toEqual(p.arms);
  });

  it('leaves arms out when nothing was exposed (and when a store reads no exposures)', () => {
    expect(buildProfile(rows([])).arms).toBeUndefined();
    expect(buildProfile(rows([exposure('e-1', 1, 'variant_applied', 'pin', true)]))).not.toHaveProperty('arms');
    const { exposures: _, ...none } = rows([]);
    expect(buildProfile(none)).not.toHaveProperty('arms');
  });
});

describe.each(makeStores())('$name: the merged profile’s arms', (db: TestDb) => {
  let store: Store;
  beforeAll(async () => {
    store = await db.open();
  });
  afterAll(() => db.cleanup());

  const ev = (id: string, type: string, at: number, props: object) => ({ id, type, at, ...props }) as CairnEvent;

  it('are the first exposure’s on any linked device, a preview left out', async () => {
    const site = `holdout-${Date.now().toString(36)}`;
    const phone = `phone-0000001-${site}`;
    const desk = `desk-00000001-${site}`;
    // The phone was held out of the variant first; the desk saw it later (a crossover), and a
    // preview before both counts for nothing.
    await store.ingest(
      site,
      phone,
      [
        ev('ph-exp-1', 'variant_held', 2000, { variant: 'pin', slots: ['hero'] }),
        ev('ph-exp-2', 'prompt_shown', 2500, { prompt: 'guide', variant: 'default', device: 'mobile' }),
      ],
      'hp',
      'mobile',
    );
    await store.ingest(
      site,
      desk,
      [
        ev('dk-exp-0', 'variant_applied', 1000, { variant: 'pin', slots: ['hero'], preview: true }),
        ev('dk-exp-1', 'variant_applied', 3000, { variant: 'pin', slots: ['hero'] }),
        ev('dk-exp-2', 'prompt_held', 1500, { prompt: 'guide', variant: 'default', device: 'desktop' }),
        ev('dk-exp-3', 'variant_applied', 3500, { variant: 'email', slots: ['hero'] }),
      ],
      'hd',
      'desktop',
    );
    // Anonymous, each device has its own.
    expect((await store.profile(site, desk)).arms).toEqual({
      variants: { pin: 'treated', email: 'treated' },
      prompts: { guide: 'held' },
    });
    await store.link(site, phone, 'ann', 4000);
    await store.link(site, desk, 'ann', 5000);
    const merged = { variants: { pin: 'held', email: 'treated' }, prompts: { guide: 'held' } };
    expect((await store.profile(site, desk)).arms).toEqual(merged);
    expect((await store.profile(site, phone)).arms).toEqual(merged);
  });
});
