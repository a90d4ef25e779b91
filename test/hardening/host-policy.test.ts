/**
 * One access policy for every server Panoptes opens (servers/access.ts), over raw
 * sockets so the Host header is exactly what the test writes, or absent: the viewer's page,
 * socket and health routes, the metrics port, the Foxglove endpoint and the cluster dashboard.
 * A foreign Host, a loopback-looking DNS name and no Host at all (HTTP/1.0 and 1.1) are refused
 * with 403 on every route, WebSocket upgrades before they open; the loopback names are served.
 * With a token, the token is needed on every route too, and a foreign Host is still refused.
 * A browser (Origin) opens a WebSocket only from an allowed origin, or from the server's own page.
 * Binding off loopback without a token is the same config error (exit 2) on every server.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type LocalServer } from '../../testing/local-servers.ts';
import { startClusterDashboard, type ClusterDashboard } from '../../cluster/dashboard.ts';
import { createFoxgloveSink, foxgloveSink } from '../../nodes/sinks/foxglove/foxglove-sink.ts';
import { createMetricsSink, metricsSinkOptions } from '../../nodes/sinks/metrics/metrics-sink.ts';
import { createViewerSink, viewerOptions } from '../../nodes/sinks/viewer/viewer-sink.ts';
import { ConfigError } from '../../pipeline/config/validation.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { graphContext } from '../helpers/data-dir.ts';

interface Route {
  readonly path: string;
  /** Headers that make the request a WebSocket upgrade (and the subprotocol Foxglove needs). */
  readonly upgrade?: readonly string[];
  /** The status a loopback Host gets. */
  readonly served: number;
}

const WS_UPGRADE = ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'];
const HEALTH: readonly Route[] = [
  { path: '/metrics', served: 200 },
  { path: '/healthz', served: 200 },
  { path: '/readyz', served: 200 },
];

/**
 * The status line's code for one request written by hand: `host` undefined sends no Host
 * header at all. Reads only the status line, then hangs up (a 101 would stay open).
 */
function statusOf(port: number, route: Route, host: string | undefined, options: { http?: '1.0' | '1.1'; extra?: readonly string[] } = {}): Promise<number> {
  const lines = [
    `GET ${route.path} HTTP/${options.http ?? '1.1'}`,
    ...(host === undefined ? [] : [`Host: ${host}`]),
    ...(route.upgrade ?? []),
    ...(options.extra ?? []),
  ];
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (status) {
        socket.destroy();
        resolve(Number(status[1]));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`no status line for ${route.path} (Host ${host ?? 'none'}): ${JSON.stringify(text)}`)));
  });
}

const servers: { name: string; port: number; routes: readonly Route[]; close(): Promise<void> }[] = [];
let nats: LocalServer;
let dashboard: ClusterDashboard;

beforeAll(async () => {
  const viewerCtx = graphContext(['cam']);
  viewerCtx.metrics.sourceState('cam', 'running');
  const viewer = await createViewerSink(viewerOptions.parse({ port: 0 }), viewerCtx);
  const page = [{ path: '/', served: 200 }, { path: '/index.html', served: 200 }, { path: '/app.js', served: 200 }];
  servers.push({ name: 'viewer', port: Number(new URL(viewer.url).port), routes: [...page, ...HEALTH, { path: '/ws', upgrade: WS_UPGRADE, served: 101 }], close: () => viewer.close() });

  const metricsCtx = graphContext(['cam']);
  metricsCtx.metrics.sourceState('cam', 'running');
  const metrics = await createMetricsSink(metricsSinkOptions.parse({ port: 0 }), metricsCtx);
  servers.push({ name: 'metrics', port: Number(new URL(metrics.url).port), routes: [...HEALTH, { path: '/other', served: 404 }], close: () => metrics.close() });

  const foxglove = await createFoxgloveSink(foxgloveSink.options.parse({ port: 0 }), graphContext(['cam']));
  servers.push({
    name: 'foxglove',
    port: Number(new URL(foxglove.url).port),
    routes: [
      { path: '/', served: 426 },
      { path: '/', upgrade: [...WS_UPGRADE, 'Sec-WebSocket-Protocol: foxglove.websocket.v1'], served: 101 },
    ],
    close: () => foxglove.close(),
  });

  nats = await startNatsServer();
  dashboard = await startClusterDashboard({ url: nats.url, host: '127.0.0.1', port: 0, log: createMemoryLogger() });
  const page2 = [{ path: '/', served: 200 }, { path: '/index.html', served: 200 }, { path: '/app.js', served: 200 }];
  servers.push({ name: 'dashboard', port: Number(new URL(dashboard.url).port), routes: [...page2, { path: '/ws', upgrade: WS_UPGRADE, served: 101 }], close: () => dashboard.close() });
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await nats?.dispose();
});

const label = (route: Route) => `${route.upgrade ? 'upgrade ' : 'GET '}${route.path}`;

