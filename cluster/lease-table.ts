/**
 * Stream leases in a JetStream key-value bucket: key = stream id, value = the worker running it.
 * The bucket's TTL (max age) is the lease period: a value not rewritten within it disappears.
 *
 * - **claim**: `create`, which fails when the key exists, so of two workers that claim a stream
 *   at once exactly one gets it.
 * - **renew**: `update` with the revision the worker last wrote, which fails if anyone else has
 *   written the key since, or if it expired: a worker can only ever extend its own lease.
 * - **release**: `delete` with that revision (a clean stop: the others can claim at once).
 */
import type { KV } from '@nats-io/kv';

/** The outcome of a renewal: the new revision, `lost` (someone else holds it, or it expired), or `unknown` (NATS did not answer). */
export type Renewal =
  | {
      readonly revision: number;
      /** The revision is a late write of ours, not this renewal: the deadline stays where it was. */
      readonly deadlineKept?: boolean;
    }
  | 'lost'
  | 'unknown';

/** JetStream's answer when the revision given is not the key's last one. */
const isRevisionConflict = (error: unknown): boolean => /wrong last sequence|key exists/i.test(String((error as Error)?.message ?? error));

export class LeaseTable {
  constructor(
    private readonly kv: KV,
    private readonly worker: string,
  ) {}

  /** The lease's revision when this worker got it; undefined when another holds it. */
  async claim(stream: string): Promise<number | undefined> {
    try {
      return await this.kv.create(stream, this.worker);
    } catch (error) {
      if (isRevisionConflict(error)) return undefined;
      throw error;
    }
  }

  /** `timeoutMs` bounds the wait for NATS: a renewal that does not come back is `unknown`. */
  async renew(stream: string, revision: number, timeoutMs?: number): Promise<Renewal> {
    try {
      return { revision: await this.kv.update(stream, this.worker, revision, timeoutMs) };
    } catch (error) {
      if (!isRevisionConflict(error)) return 'unknown';
      // A renewal that timed out here may still have reached the server (the client sends what
      // it buffered once it reconnects): if the key holds this worker's name, that write was
      // ours, as no other worker ever writes it. Its revision is the one to renew next time.
      const entry = await this.kv.get(stream).catch(() => null);
      if (entry?.operation === 'PUT' && entry.string() === this.worker) return { revision: entry.revision, deadlineKept: true };
      return 'lost';
    }
  }

  /** Hands the lease back, if it is still this worker's (a lease lost meanwhile is left alone). */
  async release(stream: string, revision: number): Promise<void> {
    await this.kv.delete(stream, { previousSeq: revision }).catch(() => undefined);
  }

  /** Every live lease: stream → worker. */
  async holders(): Promise<Map<string, string>> {
    return readAll(this.kv);
  }
}

/** Every key of a bucket that holds a value now, with the value as text. */
export async function readAll(kv: KV): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  const keys: string[] = [];
  for await (const key of await kv.keys()) keys.push(key);
  await Promise.all(
    keys.map(async (key) => {
      const entry = await kv.get(key);
      if (entry && entry.operation === 'PUT') entries.set(key, entry.string());
    }),
  );
  return entries;
}
