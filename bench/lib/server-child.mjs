// A server under load, in its own process so that it does not share an event loop with autocannon.
// argv[2] is JSON: { kind: 'hono' }, { kind: 'cairn', options: <startServer options> } or
// { kind: 'ceiling', db, versions } (ceiling.mjs).
// It sends { url } to the parent once listening, and exits on 'close' or when the parent goes away.
const spec = JSON.parse(process.argv[2] ?? '{}');

async function start() {
  if (spec.kind === 'ceiling') return (await import('./ceiling.mjs')).startCeiling(spec);
  if (spec.kind === 'hono') {
    const { Hono } = await import('hono');
    const { serve } = await import('@hono/node-server');
    const app = new Hono();
    app.get('/', (c) => c.text('Hello Hono!'));
    return new Promise((resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
        resolve({ url: `http://127.0.0.1:${info.port}`, close: () => new Promise((r) => server.close(() => r())) }),
      );
    });
  }
  const { startServer } = await import('@cairn/server');
  return startServer({ port: 0, host: '127.0.0.1', ...spec.options });
}

try {
  const s = await start();
  const stop = async () => {
    await s.close().catch(() => {});
    process.exit(0);
  };
  process.on('message', (m) => m === 'close' && stop());
  process.on('disconnect', stop);
  process.send({ url: s.url });
} catch (e) {
  process.send({ error: String(e?.message ?? e) });
  process.exit(1);
}
