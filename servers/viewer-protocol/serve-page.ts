/**
 * The dashboard page over HTTP, for the viewer and for the cluster's dashboard: the markup
 * (viewer/index.html) and its script, viewer/app.ts and what it imports (the protocol's types and
 * constants included) bundled for the browser by esbuild, once per process, at `/app.js`.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const PAGE_URL = new URL('../../viewer/index.html', import.meta.url);
const SCRIPT_ENTRY = fileURLToPath(new URL('../../viewer/app.ts', import.meta.url));
const SCRIPT_PATH = '/app.js';
/** Where the page names its script: the token of the page's address is passed on there. */
const SCRIPT_SOURCE = 'src="app.js"';

/** The page, and the script it loads. */
export interface DashboardPage {
  readonly html: Buffer;
  /** The page's text before and after {@link SCRIPT_SOURCE}'s `app.js`. */
  readonly around: readonly [string, string];
  readonly script: Buffer;
}

let loading: Promise<DashboardPage> | undefined;

/**
 * Reads the page and bundles its script, once per process (the viewer and the dashboard share
 * it); called when a server starts, so a missing file or a script that does not build fails
 * then, not on the first visit. A failed load is tried again by the next caller.
 */
export function loadDashboardPage(): Promise<DashboardPage> {
  loading ??= loadPage().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

async function loadPage(): Promise<DashboardPage> {
  const [html, bundle] = await Promise.all([
    readFile(PAGE_URL, 'utf8'),
    build({ entryPoints: [SCRIPT_ENTRY], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent' }),
  ]);
  const at = html.indexOf(SCRIPT_SOURCE);
  if (at < 0) throw new Error(`viewer/index.html does not load its script (${SCRIPT_SOURCE})`);
  const split = at + SCRIPT_SOURCE.length - 1;
  return { html: Buffer.from(html), around: [html.slice(0, split), html.slice(split)], script: Buffer.from(bundle.outputFiles[0]!.contents) };
}

/**
 * Only the page and its script are served: no path is ever mapped to a file, so nothing can
 * traverse. Both pass the server's access policy like every route; a page opened with
 * `?token=` asks for its script with the same token.
 */
export function servePage(req: IncomingMessage, res: ServerResponse, page: DashboardPage): void {
  const url = new URL(req.url ?? '/', 'http://viewer');
  const isScript = url.pathname === SCRIPT_PATH;
  if (!isScript && url.pathname !== '/' && url.pathname !== '/index.html') {
    sendText(res, 404, 'not found');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    sendText(res, 405, 'method not allowed');
    return;
  }
  const token = url.searchParams.get('token');
  const body = isScript ? page.script : token === null ? page.html : Buffer.from(`${page.around[0]}?token=${encodeURIComponent(token)}${page.around[1]}`);
  res.writeHead(200, {
    'Content-Type': isScript ? 'text/javascript; charset=utf-8' : 'text/html; charset=utf-8',
    'Content-Length': body.length,
    // The page changes with the code; a stale cached copy would speak an old wire format.
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function sendText(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(body);
}
