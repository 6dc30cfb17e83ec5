import type { ReportActivity, ReportData, ReportRows } from '../store/types.js';

// Each device's activity in a report's range. Store.reportData has the database aggregate it;
// ReportRows (every event, page views included) are summed up here the same way, so the reports
// read either.

/**
 * The devices with an event in `rows`, in the order of their first one (the events are in time
 * order, then id), with their first and last event in [from, to).
 */
export function activityOf(rows: ReportRows | ReportData, from: number, to: number): ReportActivity[] {
  if ('activity' in rows) return rows.activity;
  const byDevice = new Map<string, ReportActivity>();
  for (const e of rows.events) {
    if (e.at >= to) continue;
    let a = byDevice.get(e.deviceId);
    if (!a) byDevice.set(e.deviceId, (a = { deviceId: e.deviceId, firstInRange: null, lastInRange: null }));
    if (e.at < from) continue;
    if (a.firstInRange === null || e.at < a.firstInRange) a.firstInRange = e.at;
    if (a.lastInRange === null || e.at > a.lastInRange) a.lastInRange = e.at;
  }
  return [...byDevice.values()];
}
