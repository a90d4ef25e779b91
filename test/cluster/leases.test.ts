/**
 * The pieces a worker decides with: fair shares (pure), and leases and saved totals on a real
 * nats-server (JetStream key-value): one winner per claim, renewals only by the holder, expiry
 * after the lease period, hand-back, and totals fenced against a worker that lost the stream.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type LocalServer } from '../../testing/local-servers.ts';
import { fairShares } from '../../cluster/fair-share.ts';
import { LeaseTable } from '../../cluster/lease-table.ts';
import { StreamState } from '../../cluster/state-store.ts';

describe('fair shares', () => {
  it('spreads streams evenly, the rounding to the first workers by capacity then name', () => {
    expect(Object.fromEntries(fairShares(6, [{ worker: 'a', capacity: Infinity }, { worker: 'b', capacity: Infinity }, { worker: 'c', capacity: Infinity }]))).toEqual({ a: 2, b: 2, c: 2 });
    expect(Object.fromEntries(fairShares(7, [{ worker: 'a', capacity: Infinity }, { worker: 'b', capacity: Infinity }]))).toEqual({ a: 4, b: 3 });
  });

  it('gives what a small worker cannot hold to the others', () => {
    expect(Object.fromEntries(fairShares(6, [{ worker: 'big', capacity: 10 }, { worker: 'small', capacity: 1 }]))).toEqual({ small: 1, big: 5 });
    expect(Object.fromEntries(fairShares(6, [{ worker: 'a', capacity: 2 }, { worker: 'b', capacity: 2 }]))).toEqual({ a: 2, b: 2 });
  });
});

let server: LocalServer;
let nc: NatsConnection;
let kvm: import('@nats-io/kv').Kvm;

beforeAll(async () => {
  server = await startNatsServer();
  const { connect } = await import('@nats-io/transport-node');
  const { Kvm } = await import('@nats-io/kv');
  nc = await connect({ servers: server.url });
  kvm = new Kvm(nc);
});

afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('leases in a JetStream key-value bucket', () => {
  it('gives a stream to exactly one of two workers that claim it at once', async () => {
    const kv = await kvm.create('leases-race', { history: 1, ttl: 2000 });
    for (let i = 0; i < 20; i++) {
      const [a, b] = await Promise.all([new LeaseTable(kv, 'a').claim(`s${i}`), new LeaseTable(kv, 'b').claim(`s${i}`)]);
      expect([a, b].filter((r) => r !== undefined)).toHaveLength(1);
    }
  });

  it('is renewed only by its holder, expires after the lease period, and can be handed back', async () => {
    const kv: KV = await kvm.create('leases-life', { history: 1, ttl: 1000 });
    const a = new LeaseTable(kv, 'a');
    const b = new LeaseTable(kv, 'b');
    const claimed = (await a.claim('cam'))!;
    expect(await b.claim('cam')).toBeUndefined();
    const renewed = await a.renew('cam', claimed);
    expect(renewed).toMatchObject({ revision: expect.any(Number) });
    // A worker only renews the revision it wrote last; any other is refused (the key holds a's name).
    expect(await b.renew('cam', claimed)).toBe('lost');
    // A late write of a's own (same name, newer revision) is recognized, not taken for a loss.
    expect(await a.renew('cam', claimed)).toMatchObject({ revision: (renewed as { revision: number }).revision, deadlineKept: true });
    // Not renewed: gone after the lease period, and b can have it.
    await sleep(1600);
    expect(await a.renew('cam', (renewed as { revision: number }).revision)).toBe('lost');
    const taken = (await b.claim('cam'))!;
    expect(taken).toBeGreaterThan(0);
    await b.release('cam', taken);
    expect(await a.claim('cam')).toBeGreaterThan(taken);
  });
});

describe('saved totals', () => {
  it('continue on the new holder, and a late write of the old one is refused', async () => {
    const kv = await kvm.create('state-fence', { history: 1 });
    const totals = (worker: string, cars: number) => ({ lines: {}, zones: {}, unique: { car: cars }, worker, savedAtMs: Date.now() });
    const first = await StreamState.take(kv, 'cam', 'a');
    expect(first.saved).toBeUndefined();
    first.offer(totals('a', 5));
    await first.flush();

    const second = await StreamState.take(kv, 'cam', 'b');
    expect(second.saved?.unique).toEqual({ car: 5 });
    // The old holder, cut off, writes late: refused, and it stops writing.
    first.offer(totals('a', 6));
    await first.flush();
    expect(first.ownsKey).toBe(false);
    second.offer(totals('b', 9));
    await second.flush();
    expect(second.ownsKey).toBe(true);
    expect((await kv.get('cam'))!.json<{ unique: unknown }>().unique).toEqual({ car: 9 });
  });
});
