import { TerminalError, README_URL } from '../boot/errors.js';
import type { Engine, EngineOptions } from './engine.js';

/**
 * container2wasm QEMU-wasm bundles. Needs SharedArrayBuffer, so the page must be cross-origin
 * isolated. Loading such a bundle is not built yet: this engine checks the page and says so.
 */
export class QemuEngine implements Engine {
  readonly restored = false;

  constructor(private readonly opts: EngineOptions) {}

  async start(): Promise<void> {
    if (!globalThis.crossOriginIsolated)
      throw new TerminalError(
        'not-isolated',
        'The qemu engine needs SharedArrayBuffer, so this page must be cross-origin isolated: serve it with the headers ' +
          '"Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp" ' +
          `(see ${README_URL}#cross-origin-isolation; hosts that cannot set headers can use a service worker such as coi-serviceworker). ` +
          'Or use engine="v86", which needs neither.',
      );
    throw new TerminalError('engine-unavailable', `The qemu engine cannot load ${this.opts.bundle} yet: this version of docker-terminal runs v86 bundles only. Use engine="v86".`);
  }

  send(): void {}
  resize(): void {}
  setClock(): void {}
  async stop(): Promise<void> {}
}
