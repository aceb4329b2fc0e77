/** Error codes of the `docker-terminal-error` event; each comes with a message that says what to do. */
export type ErrorCode =
  | 'invalid-attribute'
  | 'unknown-engine'
  | 'manifest-missing'
  | 'manifest-invalid'
  | 'download-failed'
  | 'file-corrupt'
  | 'not-isolated'
  | 'engine-unavailable'
  | 'engine-in-use'
  | 'bundle-invalid'
  | 'engine-failed'
  | 'unknown-image'
  | 'boot-failed'
  | 'boot-timeout'
  | 'daemon-down'
  | 'disk-full'
  | 'network-off'
  | 'network-failed'
  | 'image-missing'
  | 'invalid-file'
  | 'file-not-found'
  | 'stopped';

export class TerminalError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra lines worth showing (daemon log tails). */
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'TerminalError';
  }
}

export const README_URL = 'https://www.npmjs.com/package/docker-terminal';
