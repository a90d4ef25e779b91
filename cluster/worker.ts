/**
 * A cluster worker (`panoptes run <config> --cluster nats://...`): every worker reads the same
 * config, and each stream runs on the one worker that holds its lease (lease-table.ts).
 *
 * Every heartbeat (a third of the lease period) the worker:
 * 1. tells the others it is alive and its capacity (the workers bucket, same TTL);
 * 2. renews each lease it holds, with the revision it last wrote; a renewal refused (someone else
 *    holds the key, or it expired) stops the stream at once;
 * 3. claims free streams up to its fair share (fair-share.ts), and past it (up to its capacity)
 *    a stream left free for a whole heartbeat: never a stream another worker runs.
 *
 * No stream runs on two workers at once: a lease is renewed only by its holder, and a worker
 * whose lease it could not renew stops the stream when the lease would expire, counted from the
 * moment it *sent* its last successful renewal, which is before the server stored it, so before
 * the server can let anyone else claim the key (a small margin covers the time the stop itself
 * takes). That holds whatever the cause: a crash, a network cut, a NATS restart. See
 * docs/operations.md, "Beyond one machine".
 *
 * A clean stop (Ctrl-C) stops the graphs, saves the totals and deletes the leases: the other
 * workers watch the leases bucket and claim them at once. A crash leaves the leases to expire.
 */
import type { KV } from '@nats-io/kv';
import { builtinNodes } from '../nodes/index.ts';
import { shareNatsConnection, type SharedNatsConnection } from '../servers/nats/connection.ts';
import { ensureEventsStream, subjectTokenProblem } from '../servers/nats/subjects.ts';
import { loadPipeline } from '../pipeline/load.ts';
import type { Logger } from '../pipeline/log.ts';
import { openBuckets, type ClusterBuckets } from './buckets.ts';
import { fairShares, type WorkerCapacity } from './fair-share.ts';
import { LeaseTable, readAll } from './lease-table.ts';
import { StreamState } from './state-store.ts';
import { CLUSTER_SINK_TYPES, startStream, type RawConfig, type RunningStream } from './stream-runner.ts';

export interface ClusterWorkerOptions {
  readonly url: string;
  readonly worker: string;
  /** Most streams this worker runs (Infinity: no limit). */
  readonly capacity: number;
  readonly configFile: string;
  /** The command line's changes to the config. */
  readonly edit: (raw: RawConfig) => void;
  readonly log: Logger;
  /** Lease period for a cluster whose buckets do not exist yet (the buckets' TTL wins). */
  readonly leaseMs?: number;
}

/** What a worker announces in the workers bucket. */
export interface WorkerPresence {
  readonly capacity: number | null;
  readonly streams: readonly string[];
}

/** A stream whose source ended or failed waits this long before any worker starts it again. */
const RESTART_COOLDOWN_MS = 2000;
/** A stream that could not be started at all (a bad clip): longer. */
const FAILED_START_COOLDOWN_MS = 10_000;

interface HeldLease {
  revision: number;
  /** When the server may let another worker claim it, at the earliest. */
  expiresAtMs: number;
  expiryTimer?: NodeJS.Timeout;
  runner?: RunningStream;
  /** Settles once the stream's graph is built (or failed to be). */
  started?: Promise<void>;
}

export class ClusterWorker {
  private readonly held = new Map<string, HeldLease>();
  private readonly cooldown = new Map<string, number>();
  /** When each free stream was first seen free (by this worker's heartbeats). */
  private readonly freeSince = new Map<string, number>();
  private readonly leases: LeaseTable;
  private readonly heartbeatMs: number;
  private ticker: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private tickAgain = false;
  private stopping: Promise<void> | undefined;
  private readonly stopped: Promise<void>;
  private markStopped!: () => void;

  private constructor(
    private readonly options: ClusterWorkerOptions,
    private readonly connection: SharedNatsConnection,
    private readonly buckets: ClusterBuckets,
    /** The config's stream ids, in config order. */
    readonly streams: readonly string[],
  ) {
    this.leases = new LeaseTable(buckets.leases, options.worker);
    this.heartbeatMs = Math.max(100, Math.floor(buckets.leaseMs / 3));
    this.stopped = new Promise((resolve) => (this.markStopped = resolve));
  }

  /** Checks the config, joins the cluster and starts claiming streams. */
  static async start(options: ClusterWorkerOptions): Promise<ClusterWorker> {
    const { log } = options;
    // Every mistake in the config is reported now, before the worker joins.
    const { spec } = loadPipeline(options.configFile, builtinNodes(), options.edit);
    const streams = spec.sources.map((s) => s.id);
    for (const stream of streams) {
      const problem = subjectTokenProblem(stream);
      if (problem) throw new Error(`${options.configFile}: ${problem}`);
    }
    const left = spec.sinks.filter((s) => !CLUSTER_SINK_TYPES.has(s.node.type)).map((s) => s.label);
    if (left.length) {
      log.info(`cluster: the config's ${left.join(', ')} sinks are left out: results go to NATS subjects (panoptes dashboard --cluster serves the viewer)`);
    }
    const connection = await shareNatsConnection(options.url, log);
    try {
      await ensureEventsStream(connection.nc);
      const buckets = await openBuckets(connection.nc, options.leaseMs);
      await buckets.cluster.put('streams', JSON.stringify(streams));
      const worker = new ClusterWorker(options, connection, buckets, streams);
      await worker.join();
      return worker;
    } catch (error) {
      await connection.release();
      throw error;
    }
  }

