import { TerminalError } from '../boot/errors.js';
import type { Engine, ShellChannel } from '../engines/engine.js';

/** What `share` needs of a `<docker-terminal>`: its attributes, start(), a shell on its machine, and its notices. */
export interface Sharable extends HTMLElement {
  share: string | null;
  start(): Promise<void>;
  openSharedShell(onConsole: (text: string) => void): { engine: Engine; channel: ShellChannel } | undefined;
  /** Calls `onNotice` with the machine's notice now and whenever it changes (undefined: none); returns the way to stop. */
  watchNotice(onNotice: (text: string | undefined) => void): () => void;
}

/** Attributes of a terminal's own machine, which a terminal that shares another's cannot set. */
const OWN_MACHINE = ['src', 'engine', 'cores', 'memory', 'image', 'network', 'registry'];

/**
 * The terminal whose machine `el` shares (its `share` attribute names it), checked: a wrong `share`
 * throws an `invalid-attribute` error that says what to write instead.
 */
export function shareHost<T extends Sharable>(el: T, isTerminal: (x: Element) => x is T): T {
  const id = el.share ?? '';
  const root = el.getRootNode() as Document | ShadowRoot;
  const host = root.getElementById?.(id) ?? null;
  const bad = (why: string) => new TerminalError('invalid-attribute', `share="${id}" ${why}. Set share to the id of another <docker-terminal> on this page, or remove it to give this terminal a machine of its own.`);
  const own = OWN_MACHINE.filter((name) => el.hasAttribute(name));
  if (own.length)
    throw new TerminalError('invalid-attribute', `A terminal with share="${id}" uses that terminal's machine, so ${own.map((n) => `"${n}"`).join(', ')} cannot be set here: set ${own.length > 1 ? 'them' : 'it'} on "${id}", or remove share.`);
  if (!host) throw bad('names no element on this page');
  if (host === el) throw bad('names this terminal itself');
  if (!isTerminal(host)) throw bad(`names a <${host.localName}>, not a <docker-terminal>`);
  if (host.share !== null) throw bad(`names a terminal that itself shares "${host.share}"'s machine; name "${host.share}" instead`);
  return host;
}

/**
 * Starts the shared machine (if needed) and takes one of its shells. `onHostExit` runs when that
 * machine stops, `onNotice` when its notice (a failing disk, a daemon down) comes or goes: the
 * reader of the sharing terminal waits on the same machine and must hear of it too. The returned
 * `leave` stops listening.
 */
export async function joinShare(
  host: Sharable,
  hooks: { onConsole(text: string): void; onHostExit(e: CustomEvent<{ reason: string }>): void; onNotice(text: string | undefined): void },
  signal: AbortSignal,
): Promise<{ engine: Engine; channel: ShellChannel; leave: () => void }> {
  const { onConsole, onHostExit } = hooks;
  await host.start().catch((e: Error) => {
    throw new TerminalError('engine-failed', `The terminal "${host.id}", whose machine this one shares, could not start: ${e?.message ?? e}`);
  });
  signal.throwIfAborted();
  const shell = host.openSharedShell(onConsole);
  if (!shell)
    throw new TerminalError('engine-in-use', `The machine of "${host.id}" has no free shell: one machine serves at most two terminals (its own and one that shares it). Stop one of them, or remove share to give this terminal a machine of its own.`);
  host.addEventListener('docker-terminal-exit', onHostExit as EventListener);
  const unwatch = host.watchNotice(hooks.onNotice);
  return {
    ...shell,
    leave: () => {
      host.removeEventListener('docker-terminal-exit', onHostExit as EventListener);
      unwatch();
    },
  };
}
