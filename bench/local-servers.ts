/**
 * A NATS server and a Mosquitto broker of our own, on free loopback ports, for the cluster and
 * MQTT tests and the cluster bench: Debian's `nats-server` and `mosquitto` packages (`.ci/run`
 * installs them). Each is a child process that dies with its owner.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
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
