/**
 * TRIM for v86's IDE disk, which has none: without it, every block the guest ever wrote stays in
 * the tab's memory after the file is deleted (a container that wrote 1.4 GB once left the tab at
 * 5.3 GB). The disk says it supports DATA SET MANAGEMENT with TRIM (IDENTIFY words 80 and 169, as
 * QEMU's IDE disk does), the guest's ext4 discards what it frees (the `discard` mount option, set
 * in the file system by guest/build.sh), and the ranges reach the disk's discard(), which lets the
 * written blocks go. A trimmed block then reads as the bundle's image had it: the disk does not
 * claim zeros after TRIM, so the guest does not count on any content.
 * (v86's src/ide.js: create_identify_packet, ata_command, IDEChannel.dma_write_command8,
 * do_ata_write_sectors_dma, whose PRD walk this follows.)
 */

const ATA_CMD_DSM = 0x06;
const DSM_TRIM = 1;
const SR_DSC = 0x10;
const SR_DRQ = 0x08;
const SR_DRDY = 0x40;
/**
 * ATA/ATAPI-4 to -7, as QEMU's disk says: Linux believes word 169 from major version 7 on
 * (ata_id_has_trim). Not 8: from 8 on it reads v86's word 48 as trusted computing support.
 */
const MAJOR_VERSIONS = 0x00f0;

/** The parts of v86's IDEInterface this touches. */
export interface TrimInterface {
  is_atapi: boolean;
  current_command: number;
  features_reg: number;
  status_reg: number;
  data: Uint8Array;
  buffer: { discard?(offset: number, length: number): void } | undefined;
  cpu: {
    mem8: Uint8Array;
    read32s(addr: number): number;
    read16(addr: number): number;
    read8(addr: number): number;
    io?: { ports?: Array<{ device?: unknown; write8?: unknown }> };
  };
  channel: TrimChannel;
  get_count(lba48: boolean): number;
  push_irq(): void;
  ata_abort_command(): void;
  create_identify_packet(): void;
  ata_command(cmd: number): void;
}

interface TrimChannel {
  current_interface: TrimInterface;
  dma_command: number;
  dma_status: number;
  prdt_addr: number;
  dma_write_command8(value: number): void;
}

const PATCHED = Symbol('docker-terminal trim');
/** v86's own DMA start, kept on the patched prototype. */
const ORIGINAL = Symbol('v86 dma_write_command8');

/** Sets word `n` of the IDENTIFY data (little-endian words). */
function setWord(data: Uint8Array, n: number, value: number): void {
  data[2 * n] = value & 0xff;
  data[2 * n + 1] = value >> 8;
}

/** The DSM payload's ranges, [sector, count], 8 bytes each: 48-bit LBA, 16-bit count (0: unused). */
export function trimRanges(payload: Uint8Array): Array<[number, number]> {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const out: Array<[number, number]> = [];
  for (let at = 0; at + 8 <= payload.length; at += 8) {
    const count = view.getUint16(at + 6, true);
    if (count) out.push([view.getUint32(at, true) + view.getUint16(at + 4, true) * 2 ** 32, count]);
  }
  return out;
}

/** Reads the guest's DMA payload of `bytes` from the channel's PRD table. */
function dmaPayload(ide: TrimInterface, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let prd = ide.channel.prdt_addr;
  let at = 0;
  for (;;) {
    const addr = ide.cpu.read32s(prd) >>> 0;
    const count = ide.cpu.read16(prd + 4) || 0x10000;
    const last = ide.cpu.read8(prd + 7) & 0x80;
    out.set(ide.cpu.mem8.subarray(addr, addr + Math.min(count, bytes - at)), at);
    at += count;
    prd += 8;
    if (last || at >= bytes) return out;
  }
}

/**
 * False if v86's IDE is not as expected (then the disk simply has no TRIM). Patched on the
 * prototypes, once per v86 module, and in this machine's port table (v86 registers the bus
 * master's 8-bit port with the function itself, so a prototype patch alone never sees it); it
 * changes nothing for any other command. Apply before the guest identifies its disk: at
 * `emulator-loaded`.
 */
export function trim(ide: Partial<TrimInterface> | undefined): boolean {
  if (!ide || typeof ide.ata_command !== 'function' || typeof ide.create_identify_packet !== 'function' || typeof ide.channel?.dma_write_command8 !== 'function' || !Array.isArray(ide.cpu?.io?.ports)) return false;
  const proto = Object.getPrototypeOf(ide) as TrimInterface & { [PATCHED]?: true };
  const channelProto = Object.getPrototypeOf(ide.channel) as TrimChannel & { [ORIGINAL]?: TrimChannel['dma_write_command8'] };
  if (!proto[PATCHED]) patchInterface(proto);
  if (!channelProto[ORIGINAL]) patchChannel(channelProto);
  const original = channelProto[ORIGINAL]!;
  for (const entry of ide.cpu.io.ports) if (entry.device === ide.channel && entry.write8 === original) entry.write8 = channelProto.dma_write_command8;
  return true;
}

function patchInterface(proto: TrimInterface & { [PATCHED]?: true }): void {
  const identify = proto.create_identify_packet;
  proto.create_identify_packet = function (this: TrimInterface) {
    identify.call(this);
    if (this.is_atapi || this.current_command !== 0xec) return;
    setWord(this.data, 80, MAJOR_VERSIONS);
    setWord(this.data, 105, 1); // one 512-byte block of ranges per command
    setWord(this.data, 169, 1); // DATA SET MANAGEMENT: TRIM
  };

  const command = proto.ata_command;
  proto.ata_command = function (this: TrimInterface, cmd: number) {
    if (cmd !== ATA_CMD_DSM || this.is_atapi) return command.call(this, cmd);
    this.current_command = cmd;
    if (!(this.features_reg & DSM_TRIM)) return this.ata_abort_command();
    // As a DMA write: the ranges come when the guest starts the transfer.
    this.status_reg = SR_DRDY | SR_DSC | SR_DRQ;
    this.channel.dma_status |= 1;
  };
  proto[PATCHED] = true;
}

function patchChannel(proto: TrimChannel & { [ORIGINAL]?: TrimChannel['dma_write_command8'] }): void {
  const dmaStart = proto.dma_write_command8;
  proto[ORIGINAL] = dmaStart;
  proto.dma_write_command8 = function (this: TrimChannel, value: number) {
    const ide = this.current_interface;
    const starts = (value & 1) === 1 && (this.dma_command & 1) === 0;
    if (!starts || ide.current_command !== ATA_CMD_DSM) return dmaStart.call(this, value);
    this.dma_command = value & 0x09;
    const payload = dmaPayload(ide, ide.get_count(true) * 512);
    for (const [sector, count] of trimRanges(payload)) ide.buffer?.discard?.(sector * 512, count * 512);
    ide.status_reg = SR_DRDY | SR_DSC;
    this.dma_status &= ~1;
    ide.current_command = -1;
    ide.push_irq();
  };
}
