/**
 * Hostile clients against both servers that stream to the network, over real sockets: DNS
 * rebinding Host names, a flood of malformed and oversized messages, clients that never read,
 * slowloris connections and abrupt drops, all at once. The server must refuse what it should
 * and keep serving a good client throughout.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { noisyJpeg, packet, serve, type ServedSink, type ServerKind, type Watcher } from './servers.ts';

const MALFORMED_MESSAGES = 1200;
const NEVER_READING_CLIENTS = 5;
const SLOWLORIS_CONNECTIONS = 10;
const DROPPED_CLIENTS = 20;

const opened: { sockets: WebSocket[]; tcp: Socket[]; sinks: ServedSink[] } = { sockets: [], tcp: [], sinks: [] };

afterEach(async () => {
  for (const socket of opened.sockets.splice(0)) socket.terminate();
  for (const socket of opened.tcp.splice(0)) socket.destroy();
  await Promise.all(opened.sinks.splice(0).map((served) => served.sink.close()));
});

async function start(kind: ServerKind, options: Record<string, unknown> = {}): Promise<ServedSink> {
  const served = await serve(kind, options);
  opened.sinks.push(served);
  return served;
}

/** The HTTP status that refused an upgrade, or 101 when the WebSocket opened. */
function upgradeStatus(served: ServedSink, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(served.wsUrl, [...served.protocols], { headers });
    opened.sockets.push(socket);
    socket.once('open', () => resolve(101));
    socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.once('error', () => {});
  });
}

/** Opens a client, subscribes it to the video, and counts what it receives. */
async function watcher(served: ServedSink): Promise<Watcher> {
  const socket = new WebSocket(served.wsUrl, [...served.protocols]);
  opened.sockets.push(socket);
  const watching: Watcher = { socket, texts: [], frames: 0, closeCode: undefined };
  socket.on('message', (data, isBinary) => {
    if (served.isFrame(data, isBinary)) watching.frames++;
    else if (!isBinary) watching.texts.push(data.toString());
  });
  socket.on('close', (code) => (watching.closeCode = code));
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  // The Foxglove server advertises its channels first; the viewer needs nothing before.
  await until(() => served.protocols.length === 0 || watching.texts.some((t) => t.includes('"advertise"')), 'the channels');
  socket.send(served.subscribeMessage(watching.texts));
  return watching;
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe.each(['viewer', 'foxglove'] as const)('the %s server against hostile clients', (kind) => {
  it('refuses DNS-rebinding Host names that look like loopback, with or without a matching Origin', async () => {
    const served = await start(kind);
    const port = served.hostPort.split(':')[1]!;
    for (const host of ['127.evil.example', '127.0.0.1.nip.io', `127.evil.example:${port}`, `127.0.0.1.nip.io:${port}`, 'localhost.evil.example']) {
      expect(await upgradeStatus(served, { Host: host }), host).toBe(403);
      expect(await upgradeStatus(served, { Host: host, Origin: `http://${host}` }), `${host} with its Origin`).toBe(403);
    }
    // The loopback names themselves still work.
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      expect(await upgradeStatus(served, { Host: host }), host).toBe(101);
    }
  });

  it(`keeps serving a good client through ${MALFORMED_MESSAGES} malformed messages, an oversized one, never-reading clients, slowloris and abrupt drops`, async () => {
    // Room for every client of the test at once (the cap has its own test), and a short stuck limit.
    const served = await start(kind, kind === 'foxglove' ? { stuckTimeoutMs: 2000, maxClients: 64 } : { stuckTimeoutMs: 2000 });
    const jpeg = await noisyJpeg(640, 480);
    let seq = 0;
    const writer = setInterval(() => served.sink.write(packet(seq++, jpeg, { width: 640, height: 480 })), 20);
    try {
      const good = await watcher(served);
      await until(() => good.frames > 0, 'the first frame at the good client');

      // Never read: subscribed, then paused for good.
      const silent = await Promise.all(Array.from({ length: NEVER_READING_CLIENTS }, () => watcher(served)));
      for (const client of silent) client.socket.pause();

      // Slowloris: an upgrade request trickling in a byte at a time, never finished.
      const [hostname, port] = [served.hostPort.split(':')[0]!, Number(served.hostPort.split(':')[1])];
      const slow = Array.from({ length: SLOWLORIS_CONNECTIONS }, () => {
        const socket = tcpConnect(port, hostname);
        socket.on('error', () => {});
        opened.tcp.push(socket);
        socket.write(`GET ${new URL(served.wsUrl).pathname} HTTP/1.1\r\nHost: ${served.hostPort}\r\nUpgrade: websocket\r\n`);
        return socket;
      });
      const trickle = setInterval(() => slow.forEach((socket) => socket.writable && socket.write('X')), 100);

      // Abrupt drops: clients that subscribe and vanish without a close handshake.
      const dropped = await Promise.all(Array.from({ length: DROPPED_CLIENTS }, () => watcher(served)));
      for (const client of dropped) client.socket.terminate();

      // A flood of malformed messages from one client; the server answers and keeps it.
      const flooder = await watcher(served);
      const garbage = ['not json', '{"type":"dance"}', '{"op":"subscribe","subscriptions":"x"}', '{"op":"advertise"}', '[1,2,3]', 'null'];
      for (let k = 0; k < MALFORMED_MESSAGES; k++) flooder.socket.send(garbage[k % garbage.length]!);
      flooder.socket.send(Buffer.from([0xff, 0, 1, 2]));
      await until(() => flooder.texts.length > 20, 'answers to the malformed messages');
      expect(flooder.socket.readyState).toBe(WebSocket.OPEN);

      // One message over the size limit: closed with 1009 (message too big).
      const oversized = await watcher(served);
      oversized.socket.send('x'.repeat(64 * 1024 + 1));
      await until(() => oversized.closeCode !== undefined, 'the oversized client to be closed');
      expect(oversized.closeCode).toBe(1009);

      // Through all of it, and after, the good client keeps getting frames.
      const before = good.frames;
      await until(() => good.frames >= before + 10, 'ten more frames at the good client');
      expect(good.socket.readyState).toBe(WebSocket.OPEN);

      // The never-reading clients are cut off, with the reason logged; once they read again
      // they see the close.
      const cuts = () => served.logLines.filter((line) => /disconnecting a client.*too slow/.test(line)).length;
      await until(() => cuts() >= NEVER_READING_CLIENTS, 'the never-reading clients to be disconnected', 30_000);
      for (const client of silent) client.socket.resume();
      await until(() => silent.every((client) => client.closeCode !== undefined), 'the never-reading clients to see the close');
      clearInterval(trickle);

      if (kind === 'viewer') {
        // The viewer answers every malformed message, one by one.
        await until(() => flooder.texts.filter((t) => t.includes('"error"')).length >= MALFORMED_MESSAGES, 'an answer to each malformed message');
      } else {
        // Foxglove answers are limited per second; what was held back is summed up, never dropped silently.
        await until(() => flooder.texts.some((t) => t.includes('more problems')), 'the summary of the withheld answers');
      }
      expect(flooder.socket.readyState).toBe(WebSocket.OPEN);
    } finally {
      clearInterval(writer);
    }
  });
});
