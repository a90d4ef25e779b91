import type { IncomingMessage } from 'node:http';
import { hostRefusal, tokenRefusal } from '../network-access.ts';

/**
 * Who may open the viewer's WebSocket: with a token configured, only requests that carry it;
 * from a browser (which always sends Origin), only pages of this server or of an allowed
 * origin, so a page elsewhere cannot read a user's cameras through their browser.
 */
export function checkAccess(
  request: IncomingMessage,
  options: { readonly token?: string | undefined; readonly allowedOrigins: readonly string[]; readonly allowedHosts?: readonly string[] },
): { ok: true } | { ok: false; status: 401 | 403; reason: string } {
  const badToken = tokenRefusal(request, options.token);
  if (badToken) return { ok: false, status: 401, reason: badToken };
  const badHost = hostRefusal(request, options.token, options.allowedHosts);
  if (badHost) return { ok: false, status: 403, reason: badHost };
  const origin = request.headers.origin;
  if (origin !== undefined && !options.allowedOrigins.includes(origin)) {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = undefined;
    }
    if (originHost !== request.headers.host) {
      return { ok: false, status: 403, reason: `origin ${origin} is not allowed (add it to the viewer's allowedOrigins)` };
    }
  }
  return { ok: true };
}
