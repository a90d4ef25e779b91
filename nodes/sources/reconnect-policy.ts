/**
 * How long a live source waits before it tries again: exponential backoff with jitter, a cap, and
 * an optional give-up.
 *
 * The n-th restart in a row waits `min(maxDelayMs, initialDelayMs * factor^(n-1))`, shortened by
 * up to `jitter` of itself at random: cameras that dropped out together (a switch rebooting) do
 * not all knock again at the same instant. The count starts over once a frame comes through.
 */
import { z } from 'zod';

export const reconnectOptions = z.strictObject({
  initialDelayMs: z.number().int().min(0).default(500).describe('Wait before the first restart after a source dies or stalls.'),
  factor: z.number().min(1).default(2).describe('Each further restart in a row waits this many times longer.'),
  maxDelayMs: z.number().int().positive().default(10_000).describe('The longest wait between two restarts.'),
  jitter: z
    .number()
    .min(0)
    .max(1)
    .default(0.2)
    .describe('Each wait is shortened at random by up to this fraction of itself (0 = exact waits).'),
  giveUpAfterTries: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Fail the stream after this many restarts in a row without a frame; left out, never.'),
  giveUpAfterMs: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Fail the stream once it has been down this long without a frame; left out, never.'),
});

export type ReconnectPolicy = z.infer<typeof reconnectOptions>;

/** The defaults, for a source whose config says nothing about reconnecting. */
export const DEFAULT_RECONNECT: ReconnectPolicy = reconnectOptions.parse({});

/**
 * The wait before restart number `attempt` (1 for the first restart after a frame came through).
 * `random` is in [0, 1), like `Math.random`; tests pass a fixed one.
 */
export function backoffDelayMs(policy: ReconnectPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = policy.initialDelayMs * policy.factor ** Math.max(0, attempt - 1);
  const capped = Math.min(policy.maxDelayMs, exponential);
  return Math.round(capped * (1 - policy.jitter * random()));
}

/**
 * Why the source should stop trying, or undefined to try again: `restarts` is how many restarts
 * in a row have already failed to bring a frame, `downMs` how long the stream has been without one.
 */
export function giveUpReason(policy: ReconnectPolicy, restarts: number, downMs: number): string | undefined {
  if (policy.giveUpAfterTries !== undefined && restarts >= policy.giveUpAfterTries) {
    return `gave up after ${restarts} restart${restarts === 1 ? '' : 's'} without a frame (giveUpAfterTries ${policy.giveUpAfterTries})`;
  }
  if (policy.giveUpAfterMs !== undefined && downMs >= policy.giveUpAfterMs) {
    return `gave up after ${Math.round(downMs)} ms without a frame (giveUpAfterMs ${policy.giveUpAfterMs})`;
  }
  return undefined;
}