  /** The lease period, from the cluster's buckets. */
  get leaseMs(): number {
    return this.buckets.leaseMs;
  }

  /** Streams this worker runs now. */
  get running(): string[] {
    return [...this.held.keys()];
  }

  /** Settles once the worker has stopped. */
  get done(): Promise<void> {
    return this.stopped;
  }

  private async join(): Promise<void> {
    const { worker, log } = this.options;
    // A worker name is one worker: wait out a previous process of the same name (a restart
    // after a crash), refuse a live one.
    const giveUpAt = Date.now() + this.buckets.leaseMs + this.heartbeatMs;
    for (;;) {
      try {
        await this.buckets.workers.create(worker, this.presence());
        break;
      } catch (error) {
        if (!/wrong last sequence|key exists/i.test(String((error as Error).message))) throw error;
        if (Date.now() > giveUpAt) {
          throw new Error(`cluster: a worker named "${worker}" is already running on ${this.options.url}; give this one another --worker name`);
        }
        await sleep(this.heartbeatMs / 2);
      }
    }
    log.info(
      `cluster: worker ${worker} joined ${this.options.url} (capacity ${Number.isFinite(this.options.capacity) ? this.options.capacity : 'unlimited'}, ` +
        `${this.streams.length} streams in the config, lease ${this.buckets.leaseMs} ms)`,
    );
    void this.watchReleases(this.buckets.leases);
    this.connection.onStatus((connected) => connected && this.kick());
    // Workers started together see each other before anyone claims: one heartbeat's wait.
    setTimeout(() => {
      if (this.stopping) return;
      this.kick();
      this.ticker = setInterval(() => this.kick(), this.heartbeatMs);
    }, this.heartbeatMs + Math.random() * 200);
  }

  /** A lease handed back (a clean stop, a stream that ended): claim now, not at the next heartbeat. */
  private async watchReleases(kv: KV): Promise<void> {
    try {
      const updates = await kv.watch({ include: 'updates' });
      for await (const entry of updates) {
        if (this.stopping) break;
        if (entry.operation !== 'PUT') this.kick();
      }
    } catch (error) {
      if (!this.stopping) this.options.log.debug(`cluster: lease watch ended: ${(error as Error).message}`);
    }
  }

  private presence(): string {
    const capacity = Number.isFinite(this.options.capacity) ? this.options.capacity : null;
    return JSON.stringify({ capacity, streams: [...this.held.keys()] } satisfies WorkerPresence);
  }

  /** Runs a heartbeat now (or right after the one in progress). */
  private kick(): void {
    if (this.stopping) return;
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = this.tick()
      .catch((error: Error) => this.options.log.warn(`cluster: heartbeat: ${error.message}`))
      .finally(() => {
        this.ticking = undefined;
        if (this.tickAgain) {
          this.tickAgain = false;
          this.kick();
        }
      });
  }

  private async tick(): Promise<void> {
    const { worker, log } = this.options;
    // Presence first: a worker that dies stops being counted no later than its leases expire,
    // so the survivors' shares already leave it out when they claim its streams.
    if (this.connection.connected) await this.buckets.workers.put(worker, this.presence()).catch(() => undefined);
    await Promise.all(
      [...this.held].map(async ([stream, lease]) => {
        const sentAtMs = Date.now();
        // Half a heartbeat: a renewal lost in an outage leaves time for more tries before the lease expires.
        const renewal = await this.leases.renew(stream, lease.revision, this.heartbeatMs / 2);
        if (this.held.get(stream) !== lease) return;
        if (renewal === 'lost') this.drop(stream, 'its lease was taken over or had expired');
        else if (renewal !== 'unknown') {
          lease.revision = renewal.revision;
          if (!renewal.deadlineKept) this.armExpiry(stream, lease, sentAtMs + this.buckets.leaseMs);
        }
      }),
    );
    if (this.stopping || !this.connection.connected) return;

    const [presences, holders] = await Promise.all([readAll(this.buckets.workers), this.leases.holders()]);
    const live: WorkerCapacity[] = [...presences].map(([name, text]) => ({ worker: name, capacity: capacityOf(text) }));
    if (!presences.has(worker)) live.push({ worker, capacity: this.options.capacity });
    const share = fairShares(this.streams.length, live).get(worker) ?? 0;
    const now = Date.now();
    const free = this.streams.filter((s) => !holders.has(s) && !this.held.has(s) && (this.cooldown.get(s) ?? 0) <= now);
    for (const stream of this.freeSince.keys()) if (!free.includes(stream)) this.freeSince.delete(stream);
    for (const stream of free) if (!this.freeSince.has(stream)) this.freeSince.set(stream, now);
    // Workers try the free streams in different orders, so that they rarely race for the same one.
    free.sort((a, b) => hash(worker + a) - hash(worker + b));
    for (const stream of free) {
      if (this.stopping || this.held.size >= this.options.capacity) break;
      // Past its share only for a stream nobody took for a whole heartbeat (a worker counted in
      // the shares that is gone, or still starting): no stream stays dark over arithmetic.
      const orphaned = now - this.freeSince.get(stream)! >= this.heartbeatMs;
      if (this.held.size >= share && !orphaned) continue;
      const sentAtMs = Date.now();
      const revision = await this.leases.claim(stream);
      this.freeSince.delete(stream);
      if (revision === undefined) continue;
      const lease: HeldLease = { revision, expiresAtMs: 0 };
      this.held.set(stream, lease);
      this.armExpiry(stream, lease, sentAtMs + this.buckets.leaseMs);
      log.info(`cluster: ${worker} claimed ${stream}`);
      lease.started = this.start(stream, lease);
    }
  }

