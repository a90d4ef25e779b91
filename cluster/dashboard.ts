/**
 * `panoptes dashboard --cluster nats://...`: the viewer's dashboard (viewer/index.html, the
 * viewer protocol of docs/protocol.md) for every stream of a cluster, fed from the NATS subjects
 * the workers publish on (servers/nats/subjects.ts) rather than from a pipeline:
 * `video` from `panoptes.<stream>.video`, `snapshots`, `counts`, `events` and `stats` from
 * theirs. Each `stats` entry says which worker runs the stream (`worker`). The streams are the
 * cluster's config (what the workers announce) plus any seen on the subjects; a stream moving to
 * another worker is a change of `worker` and a short gap, on the same connection.
 *
 * Per client, the same queue as the viewer sink (ClientChannel): frames newest-wins, the rest
 * lossless, a client that cannot keep up disconnected. The raw `frames` topic is not relayed
 * (it would cost every worker an extra encode per frame, watched or not).
 */
import { loadDashboardPage, servePage } from '../servers/viewer-protocol/serve-page.ts';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { listen, urlHost } from '../servers/http-listen.ts';
import { shareNatsConnection } from '../servers/nats/connection.ts';
import { SUBJECT_ROOT } from '../servers/nats/subjects.ts';
import { checkBind, createGuardedServer, type AccessPolicy } from '../servers/access.ts';
import { closeWithGrace } from '../servers/queue/close-grace.ts';
import { viewerUpgrades } from '../servers/viewer-protocol/upgrades.ts';
import { ClientChannel } from '../servers/viewer-protocol/client-channel.ts';
import { answerClientMessage } from '../servers/viewer-protocol/client-messages.ts';
import { ALL_STREAMS, PROTOCOL_VERSION, type StatsMessage, type StreamStatsEntry, type Topic } from '../servers/viewer-protocol/protocol.ts';
import type { Logger } from '../pipeline/log.ts';
import type { StreamStats } from '../pipeline/stream-stats.ts';
import { openBuckets } from './buckets.ts';

const SOCKET_PATH = '/ws';
const STATS_INTERVAL_MS = 500;
const MAX_CLIENT_PAYLOAD_BYTES = 64 * 1024;
/** What the dashboard relays: the viewer's topics but `frames` and `density`. */
const RELAYED: readonly Topic[] = ['video', 'events', 'snapshots', 'counts', 'stats'];

export interface DashboardOptions {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token?: string | undefined;
  readonly allowedOrigins?: readonly string[];
  /** Host names clients may use besides localhost and loopback addresses (--allowed-host). */
  readonly allowedHosts?: readonly string[];
  readonly log: Logger;
}

export interface ClusterDashboard {
  /** Where the page is served, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** The streams known now, with the worker holding each one's lease (undefined: none, or not known). */
  streams(): Map<string, string | undefined>;
  close(): Promise<void>;
}

