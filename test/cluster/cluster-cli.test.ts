/**
 * The cluster's command-line mistakes: each is a usage error (exit 2) naming the fix, caught
 * before anything connects.
 */
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.ts';

async function exitAndMessage(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  try {
    return { code: await main(argv), stderr };
  } finally {
    write.mockRestore();
  }
}

describe('cluster options', () => {
  it('refuses --worker and --capacity without --cluster', async () => {
    const result = await exitAndMessage(['run', 'configs/mot17-public-detections.yaml', '--worker', 'a']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--worker needs --cluster nats:\/\/host:4222/);
  });

  it('refuses a cluster URL that is not a NATS one, a bad worker name, no capacity', async () => {
    const config = 'configs/mot17-public-detections.yaml';
    expect((await exitAndMessage(['run', config, '--cluster', 'http://x:4222'])).stderr).toMatch(/--cluster: expected a NATS server URL/);
    expect((await exitAndMessage(['run', config, '--cluster', 'nats://x:4222', '--worker', 'a.b'])).stderr).toMatch(/--worker: "a.b" must be letters/);
    expect((await exitAndMessage(['run', config, '--cluster', 'nats://x:4222', '--capacity', '0'])).code).toBe(2);
  });

  it('refuses a dashboard off loopback without --token as a config error (exit 2), before NATS is dialled', async () => {
    const result = await exitAndMessage(['dashboard', '--cluster', 'nats://127.0.0.1:1', '--host', '0.0.0.0', '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/dashboard: binding 0\.0\.0\.0 makes it reachable from the network, so it needs a token: set --token/);
  });

  it('needs --cluster for the dashboard', async () => {
    const result = await exitAndMessage(['dashboard']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--cluster is required/);
    expect(result.stderr).toMatch(/panoptes dashboard --cluster/);
  });
});
