import type { ReportDevice } from '../store/types.js';

// A person is a user when the device is linked to one, else the device itself: so identified users
// count once however many devices they use, and anonymous visitors count once per device.

export interface Person {
  key: string;
  userId: string | null;
  /** When the person became identified: the earliest link among their devices (epoch ms), or null. */
  identifiedAt: number | null;
}

export interface People {
  /** The person a device belongs to; a device the store did not list is its own anonymous person. */
  of(deviceId: string): Person;
}

export function people(devices: readonly ReportDevice[]): People {
  const byDevice = new Map<string, Person>();
  const users = new Map<string, Person>();
  for (const d of devices) {
    if (d.userId === null) {
      byDevice.set(d.deviceId, { key: `d:${d.deviceId}`, userId: null, identifiedAt: null });
      continue;
    }
    let p = users.get(d.userId);
    if (!p) users.set(d.userId, (p = { key: `u:${d.userId}`, userId: d.userId, identifiedAt: null }));
    if (d.linkedAt !== null && (p.identifiedAt === null || d.linkedAt < p.identifiedAt)) p.identifiedAt = d.linkedAt;
    byDevice.set(d.deviceId, p);
  }
  return {
    of(deviceId) {
      let p = byDevice.get(deviceId);
      if (!p) byDevice.set(deviceId, (p = { key: `d:${deviceId}`, userId: null, identifiedAt: null }));
      return p;
    },
  };
}
