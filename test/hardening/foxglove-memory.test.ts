/**
 * Five Foxglove clients that subscribe to everything, send all the time and never read, against
 * a Foxglove server in its own process serving 1280x720 at 25 frames a second: each is
 * disconnected, and the server's resident memory stays within 100 MB of where it started,
 * during the attack and after.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

const CLIENTS = 5;
const MB = 1024 * 1024;
const FIXTURE = fileURLToPath(new URL('./fixtures/foxglove-server.ts', import.meta.url));
const REPO = path.resolve(path.dirname(FIXTURE), '../../..');

let server: ChildProcessWithoutNullStreams | undefined;
afterAll(() => {
  server?.stdin.end();
  server?.kill('SIGKILL');
});

/** Starts the server process; `ask()` gives its resident memory after a GC, and how many clients it cut. */
async function startServer(): Promise<{ url: string; ask: () => Promise<{ rss: number; disconnects: number }> }> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', FIXTURE, '{}'], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  server = child;
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = () => new Promise<string>((resolve) => waiting.push(resolve));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const first = await Promise.race([next(), new Promise<string>((resolve) => child.once('exit', () => resolve(`exited: ${stderr}`)))]);
  if (!first.startsWith('url ')) throw new Error(`the server did not start: ${first}`);
  return {
    url: first.slice(4),
    async ask() {
      const answer = next();
      child.stdin.write('rss\n');
      const [, rss, disconnects] = (await answer).split(' ');
      return { rss: Number(rss), disconnects: Number(disconnects) };
    },
  };
}

/** A client that subscribes to every channel, then never reads, and keeps sending. */
async function hostileClient(url: string): Promise<{ socket: WebSocket; closed: Promise<number> }> {
  const socket = new WebSocket(url, ['foxglove.websocket.v1']);
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  const channels = await new Promise<number[]>((resolve, reject) => {
    const onMessage = (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const message = JSON.parse(data.toString()) as { op: string; channels?: { id: number }[] };
      if (message.op !== 'advertise') return;
      socket.off('message', onMessage);
      resolve(message.channels!.map((c) => c.id));
    };
    socket.on('message', onMessage);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
  });
  socket.send(JSON.stringify({ op: 'subscribe', subscriptions: channels.map((channelId, k) => ({ id: k + 1, channelId })) }));
  socket.pause();
  return { socket, closed };
}

describe('a Foxglove server with clients that never read', () => {
  it(`cuts ${CLIENTS} of them off and stays within 100 MB of where it started`, async () => {
    const { url, ask } = await startServer();
    await sleep(2000); // serving, JIT warm, buffers pooled
    const start = await ask();

    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => hostileClient(url)));
    // They send all the time: 1,000 unknown channels a message, and garbage.
    const unknown = JSON.stringify({ op: 'subscribe', subscriptions: Array.from({ length: 1000 }, (_, k) => ({ id: 1000 + k, channelId: 50_000 + k })) });
    const flood = setInterval(() => {
      for (const { socket } of clients) {
        if (socket.readyState !== WebSocket.OPEN) continue;
        socket.send(unknown);
        socket.send('{ not json');
      }
    }, 10);

    let peak = start.rss;
    let now = start;
    const deadline = Date.now() + 60_000;
    while (now.disconnects < CLIENTS) {
      expect(Date.now(), `only ${now.disconnects} of ${CLIENTS} clients were cut off`).toBeLessThan(deadline);
      await sleep(500);
      now = await ask();
      peak = Math.max(peak, now.rss);
    }
    clearInterval(flood);
    for (const { socket } of clients) socket.resume();
    const codes = await Promise.all(clients.map((c) => c.closed));
    await sleep(2000);
    const after = await ask();

    const figures = {
      startMb: +(start.rss / MB).toFixed(1),
      peakMb: +(peak / MB).toFixed(1),
      afterMb: +(after.rss / MB).toFixed(1),
      peakGrowthMb: +((peak - start.rss) / MB).toFixed(1),
      afterGrowthMb: +((after.rss - start.rss) / MB).toFixed(1),
      closeCodes: codes,
    };
    console.log(`foxglove memory with ${CLIENTS} never-reading clients: ${JSON.stringify(figures)}`);
    expect(after.disconnects).toBe(CLIENTS);
    for (const code of codes) expect([1008, 1006]).toContain(code);
    expect(peak - start.rss).toBeLessThan(100 * MB);
    expect(after.rss - start.rss).toBeLessThan(100 * MB);
  });
});
