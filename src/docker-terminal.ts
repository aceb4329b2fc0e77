/**
 * docker-terminal: `<docker-terminal>`, a live terminal with a real Docker daemon in the reader's tab.
 * Importing this module registers the element. It stays small: xterm.js, the emulator and the
 * machine's files load only when the reader starts the terminal. Imported on a server (SSR), it
 * touches no browser API (under Node, lit's DOM shim takes the definitions).
 */
import { getBasePath, setBasePath, setEntryFolder } from './element/base-path.js';
import { DockerTerminal } from './element/docker-terminal.component.js';
import { DockerTerminalCommand } from './element/docker-terminal-command.component.js';
import { DockerTerminalPreview } from './element/docker-terminal-preview.component.js';

export { DockerTerminal, DockerTerminalCommand, DockerTerminalPreview, getBasePath, setBasePath };
export type { PreviewState } from './element/docker-terminal-preview.component.js';
export type { TerminalState } from './element/docker-terminal.component.js';
export type { CommandStatus } from './element/docker-terminal-command.component.js';
export type * from './element/events.js';
export type { RunResult } from './protocol/prompt.js';
export type { ErrorCode } from './boot/errors.js';
export type { Manifest } from './boot/manifest.js';

// The bundle (`guest/`) and the emulator's wasm sit beside this file, unless setBasePath() says otherwise.
setEntryFolder(new URL('./', import.meta.url));

if (globalThis.customElements) {
  if (!customElements.get('docker-terminal')) customElements.define('docker-terminal', DockerTerminal);
  if (!customElements.get('docker-terminal-command')) customElements.define('docker-terminal-command', DockerTerminalCommand);
  if (!customElements.get('docker-terminal-preview')) customElements.define('docker-terminal-preview', DockerTerminalPreview);
}

declare global {
  interface HTMLElementTagNameMap {
    'docker-terminal': DockerTerminal;
    'docker-terminal-command': DockerTerminalCommand;
    'docker-terminal-preview': DockerTerminalPreview;
  }
}
