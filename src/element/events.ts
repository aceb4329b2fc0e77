import type { ErrorCode } from '../boot/errors.js';
import type { BootStage } from '../protocol/stages.js';

export interface DockerTerminalProgressDetail {
  /** `download` while files arrive, then the guest's boot stages. */
  stage: 'download' | BootStage;
  /** Bytes downloaded (download) or stages passed (boot). */
  loaded: number;
  total: number;
  detail?: string;
}
export interface DockerTerminalReadyDetail {
  /** True when the machine was restored from the bundle's saved state. */
  restored: boolean;
  /** Seconds from start() to the prompt. */
  seconds: number;
}
export interface DockerTerminalErrorDetail {
  code: ErrorCode;
  message: string;
  /** Extra lines, such as the daemon logs of a failed boot. */
  details: string[];
}
export interface DockerTerminalExitDetail {
  /** `restart`: Restart machine; a fresh machine follows (a terminal that shares it joins that one). */
  reason: 'stop' | 'restart' | 'disconnect' | 'error';
}

/** `<docker-terminal-command>`: Run was pressed (cancelable). */
export interface DockerTerminalCommandStartDetail {
  command: string;
  /** The `<docker-terminal>` it runs in. */
  terminal: HTMLElement;
}
/** `<docker-terminal-command>`: the command finished, failed, or could not run. */
export interface DockerTerminalCommandDoneDetail {
  command: string;
  /** Exit status (of the first failing line); null when it could not run (`error` says why). */
  exitCode: number | null;
  output: string;
  error?: string;
}
export interface DockerTerminalCommandCopyDetail {
  command: string;
}

/** `<docker-terminal-preview>`: a page from the machine is shown. */
export interface DockerTerminalPreviewLoadDetail {
  url: string;
  /** The server's HTTP status. */
  status: number;
}
/** `<docker-terminal-preview>`: nothing could be shown (nothing listens, no terminal); `message` says what to do. */
export interface DockerTerminalPreviewErrorDetail {
  url: string;
  message: string;
}

/** Every event the elements fire, by name, with its detail. */
export interface DockerTerminalEventDetails {
  'docker-terminal-progress': DockerTerminalProgressDetail;
  'docker-terminal-ready': DockerTerminalReadyDetail;
  'docker-terminal-error': DockerTerminalErrorDetail;
  'docker-terminal-exit': DockerTerminalExitDetail;
  'docker-terminal-command-start': DockerTerminalCommandStartDetail;
  'docker-terminal-command-done': DockerTerminalCommandDoneDetail;
  'docker-terminal-command-copy': DockerTerminalCommandCopyDetail;
  'docker-terminal-preview-load': DockerTerminalPreviewLoadDetail;
  'docker-terminal-preview-error': DockerTerminalPreviewErrorDetail;
}

export type DockerTerminalProgressEvent = CustomEvent<DockerTerminalProgressDetail>;
export type DockerTerminalReadyEvent = CustomEvent<DockerTerminalReadyDetail>;
export type DockerTerminalErrorEvent = CustomEvent<DockerTerminalErrorDetail>;
export type DockerTerminalExitEvent = CustomEvent<DockerTerminalExitDetail>;
export type DockerTerminalCommandStartEvent = CustomEvent<DockerTerminalCommandStartDetail>;
export type DockerTerminalCommandDoneEvent = CustomEvent<DockerTerminalCommandDoneDetail>;
export type DockerTerminalCommandCopyEvent = CustomEvent<DockerTerminalCommandCopyDetail>;
export type DockerTerminalPreviewLoadEvent = CustomEvent<DockerTerminalPreviewLoadDetail>;
export type DockerTerminalPreviewErrorEvent = CustomEvent<DockerTerminalPreviewErrorDetail>;

declare global {
  interface HTMLElementEventMap {
    'docker-terminal-progress': DockerTerminalProgressEvent;
    'docker-terminal-ready': DockerTerminalReadyEvent;
    'docker-terminal-error': DockerTerminalErrorEvent;
    'docker-terminal-exit': DockerTerminalExitEvent;
    'docker-terminal-command-start': DockerTerminalCommandStartEvent;
    'docker-terminal-command-done': DockerTerminalCommandDoneEvent;
    'docker-terminal-command-copy': DockerTerminalCommandCopyEvent;
    'docker-terminal-preview-load': DockerTerminalPreviewLoadEvent;
    'docker-terminal-preview-error': DockerTerminalPreviewErrorEvent;
  }
}

/**
 * Fires one of the elements' events: a CustomEvent that bubbles and crosses shadow roots. Returns
 * false if it was cancelable and a listener called preventDefault().
 */
export function emit<K extends keyof DockerTerminalEventDetails>(target: EventTarget, name: K, detail: DockerTerminalEventDetails[K], options: { cancelable?: boolean } = {}): boolean {
  return target.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true, cancelable: options.cancelable ?? false }));
}
