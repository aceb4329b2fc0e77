/**
 * A read error for the guest, where v86's IDE disk has none: it hands a read's data to the guest
 * whenever the disk calls back, and a disk that cannot get the data would leave the guest's
 * command waiting for ever. When ./disk.ts calls back with FAILED, the read ends as a real disk's
 * failed read does: status ERR, ABRT in the error register, and for a DMA read the Bus Master
 * error bit, then the interrupt. Linux reports an I/O error to what read the block.
 * (v86's src/ide.js: IDEInterface.read_buffer, ata_abort_command, do_ata_read_sectors_dma.)
 */
import { FAILED } from './disk.js';

const ATA_CMD_READ_DMA = 0xc8;
const ATA_CMD_READ_DMA_EXT = 0x25;
/** Bus Master IDE status: bit 0 active, bit 1 error. */
const BM_ACTIVE = 1;
const BM_ERROR = 2;

/** The parts of v86's IDEInterface this touches. */
export interface IdeInterface {
  current_command: number;
  channel: { dma_status: number };
  read_buffer(start: number, length: number, callback: (data: Uint8Array) => void): void;
  ata_abort_command(): void;
}

const PATCHED = Symbol('docker-terminal read errors');
const ORIGINAL_READ = Symbol('v86 read_buffer');

/**
 * v86's read, with a failed one (FAILED) ending the command with an error. A module-level function
 * on purpose: a closure made in readErrors() would keep the first machine alive (its context, once
 * bundled, reaches the engine that called), since the prototype outlives every machine.
 */
function readOrAbort(this: IdeInterface & { [ORIGINAL_READ]: IdeInterface['read_buffer'] }, start: number, length: number, callback: (data: Uint8Array) => void): void {
  this[ORIGINAL_READ].call(this, start, length, (data) => {
    if (data !== FAILED) return callback(data);
    const cmd = this.current_command;
    if (cmd === ATA_CMD_READ_DMA || cmd === ATA_CMD_READ_DMA_EXT) this.channel.dma_status = (this.channel.dma_status & ~BM_ACTIVE) | BM_ERROR;
    this.ata_abort_command();
  });
}

/**
 * False if v86's IDE interface is not as expected (then a failed read waits, as before). v86 seals
 * its IDE objects, so the patch goes on their prototype, once per v86 module: it changes nothing
 * for a read that gets its data.
 */
export function readErrors(ide: Partial<IdeInterface> | undefined): boolean {
  if (!ide || typeof ide.read_buffer !== 'function' || typeof ide.ata_abort_command !== 'function' || typeof ide.channel?.dma_status !== 'number') return false;
  const proto = Object.getPrototypeOf(ide) as IdeInterface & { [PATCHED]?: true; [ORIGINAL_READ]?: IdeInterface['read_buffer'] };
  if (proto[PATCHED]) return true;
  proto[ORIGINAL_READ] = proto.read_buffer;
  proto.read_buffer = readOrAbort;
  proto[PATCHED] = true;
  return true;
}
