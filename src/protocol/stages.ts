/**
 * Boot stages as the guest prints them on its console (guest/rootfs/usr/sbin/dt-init, and the
 * initramfs's init for `kernel`), one line each:
 *   DT:STAGE kernel|containerd|dockerd|ready <detail>   a stage reached
 *   DT:STAGE failed <why>                                 the boot failed; then
 *   DT:LOG <line> …  DT:LOG end                           the daemons' last log lines
 * Change a stage here and in those scripts together.
 */
export const BOOT_STAGES = ['kernel', 'containerd', 'dockerd', 'ready'] as const;
export type BootStage = (typeof BOOT_STAGES)[number];

export type ConsoleMarker =
  | { kind: 'stage'; stage: BootStage; detail: string }
  | { kind: 'failed'; detail: string }
  | { kind: 'log'; line: string };

const MARKER = /^DT:(STAGE|LOG) ?(\S*) ?(.*)$/;

/** Splits console text into lines and picks out the markers. Feed it text as it arrives. */
export class MarkerParser {
  private partial = '';

  feed(text: string): ConsoleMarker[] {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    const found: ConsoleMarker[] = [];
    for (const raw of lines) {
      const m = MARKER.exec(raw.replace(/\r/g, ''));
      if (!m) continue;
      const [, kind, word, rest] = m;
      if (kind === 'LOG') found.push({ kind: 'log', line: `${word} ${rest}`.trim() });
      else if (word === 'failed') found.push({ kind: 'failed', detail: rest });
      else if ((BOOT_STAGES as readonly string[]).includes(word))
        found.push({ kind: 'stage', stage: word as BootStage, detail: rest });
    }
    return found;
  }
}

/** Position of a stage in the boot, 0-based; used for the stage list and the progress bar. */
export function stageIndex(stage: BootStage): number {
  return BOOT_STAGES.indexOf(stage);
}
