// Prometheus counters for this instance, rendered as the text exposition format.

export interface Metrics {
  request(route: string, method: string, status: number): void;
  events(accepted: number, duplicates: number): void;
  /** Purchases received for an order another person had reported first (counted at ingest). */
  orderConflicts(claims: number): void;
  error(kind: string): void;
  rateLimited(scope: string): void;
  /** A shared rate-limit store (Redis, PostgreSQL) failed or was late: that request was limited per instance. */
  rateLimitStoreError(scope: string): void;
  /** A webhook delivery attempt's outcome (delivered, retry, failed) or a delivery stopped by a cancellation. */
  webhookDelivery(outcome: 'delivered' | 'retry' | 'failed' | 'cancelled'): void;
  render(): string;
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string>) =>
  '{' +
  Object.entries(l)
    .map(([k, v]) => `${k}="${esc(v)}"`)
    .join(',') +
  '}';

export function createMetrics(): Metrics {
  const requests = new Map<string, number>();
  const errors = new Map<string, number>();
  const limited = new Map<string, number>();
  const limitStoreErrors = new Map<string, number>();
  const deliveries = new Map<string, number>();
  let ingested = 0;
  let duplicates = 0;
  let orderConflicts = 0;
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const family = (name: string, help: string, m: Map<string, number>) => [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} counter`,
    ...[...m].map(([k, v]) => `${name}${k} ${v}`),
  ];
  return {
    request: (route, method, status) => bump(requests, labels({ route, method, status: String(status) })),
    events(a, d) {
      ingested += a;
      duplicates += d;
    },
    orderConflicts(n) {
      orderConflicts += n;
    },
    error: (kind) => bump(errors, labels({ kind })),
    rateLimited: (scope) => bump(limited, labels({ scope })),
    rateLimitStoreError: (scope) => bump(limitStoreErrors, labels({ scope })),
    webhookDelivery: (outcome) => bump(deliveries, labels({ outcome })),
    render: () =>
      [
        ...family('cairn_http_requests_total', 'HTTP requests by route, method and status.', requests),
        '# HELP cairn_events_ingested_total Events stored by /v1/collect.',
        '# TYPE cairn_events_ingested_total counter',
        `cairn_events_ingested_total ${ingested}`,
        '# HELP cairn_events_duplicate_total Events skipped by /v1/collect because their id was already stored.',
        '# TYPE cairn_events_duplicate_total counter',
        `cairn_events_duplicate_total ${duplicates}`,
        '# HELP cairn_order_conflicts_total Purchases stored by /v1/collect for an order that another person (user, else device, as linked when it arrived) had reported first: the reports ignore them.',
        '# TYPE cairn_order_conflicts_total counter',
        `cairn_order_conflicts_total ${orderConflicts}`,
        ...family('cairn_errors_total', 'Requests that failed on the server side (5xx), by kind.', errors),
        ...family('cairn_rate_limited_total', 'Requests refused with 429, by limit.', limited),
        ...family(
          'cairn_rate_limit_store_errors_total',
          'Failures and timeouts of the shared rate-limit store, by limit: each such request was limited by this instance alone.',
          limitStoreErrors,
        ),
        ...family(
          'cairn_webhook_deliveries_total',
          'Webhook delivery attempts by outcome (delivered, retry, failed), and deliveries stopped by a cancellation (cancelled).',
          deliveries,
        ),
      ].join('\n') + '\n',
  };
}
