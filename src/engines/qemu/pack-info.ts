import { TerminalError } from '../../boot/errors.js';

/**
 * `/pack/info`: the guest's run-time configuration, which the page writes into the Emscripten file
 * system before QEMU starts and container2wasm's init reads (after restoring a snapshot, too).
 * One setting per line, `<key>: <value>` (cmd/init/main.go parseInfo):
 *   t:   the date, in seconds since the epoch (the guest's clock is set from it)
 *   env: one `NAME=value` for the container
 *   m:   a path to bind-mount from the host share
 *   e:   the container's entrypoint (one word)
 *   c:   the container's arguments, separated by spaces
 * A newline inside a value is written as backslash-newline, a space inside an argument as "\ ".
 */
export interface PackInfo {
  /** Seconds since the epoch. */
  time?: number;
  env?: Record<string, string>;
  mounts?: string[];
  entrypoint?: string;
  command?: string[];
}

const bad = (message: string) => new TerminalError('invalid-attribute', message);

/** Newlines are line separators in the file; init turns backslash-newline back into one. */
function escapeValue(value: string, what: string): string {
  // parseInfo reads "\<newline>" as an escaped newline, so a value may not end in a backslash.
  if (/\\$/.test(value) || /\\\n/.test(value)) throw bad(`${what} may not end a line with a backslash: ${JSON.stringify(value)}.`);
  return value.replace(/\n/g, '\\\n');
}

export function packInfoText(info: PackInfo): string {
  const lines: string[] = [];
  if (info.time !== undefined) lines.push(`t:${Math.floor(info.time)}`);
  for (const [name, value] of Object.entries(info.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw bad(`"${name}" is not a valid environment variable name.`);
    lines.push(`env:${name}=${escapeValue(value, `The value of ${name}`)}`);
  }
  for (const m of info.mounts ?? []) lines.push(`m:${escapeValue(m, 'A mount path')}`);
  if (info.entrypoint !== undefined) {
    if (!info.entrypoint.trim()) throw bad('The entrypoint is empty.');
    lines.push(`e:${escapeValue(info.entrypoint, 'The entrypoint')}`);
  }
  if (info.command?.length) {
    const words = info.command.map((w) => {
      if (w === '') throw bad('An empty word in the command cannot be written to /pack/info.');
      return escapeValue(w, 'A command word').replace(/ /g, '\\ ');
    });
    lines.push(`c:${words.join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * What docker-terminal tells its c2w guest (guest/c2w): the clock, the containerd timeout, and
 * the image the reader starts in, which the guest checks it holds before it reports ready.
 */
export function guestPackInfo(opts: { now: number; containerdTimeout: number; image?: string | null; entrypoint?: string }): PackInfo {
  const info: PackInfo = {
    time: opts.now / 1000,
    env: { DT_CONTAINERD_TIMEOUT: String(opts.containerdTimeout) },
  };
  if (opts.image) {
    if (opts.entrypoint) info.entrypoint = opts.entrypoint;
    info.command = [opts.image];
  }
  return info;
}
