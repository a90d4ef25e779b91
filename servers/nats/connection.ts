/**
 * One NATS connection per server URL for the whole process, shared by every sink and by the
 * cluster worker (a worker runs one graph per stream: six streams must not mean six connections),
 * and released when the last user is done.
 *
 * The client modules are imported on first use only: a single-process run never loads them.
 * The connection reconnects forever: a NATS server that restarts must not end a worker. While it
 * is away, {@link SharedNatsConnection.connected} is false, and publishers of frames skip them
 * rather than fill the client's buffer.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../../pipeline/log.ts';

export interface SharedNatsConnection {
  readonly nc: NatsConnection;
  readonly url: string;
  /** False between a disconnect and the reconnect that follows it. */
  readonly connected: boolean;
  /** Called with true on reconnect and false on disconnect. */
  onStatus(listener: (connected: boolean) => void): () => void;
  /** Gives this user's share back; the last one closes the connection (after a flush). */
  release(): Promise<void>;
}

interface Entry {
  readonly nc: NatsConnection;
  users: number;
  connected: boolean;
  readonly listeners: Set<(connected: boolean) => void>;
}

const open = new Map<string, Promise<Entry>>();

/** How long a client waits for a pong before it calls the server gone: what bounds detection. */
const PING_INTERVAL_MS = 2000;
const MAX_PINGS_OUT = 2;
const RECONNECT_WAIT_MS = 250;

async function connectEntry(url: string, log: Logger): Promise<Entry> {
  const { connect } = await import('@nats-io/transport-node');
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: url,
      name: 'panoptes',
      maxReconnectAttempts: -1,
      reconnectTimeWait: RECONNECT_WAIT_MS,
      pingInterval: PING_INTERVAL_MS,
      maxPingOut: MAX_PINGS_OUT,
    });
  } catch (error) {
    throw new Error(`nats: cannot connect to ${url}: ${(error as Error).message} (is nats-server running there, with -js?)`);
  }
  const entry: Entry = { nc, users: 0, connected: true, listeners: new Set() };
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type !== 'disconnect' && status.type !== 'reconnect') continue;
      entry.connected = status.type === 'reconnect';
      if (entry.connected) log.info(`nats: reconnected to ${url}`);
      else log.warn(`nats: lost ${url}; reconnecting`);
      for (const listener of entry.listeners) listener(entry.connected);
    }
  })();
  return entry;
}

/** The process's connection to `url`, opened on first use. Fails with the URL and the reason. */
export async function shareNatsConnection(url: string, log: Logger): Promise<SharedNatsConnection> {
  let pending = open.get(url);
  if (!pending) {
    pending = connectEntry(url, log);
    open.set(url, pending);
    pending.catch(() => open.delete(url));
  }
  const entry = await pending;
  entry.users++;
  let released = false;
  return {
    nc: entry.nc,
    url,
    get connected() {
      return entry.connected;
    },
    onStatus(listener) {
      entry.listeners.add(listener);
      return () => entry.listeners.delete(listener);
    },
    async release() {
      if (released) return;
      released = true;
      entry.users--;
      if (entry.users > 0) return;
      open.delete(url);
      // What was published goes out before the socket closes (a clean stop loses no event).
      await entry.nc.drain().catch(() => entry.nc.close());
    },
  };
}
