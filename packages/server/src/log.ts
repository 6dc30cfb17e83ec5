import { pino, type DestinationStream } from 'pino';

// Structured JSON lines. Callers log only fields they choose (method, route, status, ms, codes):
// never bodies, headers, query strings, tokens, emails or the admin key.

export interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createLogger(level: LogLevel = 'info', destination?: DestinationStream): Log {
  return pino(
    {
      level,
      base: { svc: 'cairn-server' },
      // Belt and braces: if a field with one of these names is ever logged, it is hidden.
      redact: {
        paths: [
          'authorization',
          'token',
          'deviceToken',
          'email',
          'adminKey',
          'secret',
          '*.authorization',
          '*.token',
          '*.email',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

export const silentLog: Log = { info() {}, warn() {}, error() {} };
