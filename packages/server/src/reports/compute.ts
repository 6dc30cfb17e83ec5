import type { ReportData, ReportExposures } from '../store/types.js';
import { LOOKBACK_MS } from './attribution.js';
import { channelReport, type ChannelOptions, type ChannelReport } from './channels.js';
import { experimentsReport, type ExperimentsOptions, type ExperimentsReport } from './experiments.js';

// A report as one request: what the store reads for it, and the typed code that computes it. The
// stores run both where the rows are read (store/report-thread.ts: a worker thread with its own
// connection), so only the finished report crosses over to the thread that serves requests.

export type ReportRequest =
  | { report: 'channels'; site: string; options: ChannelOptions }
  | {
      report: 'experiments';
      site: string;
      options: ExperimentsOptions;
      /** Store.reportExposures for the same range: the arms come from every first exposure, all time. */
      exposures: ReportExposures;
    };

export interface ReportResults {
  channels: ChannelReport;
  experiments: ExperimentsReport;
}

export type ReportResult<R extends ReportRequest = ReportRequest> = ReportResults[R['report']];

/** What Store.reportData reads for `request`: the channels report reads its touches' 30-day lookback too. */
export function reportWindow(request: ReportRequest): { readFrom: number; from: number; to: number } {
  const { from, to } = request.options;
  return { readFrom: request.report === 'channels' ? from - LOOKBACK_MS : from, from, to };
}

/** The report `request` asks for, from `data` (read over reportWindow(request)). */
export function computeReport<R extends ReportRequest>(request: R, data: ReportData): ReportResult<R> {
  const result =
    request.report === 'channels'
      ? channelReport(data, request.options)
      : experimentsReport(data, request.options, request.exposures);
  return result as ReportResult<R>;
}
