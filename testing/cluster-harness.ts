/**
 * What the cluster tests and bench (bench/cluster.bench.ts) drive and watch: real `panoptes run
 * --cluster` worker processes, the frame records they publish, and the lease bucket's changes
 * with the server's time stamps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import { LEASES_BUCKET, STATE_BUCKET } from '../cluster/buckets.ts';
import type { SavedTotals } from '../cluster/state-store.ts';
import type { FrameRecord } from '../nodes/sinks/frame-record.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

export interface WorkerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Its stderr so far (the log). */
  output(): string;
  readonly exited: Promise<number | null>;
}

export function spawnWorker(configFile: string, url: string, name: string, extra: readonly string[] = [], env: NodeJS.ProcessEnv = {}): WorkerProcess {
  const child = spawn(process.execPath, [path.join(REPO, 'bin/panoptes.js'), 'run', configFile, '--cluster', url, '--worker', name, ...extra], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { name, child, output: () => log, exited };
}

export interface SeenFrame {
  readonly stream: string;
  readonly worker: string;
  readonly seq: number;
  /** When this process received it (Date.now()). */
  readonly atMs: number;
  readonly unique: Readonly<Record<string, number>>;
  readonly lines: FrameRecord['lines'];
}

/** Every frame record published on `panoptes.*.frames`, as it arrives. */
export class FrameWatch {
  readonly frames: SeenFrame[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(nc: NatsConnection) {
    const subscription = nc.subscribe('panoptes.*.frames');
    void (async () => {
      for await (const message of subscription) {
        const record = message.json<FrameRecord & { worker: string }>();
        this.frames.push({
          stream: record.stream,
          worker: record.worker,
          seq: record.seq,
          atMs: Date.now(),
          unique: record.unique ?? {},
          lines: record.lines,
        });
        for (const wake of this.waiters) wake();
      }
    })();
  }

  /** The worker that sent the newest frame of each stream. */
  latestWorkers(sinceMs = 0): Map<string, string> {
    const latest = new Map<string, string>();
    for (const f of this.frames) if (f.atMs >= sinceMs) latest.set(f.stream, f.worker);
    return latest;
  }

  /** Resolves once `condition` holds, checked on every frame; rejects after `timeoutMs`. */
  until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** (stream, second) pairs whose frames came from more than one worker, after `sinceMs`. */
  sameSecondOverlaps(sinceMs: number): string[] {
    const bySecond = new Map<string, Set<string>>();
    for (const f of this.frames) {
      if (f.atMs < sinceMs) continue;
      const key = `${f.stream}@${Math.floor(f.atMs / 1000)}`;
      const workers = bySecond.get(key) ?? new Set();
      workers.add(f.worker);
      bySecond.set(key, workers);
    }
    return [...bySecond].filter(([, w]) => w.size > 1).map(([key, w]) => `${key}: ${[...w].join(' and ')}`);
  }
}

export interface LeaseChange {
  readonly stream: string;
  /** The new holder; undefined for a lease handed back. */
  readonly worker: string | undefined;
  /** The server's time stamp of the change. */
  readonly atMs: number;
}

/** Claims and hand-backs in the leases bucket (renewals left out), with the server's time. */
export async function watchLeases(nc: NatsConnection): Promise<LeaseChange[]> {
  const { Kvm } = await import('@nats-io/kv');
  const kv = await new Kvm(nc).open(LEASES_BUCKET);
  const changes: LeaseChange[] = [];
  const holder = new Map<string, string | undefined>();
  const updates = await kv.watch({ include: 'updates' });
  void (async () => {
    for await (const entry of updates) {
      const worker = entry.operation === 'PUT' ? entry.string() : undefined;
      if (holder.get(entry.key) === worker && worker !== undefined) continue;
      holder.set(entry.key, worker);
      changes.push({ stream: entry.key, worker, atMs: entry.created.getTime() });
    }
  })();
  return changes;
}

/** The totals saved for each stream now. */
export async function savedTotals(nc: NatsConnection): Promise<Map<string, SavedTotals>> {
  const { Kvm } = await import('@nats-io/kv');
  const kv = await new Kvm(nc).open(STATE_BUCKET);
  const totals = new Map<string, SavedTotals>();
  for await (const key of await kv.keys()) {
    const entry = await kv.get(key);
    if (entry?.operation === 'PUT' && entry.string() !== '') totals.set(key, entry.json<SavedTotals>());
  }
  return totals;
}

/** Sum of a class-count map. */
export const total = (counts: Readonly<Record<string, number>> | undefined): number => Object.values(counts ?? {}).reduce((a, b) => a + b, 0);
