/**
 * A NATS server and a Mosquitto broker of our own, on free loopback ports, for the cluster and
 * MQTT tests and the cluster bench: Debian's `nats-server` and `mosquitto` packages (`.ci/run`
 * installs them). Each is a child process that dies with its owner.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface LocalServer {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port (and, for NATS, the same JetStream store). */
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  dispose(): Promise<void>;
}

/** Whether a program is on PATH (or where Debian puts daemons, /usr/sbin). */
export function hasProgram(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name} || test -x /usr/sbin/${name}`], { stdio: 'ignore' }).status === 0;
}

/** A TCP port nothing listens on now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, what: string, timeoutMs = 10_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before it listened on ${port}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > giveUpAt) throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function program(name: string): string {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim() || `/usr/sbin/${name}`;
}

async function localServer(what: string, args: (port: number) => string[], scheme: string, files: string): Promise<LocalServer> {
  if (!hasProgram(what)) {
    throw new Error(`${what} is not installed: apt-get install ${what} (.ci/run installs it)`);
  }
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const started = spawn(program(what), args(port), { stdio: ['ignore', 'ignore', 'pipe'] });
    child = started;
    let stderr = '';
    started.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    await waitForPort(port, started, what).catch((error: Error) => {
      started.kill('SIGKILL');
      throw new Error(`${error.message}\n${stderr}`);
    });
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    start,
    stop,
    async dispose() {
      await stop();
      rmSync(files, { recursive: true, force: true });
    },
  };
}

/**
 * Forwards loopback port `from` to port `to` until closed: a server "coming up" on `from` when
 * the real one on `to` has been up all along (with a subscriber already on it), so a test can
 * start a client against a server that is not there and still miss nothing once it is.
 */
export async function forwardPort(from: number, to: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    const upstream = connect(to, '127.0.0.1');
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(from, '127.0.0.1', () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** `nats-server -js` on loopback, its JetStream store in a temporary folder kept across restarts. */
export async function startNatsServer(): Promise<LocalServer> {
  const store = mkdtempSync(path.join(tmpdir(), 'panoptes-nats-'));
  return localServer('nats-server', (port) => ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store], 'nats', store);
}

/**
 * `mosquitto` on loopback, anonymous clients allowed, with persistence: a persistent session
 * and its queued messages survive a restart, as on a real installation.
 */
export async function startMosquitto(): Promise<LocalServer> {
  const folder = mkdtempSync(path.join(tmpdir(), 'panoptes-mqtt-'));
  const conf = path.join(folder, 'mosquitto.conf');
  return localServer(
    'mosquitto',
    (port) => {
      writeFileSync(
        conf,
        [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence true', `persistence_location ${folder}/`, 'autosave_interval 1', ''].join('\n'),
      );
      return ['-c', conf];
    },
    'mqtt',
    folder,
  );
}

/** What {@link mqttEventsConfig} writes: a line and a zone over replayed MOT17-02 detections. */
export interface MqttEventsConfig {
  readonly dataDir: string;
  readonly eventsFile: string;
  readonly brokerUrl: string;
  readonly topicPrefix: string;
  readonly fps: number;
  readonly maxFrames: number;
}

/**
 * A config whose events an MQTT sink publishes: MOT17-02's public detections replayed live
 * (no model), tracked, a line and a zone over them, with an events file beside the broker to
 * compare with. What the MQTT tests and the broker-down fault bench run.
 */
export function mqttEventsConfig(c: MqttEventsConfig): string {
  return [
    `dataDir: ${JSON.stringify(c.dataDir)}`,
    'sources:',
    `  - { id: cam1, type: mot-detections, path: replay/sequences/MOT17-02-FRCNN, realtime: true, fps: ${c.fps}, maxFrames: ${c.maxFrames} }`,
    'pipeline:',
    '  - { type: tracker, highScore: 0.5, lowScore: 0.1, newTrackScore: 0.6, confirmAfter: { frames: 2 } }',
    '  - type: analytics',
    '    lineRules: { minAgeMs: 0, minDistance: 0.01, hysteresisFrames: 2 }',
    '    lines: [{ name: middle, points: [[0.5, 0], [0.5, 1]], in: right }]',
    '    zones: [{ name: left, polygon: [[0, 0], [0.5, 0], [0.5, 1], [0, 1]], inertiaFrames: 2 }]',
    'sinks:',
    `  - { type: events, path: ${JSON.stringify(c.eventsFile)} }`,
    `  - { type: mqtt, url: ${JSON.stringify(c.brokerUrl)}, topicPrefix: ${c.topicPrefix} }`,
    '',
  ].join('\n');
}
