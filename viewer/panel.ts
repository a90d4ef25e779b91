/**
 * The side panel of the focused stream: its figures, the objects in view and seen (and the
 * density model's count beside them), the chart's legend, the lines' and zones' totals, recent
 * events with their snapshots, drops by place and time per node.
 */
import type { CountsMessage } from '../servers/viewer-protocol/protocol.ts';
import { classColour, DENSITY_BAND } from './colours.ts';
import { byId, h, part, setText, syncList, type Child } from './dom.ts';
import { byName, finite, formatMs, formatPts, people, perClass, sum } from './format.ts';
import { densityOf, historyClasses, type ShownEvent, type StreamView } from './stream-state.ts';

export function renderPanel(stream: StreamView): void {
  const { stats, counts } = stream;
  setKpi('kpi-fps', stats ? stats.fps.toFixed(1) : '–');
  setKpi('kpi-latency', stats ? formatMs(stats.latencyMs) : '–');
  setKpi('kpi-age', formatMs(stream.ageMs));
  setKpi('kpi-dropped', stats ? String(stats.dropped) : '–');
  byId('kpi-dropped').title = stats ? `${stats.dropped} of ${stats.decoded} decoded frames` : '';

  // Classes seen before stay listed at 0, so rows do not come and go.
  const charted = historyClasses(stream);
  const classes = new Set([...charted, ...Object.keys(counts?.counts ?? {}), ...Object.keys(counts?.unique ?? {})]);
  const rows = [...classes].sort(byName).map((name) => ({ name, now: counts?.counts?.[name] ?? 0, seen: counts?.unique?.[name] }));
  syncList(byId('counts-now'), rows, (row) => row.name,
    (row) => h('div', 'row', swatch(row.name), h('span', 'label', row.name), h('span', 'value'), h('span', 'seen')),
    (element, row) => {
      setText(part(element, '.value'), String(row.now));
      setText(part(element, '.seen'), row.seen === undefined ? '' : `${row.seen} seen`);
      element.classList.toggle('zero', row.now === 0);
    });
  renderDensity(stream);
  renderLegend(charted, stream.history.some((point) => point.density));
  renderTotals(counts);
  syncList(byId('drops'), Object.entries(stats?.drops ?? {}).sort((a, b) => b[1] - a[1]), ([place]) => place,
    ([place]) => h('div', 'row', h('span', 'label', place), h('span', 'value')),
    (row, [, n]) => setText(row.lastChild!, String(n)));
  renderNodeTimes(stats?.nodeMs ?? {});
  renderEvents(stream.events);
}

/**
 * The density model's count beside the detector's: `≈ 1,024` and the band its expected error
 * gives, `758–1,290`, so nobody reads the rough estimate as a head count.
 */
function renderDensity(stream: StreamView): void {
  const density = stream.counts ? densityOf(stream.counts) : undefined;
  byId('density-now').hidden = !density;
  if (!density) return;
  setText(byId('density-count'), `≈ ${people(density.count)}`);
  setText(byId('density-band'), `likely ${people(density.low)}–${people(density.high)}`);
  const detected = stream.counts?.counts?.person;
  const parts = [
    finite(density.expectedError) ? `±${Math.round(density.expectedError * 100)}% expected error` : '',
    detected === undefined ? '' : `detector: ${detected} person${detected === 1 ? '' : 's'}`,
    finite(density.ageMs) ? `${formatMs(density.ageMs)} old` : '',
  ];
  setText(byId('density-note'), parts.filter(Boolean).join(' · '));
}

function setKpi(id: string, text: string): void {
  // "180 ms" is shown as a number with a small unit.
  const match = /^([\d.]+) (ms|s)$/.exec(text);
  const element = byId(id);
  if (element.dataset.text === text) return;
  element.dataset.text = text;
  if (match) element.replaceChildren(match[1], h('small', '', match[2]));
  else element.textContent = text;
}

function swatch(name: string): HTMLElement {
  const element = h('span', 'swatch');
  element.style.background = classColour(name);
  return element;
}

