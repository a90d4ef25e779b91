/**
 * The health and metrics endpoints on a port of their own, for a pipeline without a viewer
 * (`panoptes run --metrics-port N`): `/metrics`, `/healthz`, `/readyz` (health-routes.ts), and
 * nothing else. It reads the pipeline's metrics; the frames themselves pass it by.
 *
 * ```yaml
 * sinks:
 *   - { type: metrics, port: 9464 }
 * ```
 */
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { defineSink, type GraphContext, type Sink } from '../../../pipeline/node.ts';
import { listen, urlHost } from '../../../servers/http-listen.ts';
import { accessToken, allowedHostsOption, checkBind, createGuardedServer, type AccessPolicy } from '../../../servers/access.ts';
import { healthRoutes } from './health-routes.ts';

export const metricsSinkOptions = z.strictObject({
  host: z.string().default('127.0.0.1').describe('Address to bind; any other than loopback needs a token'),
  port: z.number().int().min(0).max(65535).default(9464).describe('TCP port of /metrics, /healthz and /readyz (0 = any free port)'),
  token: accessToken.optional(),
  allowedHosts: allowedHostsOption,
});

export type MetricsSinkOptions = z.infer<typeof metricsSinkOptions>;

export interface MetricsSink extends Sink {
  /** Where the endpoints are served, e.g. `http://127.0.0.1:9464`; the bound port when `port` was 0. */
  readonly url: string;
}

export const metricsSink = defineSink({
  type: 'metrics',
  description: 'Serves /metrics (Prometheus), /healthz and /readyz on a port of their own',
  options: metricsSinkOptions,
  create: createMetricsSink,
});

export async function createMetricsSink(options: MetricsSinkOptions, ctx: GraphContext): Promise<MetricsSink> {
  const policy: AccessPolicy = { server: 'metrics', host: options.host, token: options.token, allowedHosts: options.allowedHosts, settings: 'sink' };
  checkBind(policy);
  const routes = healthRoutes(ctx.metrics);
  const server = createGuardedServer(policy, {
    request: (req, res) => {
      if (routes(req, res)) return;
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end('not found: this port serves /metrics, /healthz and /readyz\n');
    },
    log: ctx.log,
  });
  await listen(server, options.host, options.port, 'metrics');
  const url = `http://${urlHost(options.host)}:${(server.address() as AddressInfo).port}`;
  ctx.log.info(`metrics on ${url}/metrics (health: /healthz, /readyz)`);
  return {
    url,
    write() {},
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
