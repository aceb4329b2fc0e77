import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { checkLoadMode } from './settings.js';

/** What deciding when to start needs of the element. */
export interface LoadHost extends ReactiveControllerHost, HTMLElement {
  load: string | null;
  start(): Promise<void>;
  /** Shows an error in the element (a wrong `load`). */
  fail(e: unknown): void;
  /** Before the reader asks: fetch the manifest, check the attributes and files. */
  peek(): Promise<void>;
}

/**
 * When the machine starts (the `load` attribute): `eager` at once, `visible` when the element is
 * scrolled into view, `click` (the default) when the reader presses Start. Until then, the element
 * peeks at its bundle so a page author sees mistakes before anyone clicks.
 */
export class LoadController implements ReactiveController {
  private visibility: IntersectionObserver | undefined;

  constructor(private readonly host: LoadHost) {
    host.addController(this);
  }

  hostConnected(): void {
    let mode;
    try {
      mode = checkLoadMode(this.host.load);
    } catch (e) {
      this.host.fail(e);
      return;
    }
    // After the current script: a page's module that imports the element and then calls
    // setBasePath() has the element upgraded (and connected) before that call.
    queueMicrotask(() => {
      if (!this.host.isConnected) return;
      if (mode === 'eager') void this.host.start().catch(() => undefined);
      else void this.host.peek();
    });
    if (mode === 'visible') {
      this.visibility = new IntersectionObserver((entries) => {
        if (!entries.some((e) => e.isIntersecting)) return;
        this.hostDisconnected();
        void this.host.start().catch(() => undefined);
      });
      this.visibility.observe(this.host);
    }
  }

  hostDisconnected(): void {
    this.visibility?.disconnect();
    this.visibility = undefined;
  }
}
