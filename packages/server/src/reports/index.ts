// Report computation: pure functions over the rows Store.reportRows returns.
export {
  credit,
  DAY_MS,
  LOOKBACK_MS,
  MODELS,
  touchPoint,
  windowTouches,
  type Credit,
  type Model,
  type TouchPoint,
} from './attribution.js';
export {
  channelReport,
  type ChannelOptions,
  type ChannelReport,
  type ChannelRow,
  type FunnelCounts,
  type FunnelRow,
  type OrderChecks,
  type SourceRow,
} from './channels.js';
export {
  computeReport,
  reportWindow,
  type ReportRequest,
  type ReportResult,
  type ReportResults,
} from './compute.js';
export {
  experimentsReport,
  type ExperimentsOptions,
  type ExperimentsReport,
  type PromptCounts,
  type PromptRow,
  type VariantRow,
} from './experiments.js';
export {
  assignArms,
  EXPOSURE_TYPES,
  liftReport,
  METRICS,
  outcomesReader,
  sumArms,
  type Arm,
  type ExperimentArms,
  type LiftReport,
  type LiftRow,
  type Metric,
  type Outcomes,
} from './lift.js';
export { people, type People, type Person } from './people.js';
export { countedOrders, NO_CURRENCY, purchases, type Purchase } from './purchases.js';
export {
  ALPHA,
  compareArms,
  DEFAULT_MDE,
  MIN_PEOPLE_PER_ARM,
  neededPerArm,
  sequentialRadius,
  TUNED_FOR_PEOPLE,
  type ArmSums,
  type Comparison,
  type Interval,
  type Verdict,
} from './sequential.js';
