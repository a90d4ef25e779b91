/**
 * The grid's tiles, one per stream: its picture, its state (a dot, a badge for a source in
 * trouble, an ended or failed stream) and its figures.
 */
import { byId, part, setText } from './dom.ts';
import { formatMs } from './format.ts';
import type { StreamView } from './stream-state.ts';

/** A stream without a new picture for this long is shown as stale. */
const STALE_MS = 3000;

/** Source states (stats.state) worth a badge: the camera is not there yet, or away and being brought back. */
const SOURCE_TROUBLE = new Set<string>(['waiting', 'stalled', 'reconnecting']);

type TileState = 'waiting' | 'live' | 'stale' | 'ended' | 'failed';

/** A new tile from the page's template, for the stream `name`; `onSelect` when it is clicked or chosen with the keyboard. */
export function createTile(name: string, onSelect: () => void): { tile: HTMLElement; canvas: HTMLCanvasElement } {
  const template = byId<HTMLTemplateElement>('tile-template');
  const tile = template.content.firstElementChild!.cloneNode(true) as HTMLElement;
  tile.dataset.stream = name;
  part(tile, '.name').textContent = name;
  tile.title = name;
  tile.addEventListener('click', onSelect);
  tile.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onSelect();
    }
  });
  return { tile, canvas: part<HTMLCanvasElement>(tile, 'canvas') };
}

function sourceTrouble(stream: StreamView): string | undefined {
  const state = stream.stats?.state;
  return stream.ended === undefined && state !== undefined && SOURCE_TROUBLE.has(state) ? state : undefined;
}

function tileState(stream: StreamView): TileState {
  if (stream.ended !== undefined) return stream.ended ? 'failed' : 'ended';
  if (sourceTrouble(stream)) return 'stale';
  if (!stream.lastFrameAt) return 'waiting';
  return Date.now() - stream.lastFrameAt > STALE_MS ? 'stale' : 'live';
}

export function renderTile(stream: StreamView): void {
  const { tile, stats } = stream;
  const state = tileState(stream);
  if (tile.dataset.state !== state) tile.dataset.state = state;
  tile.toggleAttribute('data-ended', stream.ended !== undefined);
  part(tile, '.waiting').hidden = stream.lastFrameAt > 0;
  renderBadge(part(tile, '.badge'), stream);
  // A cluster dashboard (panoptes dashboard --cluster) names the worker that runs the stream.
  if (stats?.worker) setText(part(tile, '.name'), `${stream.name} · ${stats.worker}`);
  setText(part(tile, '.fps b'), stats ? stats.fps.toFixed(1) : '–');
  setText(part(tile, '.latency b'), stats ? formatMs(stats.latencyMs) : '–');
  setText(part(tile, '.age b'), formatMs(stream.ageMs));
  setText(part(tile, '.drops b'), stats ? String(stats.dropped) : '–');
}

/** The badge of a tile or of the focused stream: the source's trouble, or the stream's end. */
export function renderBadge(badge: HTMLElement, stream: StreamView): void {
  const trouble = sourceTrouble(stream);
  badge.hidden = stream.ended === undefined && trouble === undefined;
  if (trouble) {
    badge.classList.remove('failed');
    setText(badge, trouble);
    badge.title = `The source is ${trouble}: restarted ${stream.stats?.reconnects ?? 0} times so far, ${stream.stats?.stalls ?? 0} stalls`;
    return;
  }
  if (stream.ended === undefined) return;
  badge.classList.toggle('failed', stream.ended !== '');
  setText(badge, stream.ended ? 'failed' : 'ended');
  badge.title = stream.ended ? `Failed: ${stream.ended}` : 'The stream ended';
}
