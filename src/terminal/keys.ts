/**
 * The keys a touch keyboard lacks, for the key bar over the terminal on phones and tablets: what
 * each sends to the shell, as xterm.js would for the real key. Ctrl is sticky: pressed, it turns the
 * next letter typed into its control character (Ctrl then c sends ^C).
 */
export interface BarKey {
  /** Shown on the button. */
  label: string;
  /** Read by screen readers; it starts with the label, so a reader who says what they see finds it (WCAG 2.5.3). */
  name: string;
  /** What it sends; arrows differ in the terminal's application cursor mode (vim, less). */
  send?: string | ((applicationCursor: boolean) => string);
  sticky?: true;
}

const arrow = (letter: string) => (app: boolean) => `\x1b${app ? 'O' : '['}${letter}`;

export const BAR_KEYS: readonly BarKey[] = [
  { label: 'Esc', name: 'Esc', send: '\x1b' },
  { label: 'Tab', name: 'Tab', send: '\t' },
  { label: 'Ctrl', name: 'Ctrl', sticky: true },
  { label: '↑', name: 'Up arrow', send: arrow('A') },
  { label: '↓', name: 'Down arrow', send: arrow('B') },
  { label: '←', name: 'Left arrow', send: arrow('D') },
  { label: '→', name: 'Right arrow', send: arrow('C') },
  { label: '|', name: 'Vertical bar', send: '|' },
  { label: '~', name: 'Tilde', send: '~' },
  { label: '/', name: 'Slash', send: '/' },
  { label: '-', name: 'Dash', send: '-' },
];

/** What a key of the bar sends. */
export function barKeySequence(key: BarKey, applicationCursor: boolean): string {
  return typeof key.send === 'function' ? key.send(applicationCursor) : (key.send ?? '');
}

/** Typed text with Ctrl held: a letter (or @ [ \ ] ^ _ and space) becomes its control character. */
export function withCtrl(text: string): string {
  const c = text[0];
  if (!c) return text;
  const code = c.toUpperCase().charCodeAt(0);
  if (c === ' ' || c === '@') return '\x00' + text.slice(1);
  if (code >= 0x40 && code <= 0x5f) return String.fromCharCode(code & 0x1f) + text.slice(1);
  return text;
}