export async function startClusterDashboard(options: DashboardOptions): Promise<ClusterDashboard> {
  const { log } = options;
  const policy: AccessPolicy = {
    server: 'dashboard',
    host: options.host,
    token: options.token,
    allowedHosts: options.allowedHosts,
    allowedOrigins: options.allowedOrigins,
    ownPages: true,
    settings: 'command line',
  };
  // Before NATS is dialled: a config mistake is told at once.
  checkBind(policy);
  const page = await loadDashboardPage();
  const connection = await shareNatsConnection(options.url, log);
  const { nc } = connection;
  // Created if no worker has run yet: the dashboard may start first.
  const { cluster: clusterKv, leases: leasesKv } = await openBuckets(nc);

  /** Stream → its worker now (from the leases), in the order they became known. */
  const streams = new Map<string, string | undefined>();
  const stats = new Map<string, StreamStats & { worker: string }>();
  const channels = new Set<ClientChannel>();
  const newest = new Map<string, Buffer>();
  const known = (stream: string) => {
    if (!streams.has(stream)) streams.set(stream, undefined);
  };

  const watches: { stop(): void }[] = [];
  const watchBucket = async (kv: typeof clusterKv, onEntry: (key: string, value: string | undefined) => void) => {
    const iterator = await kv.watch();
    watches.push(iterator);
    void (async () => {
      for await (const entry of iterator) onEntry(entry.key, entry.operation === 'PUT' ? entry.string() : undefined);
    })().catch((error: Error) => log.debug(`dashboard: watch ended: ${error.message}`));
  };
  await watchBucket(clusterKv, (key, value) => {
    if (key !== 'streams' || value === undefined) return;
    try {
      for (const stream of JSON.parse(value) as string[]) known(stream);
    } catch {
      log.warn('dashboard: the cluster bucket holds a stream list that is not JSON');
    }
  });
  // Leases expire without a watch event; the stats' worker names cover that (see below).
  await watchBucket(leasesKv, (stream, worker) => streams.set(stream, worker));

  const sendTo = (stream: string, topic: Topic, text: string) => {
    for (const channel of channels) if (channel.wants(stream, topic)) channel.send(text);
  };
  const relay = (subject: string, handle: (stream: string, data: Uint8Array, text: () => string) => void) => {
    const subscription = nc.subscribe(subject);
    void (async () => {
      for await (const m of subscription) {
        const stream = m.subject.split('.')[1]!;
        known(stream);
        handle(stream, m.data, () => m.string());
      }
    })();
    return subscription;
  };
  const subscriptions = [
    relay(`${SUBJECT_ROOT}.*.video`, (stream, data) => {
      const message = Buffer.from(data);
      newest.set(stream, message);
      for (const channel of channels) channel.offerFrame(stream, 'video', message);
    }),
    // Newest wins per stream, as in the viewer sink, and none kept for later subscribers: a
    // thumbnail belongs to an event the client listed when it came.
    relay(`${SUBJECT_ROOT}.*.snapshots`, (stream, data) => {
      const message = Buffer.from(data);
      for (const channel of channels) channel.offerFrame(stream, 'snapshots', message);
    }),
    relay(`${SUBJECT_ROOT}.*.counts`, (stream, _data, text) => sendTo(stream, 'counts', text())),
    // JetStream-published events reach plain subscribers too.
    relay(`${SUBJECT_ROOT}.*.events`, (stream, _data, text) => sendTo(stream, 'events', text())),
    relay(`${SUBJECT_ROOT}.*.stats`, (stream, _data, text) => {
      const entry = JSON.parse(text()) as StreamStats & { worker: string; type?: string };
      delete entry.type;
      stats.set(stream, entry);
    }),
  ];

  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_PAYLOAD_BYTES, perMessageDeflate: false });
  const server = createGuardedServer(policy, {
    request: (req, res) => servePage(req, res, page),
    upgrade: viewerUpgrades(sockets, { path: SOCKET_PATH, name: 'dashboard' }),
    log,
  });
  await listen(server, options.host, options.port, 'dashboard');
  const address = server.address() as AddressInfo;
  const url = `http://${urlHost(options.host)}:${address.port}`;

  const limits = { inFlightBytes: 1_000_000, maxQueuedBytes: 8_000_000, stuckTimeoutMs: 10_000 };
  sockets.on('connection', (socket: WebSocket) => {
    const channel = new ClientChannel(socket, limits, () => undefined, (reason) => log.warn(`dashboard: disconnecting a client: ${reason}`));
    channels.add(channel);
    socket.on('close', () => channels.delete(channel));
    socket.on('error', (error) => log.debug(`dashboard client: ${error.message}`));
    socket.on('message', (data, isBinary) => {
      // Streams come and go in a cluster: any name may be subscribed to, known yet or not.
      const subscribed = answerClientMessage(channel, data, isBinary, { topics: RELAYED });
      if (subscribed?.includes('video')) for (const [stream, frame] of newest) channel.offerFrame(stream, 'video', frame);
    });
    channel.send({
      type: 'hello',
      server: 'panoptes',
      protocol: PROTOCOL_VERSION,
      streams: [...streams.keys()],
      topics: RELAYED,
      limits: { maxClientMessageBytes: MAX_CLIENT_PAYLOAD_BYTES, maxQueuedBytes: limits.maxQueuedBytes, stuckTimeoutMs: limits.stuckTimeoutMs },
    });
  });

  const statsTimer = setInterval(() => {
    const now = Date.now();
    const streamsJson = JSON.stringify([...stats.values()] satisfies StreamStatsEntry[]);
    for (const channel of channels) {
      channel.checkStuck(now);
      if (channel.wants(ALL_STREAMS, 'stats') || [...streams.keys()].some((s) => channel.wants(s, 'stats'))) {
        const client = JSON.stringify({ dropped: channel.dropped, queuedBytes: channel.waitingBytes } satisfies StatsMessage['client']);
        channel.send(`{"type":"stats","streams":${streamsJson},"client":${client}}`);
      }
    }
  }, STATS_INTERVAL_MS);
  statsTimer.unref();
  log.info(`dashboard on ${url} for the cluster on ${options.url}`);

  return {
    url,
    streams: () => new Map(streams),
    async close() {
      clearInterval(statsTimer);
      for (const s of subscriptions) s.unsubscribe();
      for (const w of watches) w.stop();
      await Promise.all([...sockets.clients].map((client) => closeWithGrace(client, 1001, 'server shutting down')));
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      await connection.release();
    },
  };
}
