/**
 * The control port: the guest's second serial port (ttyS1), read by dt-init's agent
 * (guest/rootfs/usr/sbin/dt-init), so the host can tell the guest things without typing into the
 * reader's shell. One line per message, words separated by spaces:
 *   resize ROWS COLS [ttyS0|ttyS2]  the terminal's size (ttyS2: the shell of a terminal that shares the machine)
 *   clock EPOCH_SECONDS             set the guest clock (a restored state is behind)
 *   ping N                          the agent answers `pong N`: it has read everything sent before
 *   warm                            start the warm-up after ready (dt-warm)
 *   warm-stop                       the reader typed: stop the warm-up at once
 *   mark KEY                        the key of the shells' prompt marks (src/protocol/prompt.ts)
 * The guest answers on the same port: `pong N`, `marked KEY`, dt-warm's `warm round N`,
 * `warm done …` or `warm stopped rounds=N`, and on its own `daemon down NAME` when containerd or
 * dockerd dies (it starts it again) and `daemon up NAME` once it is back, `disk low MB` when the
 * root file system has less than 100 MB free and `disk ok` once it has 200 MB again. Change a word
 * here and in dt-init together.
 */
export const CONTROL_PORT = 1;

export const control = {
  resize: (rows: number, cols: number, tty?: `ttyS${number}`) => `resize ${rows} ${cols}${tty ? ` ${tty}` : ''}`,
  clock: (epochSeconds: number) => `clock ${Math.floor(epochSeconds)}`,
  ping: (n: number) => `ping ${n}`,
  warm: () => 'warm',
  warmStop: () => 'warm-stop',
  mark: (key: string) => `mark ${key}`,
} as const;

/** A message as the bytes written to the port. */
export function controlBytes(line: string): Uint8Array {
  return new TextEncoder().encode(line + '\n');
}
