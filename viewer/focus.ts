/**
 * The focused stream: the grid gives way to its large picture (with the label of the thing
 * under the mouse, and the density map when switched on), its header and the side panel. The
 * address names it (`#stream=name`), so a reload or a shared link opens on it.
 */
import type { DensityHeader, VideoHeader, ViewerSegment } from '../servers/viewer-protocol/protocol.ts';
import { drawChart, resizeChart } from './chart.ts';
import { drawDensityLayer } from './density-layer.ts';
import { byId, setText } from './dom.ts';
import { formatPts } from './format.ts';
import { renderPanel } from './panel.ts';
import { probe } from './probe.ts';
import { streams, type StreamView } from './stream-state.ts';
import { renderBadge } from './tiles.ts';
import { paint } from './video.ts';

const main = byId('main');
const focusCanvas = byId<HTMLCanvasElement>('focus-canvas');
const densityLayer = byId<HTMLCanvasElement>('density-layer');
const densityToggle = byId('density-toggle');
const hoverLabel = byId('hover-label');
const chart = byId<HTMLCanvasElement>('chart');

let focused: string | null = null;
/** The stream named in the address (`#stream=name`), focused once it is known. */
let wantedFocus = new URLSearchParams(location.hash.slice(1)).get('stream');
let autoFocusDone = false;
/** Whether the density map is drawn over the focused picture (the switch in the focus bar). */
let densityLayerOn = false;

export function focusedStream(): StreamView | undefined {
  return focused === null ? undefined : streams.get(focused);
}

export function isFocused(stream: StreamView): boolean {
  return focused === stream.name;
}

export function setFocus(name: string | null): void {
  focused = name && streams.has(name) ? name : null;
  hoverLabel.hidden = true;
  wantedFocus = focused;
  main.dataset.mode = focused ? 'focus' : 'grid';
  for (const stream of streams.values()) stream.tile.setAttribute('aria-pressed', String(stream.name === focused));
  history.replaceState(null, '', focused ? `#stream=${encodeURIComponent(focused)}` : location.pathname + location.search);
  document.title = focused ? `${focused} · Panoptes` : 'Panoptes';
  const stream = focusedStream();
  if (!stream) return;
  stream.tile.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  setText(byId('focus-name'), stream.name);
  byId('events').replaceChildren();
  paintFocus();
  renderFocusHeader();
  renderDensityLayer();
  renderFocused(stream);
  resizeChart(chart, stream);
}

/** Focuses the stream, or goes back to the grid when it is the focused one. */
export function toggleFocus(name: string): void {
  setFocus(focused === name ? null : name);
}

/** Focuses a stream that just became known when the address names it. */
export function focusIfWanted(name: string): void {
  if (focused === null && wantedFocus === name) setFocus(name);
}

/** A page with one stream has nothing to choose from: it opens on that stream. */
export function autoFocus(): void {
  if (autoFocusDone) return;
  autoFocusDone = true;
  if (focused === null && wantedFocus === null && streams.size === 1) setFocus([...streams.keys()][0]);
}

export function renderFocusHeader(): void {
  const stream = focusedStream();
  if (!stream) return;
  renderBadge(byId('focus-badge'), stream);
  densityToggle.hidden = !stream.densityMap;
  setText(byId('focus-error'), stream.ended || '');
  const header = stream.header;
  setText(byId('focus-meta'), header ? `#${header.seq} · ${formatPts(header.ptsMs)} · ${header.width}×${header.height}` : '');
}

/** The focused stream's header and side panel. */
export function renderFocused(stream: StreamView): void {
  renderFocusHeader();
  renderPanel(stream);
}

export function paintFocus(): void {
  const stream = focusedStream();
  if (!stream?.bitmap) {
    focusCanvas.getContext('2d')!.clearRect(0, 0, focusCanvas.width, focusCanvas.height);
    byId('focus-waiting').hidden = false;
    return;
  }
  paint(focusCanvas, stream.bitmap);
  byId('focus-waiting').hidden = true;
  // A new picture size (or the first picture) needs the layer drawn again at that size.
  if (densityLayerOn && (densityLayer.hidden || densityLayer.width !== stream.bitmap.width || densityLayer.height !== stream.bitmap.height)) renderDensityLayer();
}

/** Keeps a stream's new density map (its grid coloured, density-layer.ts), and shows it if the stream is focused. */
export function showDensityMap(stream: StreamView, header: DensityHeader, image: HTMLCanvasElement): void {
  stream.densityMap = { header, image };
  probe.densityReceived++;
  if (isFocused(stream)) {
    renderFocusHeader();
    renderDensityLayer();
  }
}

/** Draws the focused stream's density map over its picture when the switch is on; hides it when not. */
function renderDensityLayer(): void {
  const stream = focusedStream();
  const map = stream?.densityMap;
  const bitmap = stream?.bitmap;
  const show = densityLayerOn && Boolean(map) && Boolean(bitmap);
  densityLayer.hidden = !show;
  if (!show || !map || !bitmap) return;
  drawDensityLayer(densityLayer, map.header, map.image, bitmap.width, bitmap.height);
  probe.densityLayerDrawn++;
}

/** The chart of the focused stream, drawn again (it scrolls with time). */
export function drawFocusedChart(): void {
  if (focused) drawChart(chart, focusedStream());
}

/**
 * The label of the thing under the mouse in the focused stream: a crowded picture draws labels
 * only where they fit (the rest get an outline and a dot), so the dashboard names the one
 * pointed at. The smallest box under the mouse wins (a car in front of a bus).
 */
function thingAt(header: VideoHeader, x: number, y: number): ViewerSegment | null {
  let best: ViewerSegment | null = null;
  for (const s of header.segments ?? []) {
    const [bx, by, bw, bh] = s.bbox;
    if (x < bx || y < by || x > bx + bw || y > by + bh) continue;
    if (!best || bw * bh < best.bbox[2] * best.bbox[3]) best = s;
  }
  return best;
}

/** The focus view's controls: back to the grid (button, Esc), the density switch, the hover label, the chart's size. */
export function initFocus(): void {
  byId('back').addEventListener('click', () => setFocus(null));
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && focused) setFocus(null);
  });

  densityToggle.addEventListener('click', () => {
    densityLayerOn = !densityLayerOn;
    densityToggle.setAttribute('aria-pressed', String(densityLayerOn));
    renderDensityLayer();
  });

  focusCanvas.addEventListener('mousemove', (event) => {
    const header = focusedStream()?.header;
    const rect = focusCanvas.getBoundingClientRect();
    if (!header || !focusCanvas.width || !rect.width) return;
    // object-fit: contain: the picture is scaled to fit and centred, with bars around it.
    const scale = Math.min(rect.width / focusCanvas.width, rect.height / focusCanvas.height);
    const left = (rect.width - focusCanvas.width * scale) / 2;
    const top = (rect.height - focusCanvas.height * scale) / 2;
    const x = (event.clientX - rect.left - left) / scale;
    const y = (event.clientY - rect.top - top) / scale;
    const thing = thingAt(header, x, y);
    hoverLabel.hidden = !thing;
    if (!thing) return;
    hoverLabel.textContent = `${thing.className}${thing.trackId === undefined ? '' : ` #${thing.trackId}`} ${thing.score.toFixed(2)}`;
    hoverLabel.style.left = `${event.clientX - rect.left + 12}px`;
    hoverLabel.style.top = `${event.clientY - rect.top + 12}px`;
  });
  focusCanvas.addEventListener('mouseleave', () => {
    hoverLabel.hidden = true;
  });

  new ResizeObserver(() => resizeChart(chart, focusedStream())).observe(chart);
}
