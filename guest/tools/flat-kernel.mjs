// Build step run by guest/build.sh: turns Debian's bzImage into one that needs no decompression.
// The Debian kernel is xz-compressed, and its decompressor took 3.1 s of a cold boot under Node
// (v86 interprets it once). This keeps the bzImage's real-mode setup code, and puts in place of the
// compressed part a 32-byte stub followed by the kernel's loadable segments laid out flat: the
// setup code jumps to the stub at 1 MiB, which copies the kernel to the physical address it was
// linked for (16 MiB, so no relocation) and jumps to its entry with boot_params in %esi, as the
// decompressor would.
// Usage: node flat-kernel.mjs VMLINUZ OUT
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

const [input, output] = process.argv.slice(2);
const bz = fs.readFileSync(input);
const fail = (why) => {
  throw new Error(`${input}: ${why}`);
};

// The compressed kernel: the first xz stream in the file.
const xzAt = bz.indexOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
if (xzAt < 0) fail('no xz-compressed kernel in it');
const elf = execFileSync('xz', ['-dc', '--single-stream'], { input: bz.subarray(xzAt), maxBuffer: 256 << 20 });

// ELF32 little-endian i386: its PT_LOAD segments by physical address.
if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 1 || elf[5] !== 1 || elf.readUInt16LE(18) !== 3) fail('the kernel inside is not a 32-bit x86 ELF file');
const entry = elf.readUInt32LE(24);
const phoff = elf.readUInt32LE(28);
const phentsize = elf.readUInt16LE(42);
const segments = [];
for (let i = 0; i < elf.readUInt16LE(44); i++) {
  const p = phoff + i * phentsize;
  if (elf.readUInt32LE(p) === 1) segments.push({ offset: elf.readUInt32LE(p + 4), paddr: elf.readUInt32LE(p + 12), filesz: elf.readUInt32LE(p + 16) });
}
const base = Math.min(...segments.map((s) => s.paddr));
if (!segments.length || base !== entry) fail(`unexpected layout: entry ${entry.toString(16)}, lowest segment ${base.toString(16)}`);
// (the kernel clears its own .bss, as it does after the decompressor)
const end = Math.max(...segments.map((s) => s.paddr + s.filesz));
const flat = Buffer.alloc(Math.ceil((end - base) / 4) * 4);
for (const s of segments) elf.copy(flat, s.paddr - base, s.offset, s.offset + s.filesz);

const STUB = 32;
const LOAD = 0x100000; // where boot loaders (and v86) put the protected-mode part: code32_start
if (bz.readUInt32LE(0x214) !== LOAD) fail('code32_start is not 1 MiB');
if (LOAD + STUB + flat.length > base) fail('the flat kernel would overlap its own destination');
const u32 = (x) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(x >>> 0);
  return b;
};
const stub = Buffer.concat([
  Buffer.from([0x89, 0xf5]), // mov ebp, esi        (boot_params)
  Buffer.from([0xbe]), u32(LOAD + STUB), // mov esi, source
  Buffer.from([0xbf]), u32(base), // mov edi, destination
  Buffer.from([0xb9]), u32(flat.length / 4), // mov ecx, dwords
  Buffer.from([0xfc, 0xf3, 0xa5]), // cld; rep movsd
  Buffer.from([0x89, 0xee]), // mov esi, ebp
  Buffer.from([0xb8]), u32(entry), // mov eax, entry
  Buffer.from([0xff, 0xe0]), // jmp eax
]);
const setupSize = ((bz[0x1f1] || 4) + 1) * 512;
const setup = Buffer.from(bz.subarray(0, setupSize));
const protectedMode = Buffer.concat([stub, Buffer.alloc(STUB - stub.length, 0x90), flat]);
setup.writeUInt32LE(Math.ceil(protectedMode.length / 16), 0x1f4); // syssize, in 16-byte units
fs.writeFileSync(output, Buffer.concat([setup, protectedMode]));
console.log(`flat-kernel: ${output}: ${flat.length} bytes of kernel at ${base.toString(16)} (was ${bz.length} bytes with xz)`);
