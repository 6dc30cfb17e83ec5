// What the order tests share: devices with their own token, touches and purchases as the SDK sends
// them, and the part of the channels report they read.
import { randomBytes } from 'node:crypto';
import type { CairnEvent, Touch } from '@cairn/schema';
import { id, touch } from './http.js';

export interface Device {
  id: string;
  token: string;
}

export const newDevice = (): Device => ({ id: id(), token: randomBytes(24).toString('base64url') });

export const touchEvent = (at: number, source: string, channel: Touch['channel']): CairnEvent =>
  ({ id: id(), type: 'touch', at, touch: touch({ source, channel, medium: 'x', at }) }) as CairnEvent;

/** A purchase; without `orderId` it names no order. */
export const purchase = (at: number, orderId: string | undefined, value: number): CairnEvent =>
  ({ id: id(), type: 'purchase', at, ...(orderId ? { orderId } : {}), value, currency: 'EUR' }) as CairnEvent;

export interface ChannelsBody {
  totals: { orders: number; revenue: number; purchasers: number };
  channels: { channel: string; orders: number; revenue: number }[];
  orderChecks: { confirmationRequired: boolean; conflictingClaims: number; unconfirmed: number };
}
