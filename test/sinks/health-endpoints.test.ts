/**
 * `/metrics`, `/healthz` and `/readyz`, on the metrics sink's own port and on the viewer's, over
 * real sockets: the Prometheus series the issue lists, readiness that follows the sources'
 * states, and the viewer's access rules (a token off loopback, a loopback Host without one).
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsSink, metricsSinkOptions } from '../../nodes/sinks/metrics/metrics-sink.ts';
import { createViewerSink, viewerOptions } from '../../nodes/sinks/viewer/viewer-sink.ts';
import type { Sink } from '../../pipeline/node.ts';
import { graphContext } from '../helpers/data-dir.ts';

const open: Sink[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((sink) => sink.close()));
});

/** A GET with the headers given (fetch would not let a test set Host). */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function metricsSinkFor(streams: string[], options: Record<string, unknown> = {}) {
  const ctx = graphContext(streams);
  const sink = await createMetricsSink(metricsSinkOptions.parse({ port: 0, ...options }), ctx);
  open.push(sink);
  return { ctx, sink };
}

describe('health endpoints', () => {
  it('serves the Prometheus series: frames in/out/dropped, node and latency histograms, source state, reconnects, servers, providers, memory', async () => {
    const { ctx, sink } = await metricsSinkFor(['cam']);
    const { metrics } = ctx;
    metrics.sourceState('cam', 'running');
    metrics.decoded('cam');
    metrics.decoded('cam');
    metrics.drop('cam', 'flow-limiter');
    metrics.processed('cam', Date.now() - 40, { 'semantic-segmentation': 30, tracker: 2 });
    metrics.reconnect('cam');
    metrics.stall('cam');
    metrics.inferenceProvider('yolov8n-seg-320', 'cpu');
    metrics.watchSink('viewer', () => ({ clients: 3, queuedBytes: 1234, inFlightBytes: 56 }));

    const response = await get(`${sink.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.type).toContain('text/plain; version=0.0.4');
    for (const line of [
      'panoptes_frames_decoded_total{stream="cam"} 2',
      'panoptes_frames_processed_total{stream="cam"} 1',
      'panoptes_frames_dropped_total{stream="cam",place="flow-limiter"} 1',
      'panoptes_node_duration_seconds_count{stream="cam",node="semantic-segmentation"} 1',
      'panoptes_node_duration_seconds_bucket{le="0.05",stream="cam",node="semantic-segmentation"} 1',
      'panoptes_frame_latency_seconds_count{stream="cam"} 1',
      'panoptes_source_state{stream="cam",state="running"} 1',
      'panoptes_source_state{stream="cam",state="reconnecting"} 0',
      'panoptes_source_reconnects_total{stream="cam"} 1',
      'panoptes_source_stalls_total{stream="cam"} 1',
      'panoptes_sink_clients{sink="viewer"} 3',
      'panoptes_sink_queued_bytes{sink="viewer",lane="queued"} 1234',
      'panoptes_sink_queued_bytes{sink="viewer",lane="in-flight"} 56',
      'panoptes_inference_provider_info{model="yolov8n-seg-320",provider="cpu"} 1',
    ]) {
      expect(response.body.split('\n'), line).toContain(line);
    }
    expect(response.body).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(response.body).toMatch(/^nodejs_heap_size_used_bytes \d+/m);
  });

  it('answers /healthz, and /readyz with 503 and the streams not running until every one runs', async () => {
    const { ctx, sink } = await metricsSinkFor(['a', 'b']);
    ctx.metrics.sourceState('a', 'running');
    ctx.metrics.sourceState('b', 'reconnecting');
    expect(await get(`${sink.url}/healthz`)).toMatchObject({ status: 200, body: 'ok\n' });

    const down = await get(`${sink.url}/readyz`);
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body)).toMatchObject({
      ready: false,
      notRunning: ['b'],
      streams: [
        { stream: 'a', state: 'running' },
        { stream: 'b', state: 'reconnecting' },
      ],
    });

    ctx.metrics.sourceState('b', 'running');
    const up = await get(`${sink.url}/readyz`);
    expect(up.status).toBe(200);
    expect(JSON.parse(up.body)).toMatchObject({ ready: true });
    expect(JSON.parse(up.body).notRunning).toBeUndefined();
    expect((await get(`${sink.url}/other`)).status).toBe(404);
  });

  it('takes the access rules of every server: a loopback Host, and the token when configured', async () => {
    const { sink } = await metricsSinkFor(['a']);
    expect((await get(`${sink.url}/healthz`, { Host: 'attacker.example' })).status).toBe(403);

    const guarded = await metricsSinkFor(['a'], { token: 'secret-token-1' });
    expect((await get(`${guarded.sink.url}/metrics`)).status).toBe(401);
    expect((await get(`${guarded.sink.url}/metrics`, { Authorization: 'Bearer wrong-token-99' })).status).toBe(401);
    expect((await get(`${guarded.sink.url}/metrics`, { Authorization: 'Bearer secret-token-1' })).status).toBe(200);
    expect((await get(`${guarded.sink.url}/readyz?token=secret-token-1`)).status).toBe(503);
  });

  it('refuses to bind off loopback without a token, naming the fix', async () => {
    await expect(metricsSinkFor(['a'], { host: '0.0.0.0' })).rejects.toThrow("needs a token: set the metrics sink's token option (8+ characters;");
  });

  it("are served on the viewer's port too, beside the page, with the viewer's token", async () => {
    const ctx = graphContext(['cam']);
    const viewer = await createViewerSink(viewerOptions.parse({ port: 0, token: 'viewer-token-1' }), ctx);
    open.push(viewer);
    ctx.metrics.sourceState('cam', 'stalled');
    expect((await get(`${viewer.url}/metrics`)).status).toBe(401);
    const metrics = await get(`${viewer.url}/metrics?token=viewer-token-1`);
    expect(metrics.body.split('\n')).toContain('panoptes_source_state{stream="cam",state="stalled"} 1');
    expect((await get(`${viewer.url}/readyz?token=viewer-token-1`)).status).toBe(503);
    // One policy for every route: the page too.
    expect((await get(`${viewer.url}/`)).status).toBe(401);
    expect((await get(`${viewer.url}/?token=viewer-token-1`)).status).toBe(200);
  });
});
