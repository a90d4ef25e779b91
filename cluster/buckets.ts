/**
 * The key-value buckets a cluster keeps in JetStream. Every worker and the dashboard open them
 * with the same names; the first to come creates them.
 */
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

/** Stream leases: stream id → worker (lease-table.ts). Its TTL is the lease period. */
export const LEASES_BUCKET = 'panoptes-leases';
/** Live workers: worker → { capacity, streams }, rewritten every heartbeat, same TTL. */
export const WORKERS_BUCKET = 'panoptes-workers';
/** Totals that survive a move to another worker: stream id → saved totals (state-store.ts). */
export const STATE_BUCKET = 'panoptes-state';
/** What the cluster runs: key `streams` → the config's stream ids, for the dashboard. */
export const CLUSTER_BUCKET = 'panoptes-cluster';

/** Default lease period and heartbeat: a dead worker's streams run again within about 4 s. */
export const DEFAULT_LEASE_MS = 3000;

export interface ClusterBuckets {
  readonly leases: KV;
  readonly workers: KV;
  readonly state: KV;
  readonly cluster: KV;
  /** The lease period: the leases bucket's TTL (the first worker's choice holds for all). */
  readonly leaseMs: number;
}

export async function openBuckets(nc: NatsConnection, leaseMs: number = DEFAULT_LEASE_MS): Promise<ClusterBuckets> {
  const { Kvm } = await import('@nats-io/kv');
  const kvm = new Kvm(nc);
  // A bucket made by an earlier worker with another lease period is used as it is.
  const withTtl = (name: string) => kvm.create(name, { history: 1, ttl: leaseMs }).catch(() => kvm.open(name));
  const [leases, workers, state, cluster] = await Promise.all([
    withTtl(LEASES_BUCKET),
    withTtl(WORKERS_BUCKET),
    kvm.create(STATE_BUCKET, { history: 1 }),
    kvm.create(CLUSTER_BUCKET, { history: 1 }),
  ]);
  const { ttl } = await leases.status();
  return { leases, workers, state, cluster, leaseMs: ttl > 0 ? ttl : leaseMs };
}
