import type { ITerminalOptions } from '@xterm/xterm';

/**
 * xterm.js options from the element's CSS custom properties (xterm draws its own colours and font,
 * so they are read once when the terminal opens) and the reader's preferences: reduced motion turns
 * the cursor's blinking off and the screen-reader mirror on.
 */
export function terminalOptions(host: Element, screenReader: boolean): ITerminalOptions {
  const style = getComputedStyle(host);
  const reducedMotion = matchMedia('(prefers-reduced-motion: reduce)').matches;
  return {
    screenReaderMode: screenReader || reducedMotion,
    cursorBlink: !reducedMotion,
    fontFamily: style.getPropertyValue('--docker-terminal-font-family').trim() || 'monospace',
    fontSize: parseFloat(style.getPropertyValue('--docker-terminal-font-size')) || 14,
    theme: {
      background: style.getPropertyValue('--docker-terminal-background').trim() || '#1e1e2e',
      foreground: style.getPropertyValue('--docker-terminal-foreground').trim() || '#e4e4ef',
    },
  };
}
