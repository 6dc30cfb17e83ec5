import { z } from 'zod';

/** GA4's default channel groups, in the order GA4 evaluates them. */
export const CHANNELS = [
  'Direct',
  'Cross-network',
  'Paid Shopping',
  'Paid Search',
  'Paid Social',
  'Paid Video',
  'Display',
  'Paid Other',
  'Organic Shopping',
  'Organic Social',
  'Organic Video',
  'Organic Search',
  'Referral',
  'Email',
  'Affiliates',
  'Audio',
  'SMS',
  'Mobile Push Notifications',
  'Unassigned',
] as const;

export const channelSchema = z.enum(CHANNELS);
export type Channel = z.infer<typeof channelSchema>;

const short = z.string().max(200);

/** One acquisition context: where a visit came from. The SDK's `resolveTouch` produces it. */
export const touchSchema = z.object({
  source: short,
  medium: short,
  campaign: short.optional(),
  term: short.optional(),
  content: short.optional(),
  id: short.optional(),
  channel: channelSchema,
  clickId: z.object({ param: z.string().max(40), value: z.string().max(500) }).optional(),
  referrerHost: z.string().max(253).optional(),
  landingPath: z.string().max(2000),
  /** Epoch milliseconds. */
  at: z.number().int().nonnegative(),
});
export type Touch = z.infer<typeof touchSchema>;
