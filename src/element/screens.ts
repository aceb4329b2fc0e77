import { html, nothing } from 'lit';
import { BOOT_STAGES, stageIndex, type BootStage } from '../protocol/stages.js';
import type { DockerTerminalErrorDetail, DockerTerminalProgressDetail } from './events.js';

// The screens over the terminal until it is ready: the poster, the progress, the error, and the
// boot log under the last two. Templates only: the element and its machine controller hold the state.

const STAGE_LABELS: Record<BootStage, string> = { kernel: 'Kernel', containerd: 'containerd', dockerd: 'dockerd', ready: 'Ready' };

export function formatBytes(n: number): string {
  if (n < 1e6) return `${Math.round(n / 1e3)} kB`;
  return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;
}

export interface PosterView {
  stopped: boolean;
  /** Bytes the start downloads, where known. */
  bytes?: number;
  /** The bundle also fetches disk blocks as the guest reads them. */
  disk: boolean;
  /** The id of the terminal whose machine this one shares. */
  share: string | null;
  onStart(): void;
}

/**
 * What a reader on a phone should know before they tap: the device says it has little memory (the
 * machine takes about 1 GB; a browser may close the tab), or the browser asks to save data.
 */
export function deviceWarning(nav: { deviceMemory?: number; connection?: { saveData?: boolean } } = (globalThis.navigator ?? {}) as object): string | undefined {
  if (nav.deviceMemory !== undefined && nav.deviceMemory <= 2)
    return `This device reports ${nav.deviceMemory} GB of memory. The machine needs about 1 GB, so the browser may close this page while it runs.`;
  if (nav.connection?.saveData) return 'Your browser asks to save data: starting this machine downloads the size above, and more as it runs.';
  return undefined;
}

export function poster(v: PosterView) {
  const size = v.bytes !== undefined ? formatBytes(v.bytes) : undefined;
  const warning = deviceWarning();
  return html`<div class="overlay" part="poster">
    <h2>${v.stopped ? 'The machine is stopped' : 'Docker in your browser'}</h2>
    <p>
      A Linux machine with a real Docker daemon runs inside this page, on your computer.
      ${size ? html`Starting it downloads ${size}${v.disk ? ', then disk blocks as they are needed' : ''}.` : nothing}
      ${v.share !== null ? html`This terminal shares the machine of “${v.share}”: starting it starts that one if needed, and downloads nothing more.` : nothing}
    </p>
    ${warning ? html`<p class="note" part="warning">${warning}</p>` : nothing}
    <button part="start-button" @click=${v.onStart}>${v.stopped ? 'Start again' : 'Start'}</button>
  </div>`;
}

export interface BootLogView {
  log: string;
  open: boolean;
  onToggle(): void;
}

export function bootLog(v: BootLogView) {
  if (!v.log) return nothing;
  return html`<button class="link" aria-expanded=${v.open ? 'true' : 'false'} @click=${v.onToggle}>
      ${v.open ? 'Hide boot log' : 'Show boot log'}
    </button>
    ${v.open ? html`<pre part="boot-log" tabindex="0" aria-label="Boot log">${v.log}</pre>` : nothing}`;
}

export function progressScreen(p: DockerTerminalProgressDetail, downloading: boolean, notes: string[], log: BootLogView, onCancel: () => void) {
  const current = p.stage === 'download' ? -1 : stageIndex(p.stage);
  const label = downloading
    ? p.total
      ? `Downloading ${formatBytes(p.loaded)} of ${formatBytes(p.total)}`
      : 'Preparing the download'
    : `Starting: ${p.stage === 'download' ? 'the machine' : STAGE_LABELS[p.stage]}`;
  return html`<div class="overlay" part="progress-screen">
    <div part="progress">
      <p id="progress-label" aria-live="polite">${label}</p>
      <progress
        part="progress-bar"
        aria-labelledby="progress-label"
        max=${downloading ? p.total || 1 : BOOT_STAGES.length}
        value=${downloading ? p.loaded : Math.max(0, current + 1)}
      ></progress>
    </div>
    ${downloading
      ? nothing
      : html`<ol part="stages" aria-label="Boot stages">
          ${BOOT_STAGES.map((s, i) => html`<li data-state=${i < current ? 'done' : i === current ? 'current' : 'pending'}>${STAGE_LABELS[s]}</li>`)}
        </ol>`}
    ${notes.map((n) => html`<p class="note">${n}</p>`)}
    <button part="cancel-button" class="link" @click=${onCancel}>Cancel</button>
    ${bootLog(log)}
  </div>`;
}

export function errorScreen(e: DockerTerminalErrorDetail, onRetry: () => void, log: BootLogView) {
  return html`<div class="overlay" part="error" role="alert">
    <h2>Docker terminal could not start</h2>
    <p>${e.message}</p>
    ${e.details.length ? html`<pre part="boot-log">${e.details.join('\n')}</pre>` : nothing}
    <button part="retry-button" @click=${onRetry}>Retry</button>
    ${bootLog(log)}
  </div>`;
}

export function noticeBanner(text: string | undefined, onDismiss: () => void, onRestart: () => void) {
  if (!text) return nothing;
  return html`<div part="notice" role="alert">
    <span>${text}</span>
    <span class="actions">
      <button part="restart-button" class="link" @click=${onRestart}>Restart machine</button>
      <button class="link" @click=${onDismiss}>Dismiss</button>
    </span>
  </div>`;
}
