/**
 * The dashboard (viewer/index.html loads this, bundled by servers/viewer-protocol/serve-page.ts):
 * every stream of a viewer or of a cluster dashboard as a tile, one focused with its side panel,
 * live over the viewer protocol (docs/protocol.md). This file wires the parts: the server's
 * messages (connection.ts, decode.ts) update each stream's state (stream-state.ts), and the
 * tiles and the focused view are drawn again at most once per animation frame.
 */
import {
  ALL_STREAMS,
  PROTOCOL_VERSION,
  type AnalyticsEvent,
  type ClientMessage,
  type CountsMessage,
  type DensityHeader,
  type FailedSink,
  type SnapshotHeader,
  type StatsMessage,
  type Topic,
  type VideoHeader,
} from '../servers/viewer-protocol/protocol.ts';
import { Connection } from './connection.ts';
import { decodeBinary, decodeText } from './decode.ts';
import { densityImage } from './density-layer.ts';
import { byId, setText } from './dom.ts';
import { autoFocus, drawFocusedChart, focusIfWanted, initFocus, isFocused, paintFocus, renderFocused, renderFocusHeader, showDensityMap, toggleFocus } from './focus.ts';
import { sum } from './format.ts';
import { probe } from './probe.ts';
import { recordCounts, recordEvent, recordSnapshot, streams, type StreamView } from './stream-state.ts';
import { createTile, renderTile } from './tiles.ts';
import { decodeNewest, paint } from './video.ts';

/** What the page subscribes to, of what the server offers: everything but raw `frames`. */
const WANTED: readonly Topic[] = ['video', 'events', 'snapshots', 'counts', 'stats', 'density'];

const main = byId('main');
const grid = byId('grid');

// ---- streams ------------------------------------------------------------------------------

function ensureStream(wireName: string): StreamView {
  const name = String(wireName);
  const known = streams.get(name);
  if (known) return known;
  const { tile, canvas } = createTile(name, () => toggleFocus(name));
  const stream: StreamView = {
    name,
    tile,
    canvas,
    pending: null,
    decoding: false,
    bitmap: null,
    header: null,
    ageMs: NaN,
    lastFrameAt: 0,
    stats: null,
    counts: null,
    history: [],
    events: [],
    densityMap: null,
    ended: undefined,
  };
  streams.set(name, stream);
  probe.streams.push(name);
  grid.append(tile);
  main.dataset.streams = String(streams.size);
  byId('empty').hidden = true;
  setText(byId('summary-streams'), String(streams.size));
  renderTile(stream);
  focusIfWanted(name);
  return stream;
}

// ---- messages -----------------------------------------------------------------------------

function onText(text: string, send: (message: ClientMessage) => void): void {
  const message = decodeText(text);
  switch (message?.type) {
    case 'hello': {
      if (message.protocol !== PROTOCOL_VERSION) console.warn(`viewer: server speaks protocol ${message.protocol}, this page ${PROTOCOL_VERSION}`);
      for (const name of message.streams ?? []) ensureStream(name);
      autoFocus();
      const offered = message.topics;
      send({ type: 'subscribe', streams: [ALL_STREAMS], topics: WANTED.filter((topic) => !offered || offered.includes(topic)) });
      break;
    }
    case 'subscribed':
      connection.live();
      break;
    case 'counts':
      onCounts(message);
      break;
    case 'stats':
      onStats(message);
      break;
    case 'line':
    case 'zone':
      onAnalyticsEvent(message);
      break;
    case 'ended': {
      const stream = ensureStream(message.stream);
      stream.ended = message.error ?? '';
      renderTile(stream);
      if (isFocused(stream)) renderFocusHeader();
      break;
    }
    case 'error':
      console.warn(`viewer: server says ${message.code}: ${message.message}`);
      break;
  }
}

function onBinary(buffer: ArrayBuffer): void {
  const message = decodeBinary(buffer);
  if (!message) return;
  const { header, payload } = message;
  if (header.type === 'density') onDensityMap(header, payload);
  else if (header.type === 'snapshot') onSnapshot(header, payload);
  else if (header.type === 'video') onVideo(header, payload);
}

function onVideo(header: VideoHeader, jpeg: Uint8Array<ArrayBuffer>): void {
  const stream = ensureStream(header.stream);
  // Newest wins: a frame that arrives while one decodes replaces the one waiting, if any.
  stream.pending = { header, jpeg };
  // A hidden tab decodes nothing: it keeps the newest frame and decodes it when shown.
  if (!stream.decoding && !document.hidden) decodeFrames(stream);
}