  /** Stops the stream when its lease may expire, unless a renewal pushes the deadline on. */
  private armExpiry(stream: string, lease: HeldLease, expiresAtMs: number): void {
    lease.expiresAtMs = expiresAtMs;
    clearTimeout(lease.expiryTimer);
    // The margin: the time a stop takes to reach the sinks (a frame in flight still published).
    const margin = Math.min(250, this.heartbeatMs / 2);
    lease.expiryTimer = setTimeout(() => {
      if (this.held.get(stream) === lease) this.drop(stream, `its lease could not be renewed within ${this.buckets.leaseMs} ms`);
    }, Math.max(0, expiresAtMs - margin - Date.now()));
    lease.expiryTimer.unref();
  }

  /** Stops a stream whose lease this worker no longer holds (nothing to hand back). */
  private drop(stream: string, why: string): void {
    const lease = this.held.get(stream);
    if (!lease) return;
    this.held.delete(stream);
    clearTimeout(lease.expiryTimer);
    this.options.log.warn(`cluster: stopping ${stream}: ${why}`);
    void lease.runner?.stop();
  }

  private async start(stream: string, lease: HeldLease): Promise<void> {
    const { worker, log } = this.options;
    let runner: RunningStream;
    try {
      const state = await StreamState.take(this.buckets.state, stream, worker);
      if (state.saved) log.info(`cluster: ${stream} continues from the totals ${state.saved.worker} saved`);
      runner = await startStream({
        configFile: this.options.configFile,
        stream,
        worker,
        natsUrl: this.options.url,
        state,
        edit: this.options.edit,
        log,
      });
    } catch (error) {
      log.error(`cluster: cannot start ${stream}: ${(error as Error).message}`);
      await this.handBack(stream, lease, FAILED_START_COOLDOWN_MS);
      return;
    }
    lease.runner = runner;
    // Lost (or the worker stopping) while it was starting: stop it now.
    if (this.held.get(stream) !== lease || this.stopping) {
      await runner.stop();
      return;
    }
    void runner.ended.then(async (outcome) => {
      if (this.held.get(stream) !== lease || this.stopping) return;
      log.info(`cluster: ${stream} ${outcome.error ? 'failed' : 'ended'}; handing it back (it starts again in ${RESTART_COOLDOWN_MS / 1000} s)`);
      await this.handBack(stream, lease, RESTART_COOLDOWN_MS);
    });
  }

  private async handBack(stream: string, lease: HeldLease, cooldownMs: number): Promise<void> {
    if (this.held.get(stream) !== lease) return;
    this.held.delete(stream);
    clearTimeout(lease.expiryTimer);
    this.cooldown.set(stream, Date.now() + cooldownMs);
    await this.leases.release(stream, lease.revision);
    this.kick();
  }

  /** Stops every stream, saves their totals and hands the leases back; then leaves the cluster. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.ticker);
      await this.ticking;
      const held = [...this.held];
      await Promise.all(
        held.map(async ([stream, lease]) => {
          // A stream still starting is stopped once built, before its lease goes back.
          await lease.started;
          await lease.runner?.stop();
          clearTimeout(lease.expiryTimer);
          this.held.delete(stream);
          await this.leases.release(stream, lease.revision);
        }),
      );
      await this.buckets.workers.delete(this.options.worker).catch(() => undefined);
      this.options.log.info(`cluster: ${this.options.worker} left, handing back ${held.map(([s]) => s).join(', ') || 'no stream'}`);
      await this.connection.release();
      this.markStopped();
    })();
    return this.stopping;
  }
}

function capacityOf(presence: string): number {
  try {
    const { capacity } = JSON.parse(presence) as WorkerPresence;
    return typeof capacity === 'number' ? capacity : Infinity;
  } catch {
    return Infinity;
  }
}

/** FNV-1a: a cheap, stable spread of names. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