function renderLegend(classes: ReadonlySet<string>, density: boolean): void {
  const items = [...[...classes].sort(byName).map((name) => ({ key: `class:${name}`, name })), ...(density ? [{ key: 'density', name: null }] : [])];
  syncList(byId('chart-legend'), items, (item) => item.key,
    (item) => {
      if (item.name !== null) return h('span', '', swatch(item.name), item.name);
      const mark = h('span', 'swatch density');
      mark.style.boxShadow = `0 0 0 3px ${DENSITY_BAND}`;
      return h('span', 'density', mark, 'people, density model (band: expected error)');
    },
    () => {});
}

interface TotalsRow {
  readonly key: string;
  readonly kind: 'line' | 'zone';
  readonly name: string;
  readonly a: number;
  readonly b: number;
  readonly aLabel: string;
  readonly bLabel: string;
  readonly detail: string;
  readonly density?: { readonly count: number; readonly low: number; readonly high: number } | undefined;
}

function renderTotals(counts: CountsMessage | null): void {
  const rows: TotalsRow[] = [
    ...Object.entries(counts?.lines ?? {}).sort((a, b) => byName(a[0], b[0])).map(([name, line]): TotalsRow => ({
      key: `line:${name}`, kind: 'line', name,
      a: sum(line.in), b: sum(line.out), aLabel: 'in', bLabel: 'out',
      detail: perClass(line.in, line.out, 'in', 'out'),
    })),
    ...Object.entries(counts?.zones ?? {}).sort((a, b) => byName(a[0], b[0])).map(([name, zone]): TotalsRow => ({
      key: `zone:${name}`, kind: 'zone', name,
      a: sum(zone.occupancy), b: sum(zone.entered), aLabel: 'inside', bLabel: 'entered',
      detail: perClass(zone.occupancy, zone.entered, 'inside', 'entered'),
      density: densityOf(zone),
    })),
  ];
  syncList(byId('totals'), rows, (row) => row.key,
    (row) => h('div', 'totals',
      h('span', 'cell label', h('span', 'kind', row.kind), row.name),
      h('span', 'cell a'), h('span', 'cell b'), h('span', 'cell detail'), h('span', 'cell zone-density')),
    (element, row) => {
      const [, a, b, detail, density] = element.children as HTMLCollectionOf<HTMLElement>;
      setText(a, `${row.a} ${row.aLabel}`);
      setText(b, `${row.b} ${row.bLabel}`);
      setText(detail, row.detail || 'nothing yet');
      // Beside the tracked occupancy, the people the density model puts in the zone.
      density.hidden = !row.density;
      if (row.density) setText(density, `density model: ≈ ${people(row.density.count)} people, likely ${people(row.density.low)}–${people(row.density.high)}`);
    });
}

function renderNodeTimes(nodeMs: Readonly<Record<string, number>>): void {
  const entries = Object.entries(nodeMs).sort((a, b) => b[1] - a[1]);
  const max = Math.max(1, ...entries.map(([, ms]) => ms));
  syncList(byId('node-ms'), entries, ([node]) => node,
    ([node]) => h('div', 'row', h('span', 'label', node), h('span', 'bar', h('i', '')), h('span', 'value')),
    (row, [, ms]) => {
      part(row, 'i').style.width = `${Math.max(2, (ms / max) * 100).toFixed(1)}%`;
      setText(row.lastChild!, `${ms.toFixed(1)} ms`);
    });
}

function renderEvents(events: readonly ShownEvent[]): void {
  syncList(byId('events'), events, (event) => String(event.key),
    (event) => {
      const what: Child[] = event.type === 'line'
        ? [`${event.className} #${event.trackId} crossed `, h('b', '', event.line)]
        : event.event === 'enter'
          ? [`${event.className} #${event.trackId} entered `, h('b', '', event.zone)]
          : [`${event.className} #${event.trackId} left `, h('b', '', event.zone), ` after ${(event.dwellMs / 1000).toFixed(1)} s`];
      const kind = event.type === 'line' ? event.direction : event.event;
      return h('div', 'row', h('time', '', formatPts(event.ptsMs)), h('span', `pill ${kind}`, kind), h('span', 'what', ...what));
    },
    (row, event) => {
      if (!event.thumb || row.querySelector('img.thumb')) return;
      const thumb = h('img', 'thumb');
      thumb.src = event.thumb;
      thumb.alt = `snapshot of ${event.className} #${event.trackId}`;
      thumb.title = event.id;
      row.append(thumb);
    });
}
