/**
 * Fault injection with real processes and real sockets, for the fault tests (test/faults/) and
 * the fault bench (bench/faults.bench.ts):
 *
 * - {@link LiveHttpCamera}: an HTTP camera on a local port. Each GET gets a live FLV stream of a
 *   clip, played in real time by its own ffmpeg (`-re -stream_loop -1`), as an IP camera's
 *   HTTP-FLV output. It can be stopped (the port closes and every connection is cut), started
 *   again on the same port, and frozen (its encoders are suspended: connections stay open, no
 *   byte comes).
 * - {@link sourcePids} and {@link killSource}: the ffmpeg a source runs, found from its log line,
 *   and killed by signal like a crash or an operator would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ffmpegPath } from '../servers/ffmpeg-binary.ts';

export class LiveHttpCamera {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly encoders = new Set<ChildProcess>();
  private frozen = false;
  private boundPort: number;

  /** `clip`: absolute path of a video file; `port` 0 picks a free one on the first start. */
  constructor(
    private readonly clip: string,
    port = 0,
  ) {
    this.boundPort = port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.boundPort}/live.flv`;
  }

  /** Requests served so far (the source's probe and each of its connections). */
  requests = 0;

  async start(): Promise<void> {
    if (this.server) return;
    this.frozen = false;
    const server = createServer((req, res) => {
      this.requests++;
      const encoder = spawn(ffmpegPath().path, [
        '-nostdin', '-v', 'error', '-re', '-stream_loop', '-1', '-i', this.clip,
        '-map', '0:v:0', '-c', 'copy', '-f', 'flv', 'pipe:1',
      ]);
      this.encoders.add(encoder);
      encoder.on('exit', () => this.encoders.delete(encoder));
      encoder.on('error', () => this.encoders.delete(encoder));
      if (this.frozen) encoder.kill('SIGSTOP');
      res.writeHead(200, { 'Content-Type': 'video/x-flv', Connection: 'close' });
      encoder.stdout.pipe(res);
      res.on('close', () => encoder.kill('SIGKILL'));
      req.on('error', () => {});
      res.on('error', () => {});
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, '127.0.0.1', () => resolve());
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** The camera goes away: the port stops listening and every open stream is cut. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    for (const encoder of this.encoders) encoder.kill('SIGKILL');
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The camera hangs: connections stay open and nothing more is sent, until {@link thaw}. */
  freeze(): void {
    this.frozen = true;
    for (const encoder of this.encoders) encoder.kill('SIGSTOP');
  }

  thaw(): void {
    this.frozen = false;
    for (const encoder of this.encoders) encoder.kill('SIGCONT');
  }
}

/**
 * The pids of the ffmpeg processes a source started, in order, from its `ffmpeg started (pid N)`
 * debug lines; with `stream`, only that stream's (the graph scopes its log lines `[…:stream:source]`).
 */
export function sourcePids(lines: readonly string[], stream?: string): number[] {
  return lines.flatMap((line) => {
    if (stream !== undefined && !line.includes(`:${stream}:source]`)) return [];
    const match = /ffmpeg started \(pid (\d+)\)/.exec(line);
    return match ? [Number(match[1])] : [];
  });
}

/** Kills a process by pid; false when it was already gone. */
export function killSource(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
