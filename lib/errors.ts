/**
 * Errors that say what kind of mistake happened. Any layer may throw them; only the CLI turns
 * them into exit codes and what it prints beside the message.
 */

/**
 * A mistake on the command line: an unknown option, a missing or malformed value, an extra
 * argument. The CLI prints the message and the command's usage, and exits with code 2.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