describe.each(['viewer', 'metrics', 'foxglove', 'dashboard'])('the %s server', (name) => {
  const server = () => servers.find((s) => s.name === name)!;

  it('refuses a foreign Host, a loopback-looking DNS name and no Host (HTTP/1.0 and 1.1) with 403 on every route', async () => {
    const { port, routes } = server();
    for (const route of routes) {
      for (const host of ['evil.example', `evil.example:${port}`, '127.evil.example', `127.0.0.1.nip.io:${port}`, `localhost.evil.example:${port}`]) {
        expect(await statusOf(port, route, host), `${label(route)} Host ${host}`).toBe(403);
      }
      expect(await statusOf(port, route, undefined, { http: '1.0' }), `${label(route)} HTTP/1.0 without Host`).toBe(403);
      expect(await statusOf(port, route, undefined), `${label(route)} HTTP/1.1 without Host`).toBe(403);
      expect(await statusOf(port, route, ''), `${label(route)} an empty Host`).toBe(403);
    }
  });

  it('serves the loopback names on every route', async () => {
    const { port, routes } = server();
    for (const route of routes) {
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, '127.0.0.1']) {
        expect(await statusOf(port, route, host), `${label(route)} Host ${host}`).toBe(route.served);
      }
      expect(await statusOf(port, route, `127.0.0.1:${port}`, { http: '1.0' }), `${label(route)} HTTP/1.0 with Host`).toBe(route.served);
    }
  });

  it('opens its WebSocket to a browser only from an allowed origin, or from its own page where it serves one', async () => {
    const { port, routes } = server();
    const host = `127.0.0.1:${port}`;
    for (const route of routes.filter((r) => r.upgrade)) {
      expect(await statusOf(port, route, host, { extra: ['Origin: https://evil.example'] }), `${label(route)} a foreign Origin`).toBe(403);
      // The viewer and the dashboard serve the page that opens their socket; Foxglove serves none.
      expect(await statusOf(port, route, host, { extra: [`Origin: http://${host}`] }), `${label(route)} its own origin`).toBe(name === 'foxglove' ? 403 : route.served);
    }
  });
});

describe('with a token', () => {
  it('needs the token on every route, and still refuses a foreign Host that carries it', async () => {
    const ctx = graphContext(['cam']);
    ctx.metrics.sourceState('cam', 'running');
    const token = 'correct-horse-battery';
    const viewer = await createViewerSink(viewerOptions.parse({ port: 0, token, allowedHosts: ['cameras.lan'] }), ctx);
    const fox = await createFoxgloveSink(foxgloveSink.options.parse({ port: 0, token }), graphContext(['cam']));
    try {
      const port = Number(new URL(viewer.url).port);
      const bearer = [`Authorization: Bearer ${token}`];
      for (const route of [{ path: '/', served: 200 }, ...HEALTH, { path: '/ws', upgrade: WS_UPGRADE, served: 101 }]) {
        expect(await statusOf(port, route, `127.0.0.1:${port}`), `${label(route)} without the token`).toBe(401);
        expect(await statusOf(port, route, `127.0.0.1:${port}`, { extra: ['Authorization: Bearer wrong-token-99'] }), `${label(route)} a wrong token`).toBe(401);
        expect(await statusOf(port, route, `127.0.0.1:${port}`, { extra: bearer }), `${label(route)} with the token`).toBe(route.served);
        expect(await statusOf(port, { ...route, path: `${route.path}?token=${token}` }, `localhost:${port}`), `${label(route)} ?token=`).toBe(route.served);
        // A named Host is served with the token; a foreign one, or none, is not, token or not.
        expect(await statusOf(port, route, `cameras.lan:${port}`, { extra: bearer }), `${label(route)} an allowed name`).toBe(route.served);
        expect(await statusOf(port, route, 'evil.example', { extra: bearer }), `${label(route)} a foreign Host`).toBe(403);
        expect(await statusOf(port, route, undefined, { http: '1.0', extra: bearer }), `${label(route)} no Host`).toBe(403);
      }
      const foxPort = Number(new URL(fox.url).port);
      const foxUpgrade = { path: '/', upgrade: [...WS_UPGRADE, 'Sec-WebSocket-Protocol: foxglove.websocket.v1'], served: 101 };
      expect(await statusOf(foxPort, foxUpgrade, `127.0.0.1:${foxPort}`)).toBe(401);
      expect(await statusOf(foxPort, foxUpgrade, `127.0.0.1:${foxPort}`, { extra: bearer })).toBe(101);
      expect(await statusOf(foxPort, foxUpgrade, 'evil.example', { extra: bearer })).toBe(403);
    } finally {
      await Promise.all([viewer.close(), fox.close()]);
    }
  });
});

describe('binding off loopback without a token', () => {
  it('is the same config error on every server, naming the fix, before anything listens or connects', async () => {
    const fix = /binding 0\.0\.0\.0 makes it reachable from the network, so it needs a token: set .* \(8\+ characters; clients then send \?token=<token> or Authorization: Bearer <token>\), or bind 127\.0\.0\.1/;
    const attempts: [string, () => Promise<unknown>][] = [
      ['viewer', () => createViewerSink(viewerOptions.parse({ host: '0.0.0.0', port: 0 }), graphContext(['cam']))],
      ['metrics', () => createMetricsSink(metricsSinkOptions.parse({ host: '0.0.0.0', port: 0 }), graphContext(['cam']))],
      ['foxglove', () => createFoxgloveSink(foxgloveSink.options.parse({ host: '0.0.0.0', port: 0 }), graphContext(['cam']))],
      // No NATS server at this address: the check comes before it is dialled.
      ['dashboard', () => startClusterDashboard({ url: 'nats://127.0.0.1:1', host: '0.0.0.0', port: 0, log: createMemoryLogger() })],
    ];
    for (const [name, start] of attempts) {
      const error = await start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, name).toBeInstanceOf(ConfigError);
      expect((error as Error).message, name).toMatch(new RegExp(`^${name}: ${fix.source}`));
    }
    expect(String(await startClusterDashboard({ url: 'nats://127.0.0.1:1', host: '::', port: 0, log: createMemoryLogger() }).catch((e: Error) => e.message))).toMatch(
      /set --token/,
    );
  });
});
