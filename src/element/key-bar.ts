import { html, nothing } from 'lit';
import { BAR_KEYS, type BarKey } from '../terminal/keys.js';

export type KeyBarMode = 'auto' | 'on' | 'off';

/** Whether the bar shows: `on`, `off`, or by itself on a touch screen (`auto`, the default). */
export function keyBarShown(mode: string | null): boolean {
  if (mode === 'on') return true;
  if (mode === 'off') return false;
  return globalThis.matchMedia?.('(pointer: coarse)').matches ?? false;
}

/**
 * The key bar: real buttons for the keys a touch keyboard lacks. A button takes no focus (the press
 * is cancelled before it could), so the terminal keeps it and the touch keyboard stays up.
 */
export function keyBar(ctrl: boolean, onKey: (key: BarKey) => void) {
  return html`<div part="key-bar" role="toolbar" aria-label="Keys for the terminal">
    ${BAR_KEYS.map(
      (k) => html`<button
        part="key"
        aria-label=${k.name}
        aria-pressed=${k.sticky ? (ctrl ? 'true' : 'false') : nothing}
        @pointerdown=${(e: Event) => e.preventDefault()}
        @mousedown=${(e: Event) => e.preventDefault()}
        @click=${() => onKey(k)}
      >${k.label}</button>`,
    )}
  </div>`;
}