function decodeFrames(stream: StreamView): void {
  void decodeNewest(stream, (bitmap, header) => showFrame(stream, bitmap, header));
}

document.addEventListener('visibilitychange', () => {
  if (document.hidden) return;
  for (const stream of streams.values()) if (stream.pending && !stream.decoding) decodeFrames(stream);
});

function showFrame(stream: StreamView, bitmap: ImageBitmap, header: VideoHeader): void {
  stream.bitmap?.close();
  stream.bitmap = bitmap;
  stream.header = header;
  stream.lastFrameAt = Date.now();
  stream.ageMs = Date.now() - header.capturedAtMs;
  paint(stream.canvas, bitmap);
  if (isFocused(stream)) paintFocus();
  probe.framesDrawn++;
  probe.lastHeader = header;
  markDirty(stream);
}

/** A new density estimate (sent once per estimate, not per frame). */
function onDensityMap(header: DensityHeader, grid: Uint8Array): void {
  const image = densityImage(header, grid);
  if (!image) return;
  showDensityMap(ensureStream(header.stream), header, image);
}

function onCounts(message: CountsMessage): void {
  probe.countsReceived++;
  const stream = ensureStream(message.stream);
  // Counts are only sent for frames the pipeline processes now: the stream runs (again).
  if (stream.ended !== undefined) {
    stream.ended = undefined;
    if (isFocused(stream)) renderFocusHeader();
  }
  recordCounts(stream, message, Date.now());
  markDirty(stream);
}

function onStats(message: StatsMessage): void {
  for (const stats of message.streams ?? []) {
    const stream = ensureStream(stats.stream);
    stream.stats = stats;
    markDirty(stream);
  }
  const fps = [...streams.values()].reduce((total, s) => total + (s.stats?.fps ?? 0), 0);
  setText(byId('summary-fps'), fps.toFixed(1));
  // Frames skipped here: a thumbnail replaced by a newer one is not a frame.
  const { snapshots: _thumbnails, ...frameTopics } = message.client?.dropped ?? {};
  setText(byId('summary-skipped'), String(sum(frameTopics)));
  showFailedSinks(Array.isArray(message.failedSinks) ? message.failedSinks : []);
}

/** Sinks that failed mid-run (an optional file sink whose disk filled): named, with why. */
function showFailedSinks(failed: readonly FailedSink[]): void {
  const element = byId('summary-failed');
  const named = failed.filter((f) => typeof f?.sink === 'string' && typeof f?.reason === 'string');
  element.hidden = named.length === 0;
  setText(element, named.length === 0 ? '' : `${named.map((f) => f.sink).join(', ')} failed`);
  element.title = named.map((f) => `${f.sink}: ${f.reason}${f.optional ? ' (optional: the run goes on without it)' : ''}`).join('\n');
}

function onAnalyticsEvent(event: AnalyticsEvent): void {
  const stream = ensureStream(event.stream);
  recordEvent(stream, event, Date.now());
  markDirty(stream);
}

/** An event's snapshot (the object cropped from the overlay with its box), shown as its thumbnail. */
function onSnapshot(header: SnapshotHeader, jpeg: Uint8Array<ArrayBuffer>): void {
  const stream = ensureStream(header.stream);
  if (recordSnapshot(stream, header.id, jpeg)) markDirty(stream);
}

// ---- rendering, at most once per animation frame ------------------------------------------

const dirty = new Set<StreamView>();
let renderQueued = false;

function markDirty(stream: StreamView): void {
  dirty.add(stream);
  if (!renderQueued) {
    renderQueued = true;
    requestAnimationFrame(renderDirty);
  }
}

function renderDirty(): void {
  renderQueued = false;
  for (const stream of dirty) {
    renderTile(stream);
    if (isFocused(stream)) renderFocused(stream);
  }
  dirty.clear();
}

// ---- start --------------------------------------------------------------------------------

const connection = new Connection({ onText, onBinary });
initFocus();

// The chart scrolls and stale tiles are noticed even when no message arrives.
setInterval(drawFocusedChart, 500);
setInterval(() => {
  for (const stream of streams.values()) renderTile(stream);
  connection.renderCountdown();
  connection.checkLink();
}, 1000);

connection.connect();
