/**
 * `/metrics` (Prometheus exposition format), `/healthz` and `/readyz`: the routes every Panoptes
 * HTTP server answers, the viewer's and the metrics sink's alike.
 *
 * - `/healthz`: 200 while the process serves requests at all (liveness).
 * - `/readyz`: 200 when every stream's source is running, else 503; either way a JSON body with
 *   each stream's state and, when not ready, the streams that are not running (readiness).
 * - `/metrics`: the pipeline's series (pipeline/metrics.ts) for a Prometheus scraper.
 *
 * Access is the server's, checked before these routes for every request
 * (servers/access.ts): a Host naming the server, and its token when one is set
 * (`Authorization: Bearer`, as Prometheus' `authorization` setting sends, or `?token=`). No
 * Origin check: these are plain GETs that a page elsewhere cannot read across origins.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PipelineMetrics } from '../../../pipeline/metrics.ts';

export const HEALTH_PATHS = ['/metrics', '/healthz', '/readyz'] as const;

/**
 * A request handler for the health routes: answers and returns true for one of
 * {@link HEALTH_PATHS}, returns false (answering nothing) for any other path.
 */
export function healthRoutes(metrics: PipelineMetrics): (req: IncomingMessage, res: ServerResponse) => boolean {
  // Created now, so the series count frames from the first one on (pipeline/metrics.ts).
  const registry = metrics.registry;
  return (req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://server').pathname;
    if (!(HEALTH_PATHS as readonly string[]).includes(pathname)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, req, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return true;
    }
    if (pathname === '/healthz') {
      send(res, req, 200, 'text/plain; charset=utf-8', 'ok\n');
    } else if (pathname === '/readyz') {
      const readiness = metrics.readiness();
      const notRunning = readiness.streams.filter((s) => s.state !== 'running').map((s) => s.stream);
      const body = JSON.stringify({ ...readiness, ...(readiness.ready ? {} : { notRunning }) });
      send(res, req, readiness.ready ? 200 : 503, 'application/json', `${body}\n`);
    } else {
      registry.metrics().then(
        (text) => send(res, req, 200, registry.contentType, text),
        (error: Error) => send(res, req, 500, 'text/plain; charset=utf-8', `cannot collect the metrics: ${error.message}\n`),
      );
    }
    return true;
  };
}

function send(res: ServerResponse, req: IncomingMessage, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    // Health answers are about now: a cached one would lie.
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
