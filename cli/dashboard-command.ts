import { UsageError } from '../lib/errors.ts';
import type { Logger } from '../pipeline/log.ts';
import type { Command } from './command.ts';
import { parseCommandLine, wholeNumber } from './parse-command-line.ts';

export const DASHBOARD_USAGE = `panoptes dashboard --cluster <nats://host:4222> [options]

Serves the live dashboard for every stream of a cluster (panoptes run --cluster), with the worker
that runs each, from what the workers publish on NATS; it keeps working while workers come and go.

Options:
  --cluster <url>      the cluster's NATS server (required)
  --port <N>           port for the page and its WebSocket (default 8080; 0 = any free port)
  --host <address>     address to bind (default 127.0.0.1; any other needs --token)
  --token <secret>     required from clients on every route (?token= or Authorization: Bearer), 8+ characters
  --allowed-host <name>  a Host name clients may use besides localhost and loopback addresses
                       (the name the dashboard is reached by off loopback); repeat for more`;

/** `panoptes dashboard`: serves until Ctrl-C. */
async function dashboard(args: readonly string[], log: Logger): Promise<number> {
  const { values, help } = parseCommandLine(args, {
    options: {
      cluster: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string' },
      'allowed-host': { type: 'string', multiple: true },
    },
    positionals: { min: 0, max: 0, expected: 'no file arguments' },
  });
  if (help) {
    process.stdout.write(DASHBOARD_USAGE + '\n');
    return 0;
  }
  if (values.cluster === undefined) throw new UsageError('--cluster is required: the NATS server of the workers, e.g. nats://127.0.0.1:4222');
  if (!/^(nats|tls):\/\/[^/]+/.test(values.cluster)) {
    throw new UsageError(`--cluster: expected a NATS server URL like nats://127.0.0.1:4222, got "${values.cluster}"`);
  }
  if (values.token !== undefined && values.token.length < 8) throw new UsageError('--token: use 8 characters or more');
  const port = wholeNumber(values.port, '--port', { max: 65535 }) ?? 8080;
  const { startClusterDashboard } = await import('../cluster/dashboard.ts');
  const served = await startClusterDashboard({ url: values.cluster, host: values.host ?? '127.0.0.1', port, token: values.token, allowedHosts: values['allowed-host'] ?? [], log });
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      log.info(`${signal}: stopping the dashboard`);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await served.close();
  return 0;
}

export const dashboardCommand: Command = { usage: DASHBOARD_USAGE, run: dashboard };
