/**
 * The page's WebSocket to the server (`/ws`, with the page's `?token=`): one socket at a time,
 * reconnected with a jittered back-off when it closes, goes silent or never opens, and the
 * connection pill in the top bar that says which.
 */
import type { ClientMessage } from '../servers/viewer-protocol/protocol.ts';
import { byId, setText } from './dom.ts';

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5000;
/** The server sends stats every 500 ms: this long without any message means a dead link. */
const SILENCE_MS = 6000;
const CONNECT_TIMEOUT_MS = 10_000;

export interface ConnectionHandlers {
  /** A text message; `send` answers on the socket it came on. */
  readonly onText: (text: string, send: (message: ClientMessage) => void) => void;
  readonly onBinary: (buffer: ArrayBuffer) => void;
}

type ConnectionState = 'connecting' | 'live' | 'down';

export class Connection {
  private socket: WebSocket | null = null;
  private connectedAt = 0;
  private lastMessageAt = 0;
  private attempt = 0;
  private retryTimer = 0;
  private retryAt = 0;
  private readonly pill = byId('connection');
  private readonly pillText = byId('connection-text');

  constructor(private readonly handlers: ConnectionHandlers) {
    // A network that comes back is worth trying at once rather than at the end of the back-off.
    window.addEventListener('online', () => {
      if (this.retryAt) this.connect();
    });
  }

  connect(): void {
    clearTimeout(this.retryTimer);
    this.retryAt = 0;
    this.show('connecting', this.attempt === 0 ? 'Connecting…' : 'Reconnecting…');
    const ws = new WebSocket(socketUrl());
    ws.binaryType = 'arraybuffer';
    this.socket = ws;
    this.connectedAt = Date.now();
    this.lastMessageAt = 0;
    const send = (message: ClientMessage) => ws.send(JSON.stringify(message));
    ws.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      if (this.socket !== ws) return;
      this.lastMessageAt = Date.now();
      if (typeof event.data === 'string') this.handlers.onText(event.data, send);
      else this.handlers.onBinary(event.data);
    };
    // `close` follows every `error`, so reconnecting from `close` alone opens one socket at a time.
    ws.onclose = (event) => {
      if (this.socket !== ws) return;
      this.socket = null;
      this.scheduleReconnect(event.reason);
    };
  }

  /** The server answered the subscription: the link is live, and the back-off starts over. */
  live(): void {
    this.attempt = 0;
    this.show('live', 'Live');
  }

  /** Gives up on a socket that never opened, or went silent without closing (a dead link). */
  checkLink(): void {
    if (!this.socket) return;
    const now = Date.now();
    const silent = this.socket.readyState === WebSocket.OPEN && now - (this.lastMessageAt || this.connectedAt) > SILENCE_MS;
    const stuck = this.socket.readyState === WebSocket.CONNECTING && now - this.connectedAt > CONNECT_TIMEOUT_MS;
    if (!silent && !stuck) return;
    const ws = this.socket;
    this.socket = null;
    ws.close();
    this.scheduleReconnect(silent ? 'no data from the server' : 'the server did not answer');
  }

  /** While offline, the seconds until the next try. */
  renderCountdown(): void {
    if (!this.retryAt) return;
    const seconds = Math.max(0, (this.retryAt - Date.now()) / 1000);
    this.show('down', `Offline · retrying in ${seconds.toFixed(seconds < 10 ? 1 : 0)} s`);
  }

  private scheduleReconnect(reason: string): void {
    const base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** this.attempt);
    // Jitter, so that many pages do not hammer a restarting server in step.
    const delay = Math.min(RECONNECT_MAX_MS, base * (0.8 + Math.random() * 0.4));
    this.attempt++;
    this.retryAt = Date.now() + delay;
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
    this.pill.title = reason ? `Disconnected: ${reason}` : 'Disconnected';
    this.renderCountdown();
  }

  private show(state: ConnectionState, label: string): void {
    this.pill.dataset.state = state;
    setText(this.pillText, label);
    if (state !== 'down') this.pill.title = '';
  }
}

function socketUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const token = new URLSearchParams(location.search).get('token');
  return `${scheme}://${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}
