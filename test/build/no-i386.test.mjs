// The guest build never runs a guest (i386) program on the host: CI's kernel refuses them, and arm64
// hosts never run them. guest/build.sh runs itself under guest/tools/no-i386.c, which kills any
// process at its first i386 system call; these tests show that the guard does that, and that the
// bundle under test was built under it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readManifest, repo } from '../guest/bundle.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dt-no-i386-'));
const guard = path.join(tmp, 'no-i386');
execFileSync('cc', ['-O2', '-o', guard, path.join(repo, 'guest/tools/no-i386.c')]);

/**
 * The smallest i386 program: an ELF header, one segment, and `mov eax,1; mov ebx,7; int 0x80`
 * (exit(7)). A test fixture written here, not a guest binary.
 */
function i386Exit7() {
  const base = 0x08048000;
  const code = Buffer.from([0xb8, 1, 0, 0, 0, 0xbb, 7, 0, 0, 0, 0xcd, 0x80]);
  const elf = Buffer.alloc(84 + code.length);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]).copy(elf, 0); // ELF, 32-bit, little-endian, version 1
  elf.writeUInt16LE(2, 16); // executable
  elf.writeUInt16LE(3, 18); // i386
  elf.writeUInt32LE(1, 20);
  elf.writeUInt32LE(base + 84, 24); // entry
  elf.writeUInt32LE(52, 28); // program headers at
  elf.writeUInt16LE(52, 40); // header size
  elf.writeUInt16LE(32, 42); // program header size
  elf.writeUInt16LE(1, 44); // one of them
  elf.writeUInt32LE(1, 52); // PT_LOAD
  elf.writeUInt32LE(0, 56);
  elf.writeUInt32LE(base, 60);
  elf.writeUInt32LE(base, 64);
  elf.writeUInt32LE(elf.length, 68);
  elf.writeUInt32LE(elf.length, 72);
  elf.writeUInt32LE(5, 76); // read + execute
  elf.writeUInt32LE(0x1000, 80);
  code.copy(elf, 84);
  const file = path.join(tmp, 'exit7-i386');
  fs.writeFileSync(file, elf, { mode: 0o755 });
  return file;
}

test('the guard lets host programs run, with their exit status', () => {
  const r = spawnSync(guard, ['sh', '-c', 'echo native; exit 3'], { encoding: 'utf8' });
  assert.equal(r.status, 3);
  assert.equal(r.stdout, 'native\n');
});

test('under the guard an i386 program never runs: killed at its first system call (or refused by the kernel)', () => {
  const program = i386Exit7();
  // Without the guard: 7 where the kernel runs i386 programs, "Exec format error" where it does not.
  const plain = spawnSync(program, [], { encoding: 'utf8' });
  assert.ok(plain.status === 7 || plain.error?.code === 'ENOEXEC', `the fixture itself misbehaves: ${JSON.stringify(plain)}`);
  // Through a shell, as a build step would start it.
  const guarded = spawnSync(guard, ['sh', '-c', `"${program}"; echo "status $?"`], { encoding: 'utf8' });
  assert.equal(guarded.status, 0, guarded.stderr);
  assert.match(guarded.stdout, /^status (159|126)\n$/, `the i386 program was not stopped: ${guarded.stdout}`);
  const direct = spawnSync(guard, [program], { encoding: 'utf8' });
  assert.ok(direct.signal === 'SIGSYS' || direct.status === 127, `the i386 program was not stopped: ${JSON.stringify(direct)}`);
});

test('the bundle under test was built under the guard', () => {
  assert.equal(readManifest().build?.noI386Guard, true, 'dist/guest was not built by guest/build.sh under guest/tools/no-i386.c: run `npm run build:guest`');
});

