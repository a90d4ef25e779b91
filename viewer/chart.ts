/**
 * The focused stream's counts over time: a stepped line per class, and the density model's
 * count with the band its expected error gives, over a window that grows with the history up to
 * two minutes.
 */
import { classColour, DENSITY_BAND, DENSITY_COLOUR } from './colours.ts';
import { byName } from './format.ts';
import { HISTORY_MS, historyClasses, type HistoryPoint, type StreamView } from './stream-state.ts';

/** A gap this long in the counts is drawn as a gap, not as a flat line. */
const CHART_GAP_MS = 3000;

type Scale = (value: number) => number;

/** Gives the canvas the pixel size it is shown at, then draws. */
export function resizeChart(chart: HTMLCanvasElement, stream: StreamView | undefined): void {
  const dpr = window.devicePixelRatio || 1;
  const width = Math.round(chart.clientWidth * dpr);
  const height = Math.round(chart.clientHeight * dpr);
  if (width > 0 && height > 0 && (chart.width !== width || chart.height !== height)) {
    chart.width = width;
    chart.height = height;
  }
  drawChart(chart, stream);
}

/** A round upper bound for the y axis and a step that gives at most 4 grid lines. */
function yScale(max: number): { top: number; step: number } {
  const steps = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000];
  const step = steps.find((s) => max / s <= 4) ?? Math.ceil(max / 4);
  return { top: Math.max(step, Math.ceil(max / step) * step), step };
}

export function drawChart(chart: HTMLCanvasElement, stream: StreamView | undefined): void {
  const context = chart.getContext('2d')!;
  const { width, height } = chart;
  context.clearRect(0, 0, width, height);
  if (!stream || width === 0 || height === 0) return;
  const dpr = window.devicePixelRatio || 1;
  const now = Date.now();
  const history = stream.history.filter((point) => point.t >= now - HISTORY_MS);
  // The window grows with the history, in 30 s steps, up to two minutes.
  const span = history.length ? Math.min(HISTORY_MS, Math.max(30_000, Math.ceil((now - history[0].t) / 30_000) * 30_000)) : HISTORY_MS;
  const classes = [...historyClasses(stream)].sort(byName);
  let max = 0;
  for (const point of history) {
    for (const n of Object.values(point.counts)) max = Math.max(max, n);
    if (point.density) max = Math.max(max, point.density.high);
  }
  const { top, step } = yScale(Math.max(1, max));

  const pad = { left: 26 * dpr, right: 6 * dpr, top: 6 * dpr, bottom: 18 * dpr };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const x: Scale = (t) => pad.left + ((t - (now - span)) / span) * plotW;
  const y: Scale = (n) => pad.top + plotH - (n / top) * plotH;

  context.font = `${10 * dpr}px system-ui, sans-serif`;
  context.lineWidth = 1;
  context.fillStyle = '#5b6376';
  context.strokeStyle = 'rgba(255, 255, 255, 0.06)';
  context.textAlign = 'right';
  context.textBaseline = 'middle';
  for (let n = 0; n <= top; n += step) {
    const yy = Math.round(y(n)) + 0.5;
    context.beginPath();
    context.moveTo(pad.left, yy);
    context.lineTo(width - pad.right, yy);
    context.stroke();
    context.fillText(String(n), pad.left - 6 * dpr, yy);
  }
  context.textBaseline = 'alphabetic';
  const ago = (ms: number) => (ms % 60_000 === 0 ? `−${ms / 60_000} min` : `−${ms / 1000} s`);
  const ticks: [number, string, CanvasTextAlign][] = [[now - span, ago(span), 'left'], [now - span / 2, ago(span / 2), 'center'], [now, 'now', 'right']];
  for (const [t, label, align] of ticks) {
    context.textAlign = align;
    context.fillText(label, x(t), height - 4 * dpr);
  }

  if (history.length === 0) {
    context.textAlign = 'center';
    context.fillText('waiting for counts', pad.left + plotW / 2, pad.top + plotH / 2);
    return;
  }
  context.lineWidth = 1.6 * dpr;
  context.lineJoin = 'round';
  drawDensitySeries(context, history, x, y, now, dpr);
  for (const name of classes) {
    context.strokeStyle = classColour(name);
    context.beginPath();
    let previous: { t: number; py: number } | null = null;
    for (const point of history) {
      const px = x(point.t);
      const py = y(point.counts[name] ?? 0);
      if (!previous || point.t - previous.t > CHART_GAP_MS) context.moveTo(px, py);
      else {
        context.lineTo(px, previous.py);
        context.lineTo(px, py);
      }
      previous = { t: point.t, py };
    }
    // The last value holds until now, unless the counts stopped coming.
    if (previous && now - previous.t <= CHART_GAP_MS) context.lineTo(x(now), previous.py);
    context.stroke();
  }
}

/** A point of the history that has a density estimate. */
type DensityPoint = HistoryPoint & { readonly density: NonNullable<HistoryPoint['density']> };
const hasDensity = (point: HistoryPoint): point is DensityPoint => point.density !== undefined;

/**
 * The density model's count as a line, with the band its expected error gives shaded around
 * it, in steps like the class lines; a gap in the estimates is a gap in the band.
 */
function drawDensitySeries(context: CanvasRenderingContext2D, history: readonly HistoryPoint[], x: Scale, y: Scale, now: number, dpr: number): void {
  const runs: DensityPoint[][] = [];
  let run: DensityPoint[] | null = null;
  for (const point of history) {
    if (!hasDensity(point)) {
      run = null;
      continue;
    }
    if (run && point.t - run[run.length - 1].t > CHART_GAP_MS) run = null;
    if (!run) runs.push((run = []));
    run.push(point);
  }
  for (const points of runs) {
    const last = points[points.length - 1];
    // The last estimate holds until now, unless the counts stopped coming.
    const end = now - last.t <= CHART_GAP_MS ? now : last.t;
    const steps = (value: (d: DensityPoint['density']) => number) => {
      const out: [number, number][] = [];
      points.forEach((point, i) => {
        if (i > 0) out.push([x(point.t), y(value(points[i - 1].density))]);
        out.push([x(point.t), y(value(point.density))]);
      });
      out.push([x(end), y(value(last.density))]);
      return out;
    };
    const top = steps((d) => d.high);
    const bottom = steps((d) => d.low).reverse();
    context.fillStyle = DENSITY_BAND;
    context.beginPath();
    [...top, ...bottom].forEach(([px, py], i) => (i === 0 ? context.moveTo(px, py) : context.lineTo(px, py)));
    context.closePath();
    context.fill();
    context.strokeStyle = DENSITY_COLOUR;
    context.lineWidth = 2 * dpr;
    context.beginPath();
    steps((d) => d.count).forEach(([px, py], i) => (i === 0 ? context.moveTo(px, py) : context.lineTo(px, py)));
    context.stroke();
  }
  context.lineWidth = 1.6 * dpr;
}
