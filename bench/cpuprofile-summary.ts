/**
 * Where a thread's time went: the top self-time functions of a V8 `.cpuprofile` (from
 * `node --cpu-prof`), with total (inclusive) time as well.
 *
 *     node --cpu-prof --cpu-prof-dir=out/prof bin/panoptes.js run configs/dashcam.yaml --no-realtime --max-frames 150 --port 0
 *     npx tsx bench/cpuprofile-summary.ts out/prof/<file>.cpuprofile [--top 15] [--json]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface FunctionTime {
  readonly fn: string;
  readonly where: string;
  readonly selfMs: number;
  readonly selfPercent: number;
  readonly totalMs: number;
}

export function summarizeProfile(profile: CpuProfile, top = 15): { wallMs: number; sampledMs: number; idleMs: number; functions: FunctionTime[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    // A sample's time is the delta to the next sample.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + dt);
  }
  const key = (n: ProfileNode) => {
    const file = n.callFrame.url ? path.basename(n.callFrame.url.replace(/^file:\/\//, '')) : '';
    return `${n.callFrame.functionName || '(anonymous)'}\t${file ? `${file}:${n.callFrame.lineNumber + 1}` : ''}`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let sampled = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    sampled += us;
    if (node.callFrame.functionName === '(idle)') idle += us;
    const k = key(node);
    self.set(k, (self.get(k) ?? 0) + us);
    // Inclusive time: once per distinct function on the stack.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const kk = key(byId.get(at)!);
      if (seen.has(kk)) continue;
      seen.add(kk);
      total.set(kk, (total.get(kk) ?? 0) + us);
    }
  }
  const busy = sampled - idle;
  const functions = [...self]
    .filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(root)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => {
      const [fn, where] = k.split('\t') as [string, string];
      return { fn, where, selfMs: Math.round(us / 1000), selfPercent: Math.round((1000 * us) / busy) / 10, totalMs: Math.round((total.get(k) ?? 0) / 1000) };
    });
  return { wallMs: Math.round((profile.endTime - profile.startTime) / 1000), sampledMs: Math.round(sampled / 1000), idleMs: Math.round(idle / 1000), functions };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
  if (!file) {
    process.stderr.write('usage: tsx bench/cpuprofile-summary.ts <file.cpuprofile> [--top N] [--json]\n');
    process.exit(2);
  }
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 15;
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, top);
  if (args.includes('--json')) process.stdout.write(JSON.stringify(summary) + '\n');
  else {
    process.stdout.write(`${file}: wall ${summary.wallMs} ms, busy ${summary.sampledMs - summary.idleMs} ms, idle ${summary.idleMs} ms\n`);
    for (const f of summary.functions) {
      process.stdout.write(`${String(f.selfMs).padStart(7)} ms ${f.selfPercent.toFixed(1).padStart(5)}%  total ${String(f.totalMs).padStart(7)} ms  ${f.fn}  ${f.where}\n`);
    }
  }
}
