// Build step run by guest/build.sh: boots the unpacked root file system in v86 under Node with
// guest/configure/dt-configure as PID 1, which runs the packages' maintainer scripts and triggers (the
// host never runs a guest program), then writes the configured root as a tar onto a second disk.
// Usage: node guest/tools/configure.mjs WORKDIR MEMORY_MB TAR_OUT TAR_DISK_MB
import fs from 'node:fs';
import path from 'node:path';
import { startMachine } from './machine.mjs';
import { readWhole, until } from './disk-file.mjs';

const [dir, memory, tarOut, tarDiskMB] = process.argv.slice(2);
const TIMEOUT_S = 1200;
const file = path.join(dir, 'disk.img');
const buffer = readWhole(file);
const tarDisk = new ArrayBuffer(Number(tarDiskMB) * 1024 * 1024);
const cmdline = fs.readFileSync(path.join(dir, 'cmdline.txt'), 'utf8').trim();
const m = startMachine(dir, { memoryMB: Number(memory), cmdline: `${cmdline} dt_init=/dt-configure`, diskBuffer: buffer, hdb: tarDisk, logFile: path.join(dir, 'configure.log') });

// Progress: dpkg says "Setting up <package> ..." once for each package it configures.
let total = 0;
let shown = '';
let shownAt = 0;
const progress = setInterval(() => {
  const c = m.console;
  total ||= Number(/DT:CONFIGURE start packages=(\d+)/.exec(c)?.[1] ?? 0);
  const step = [...c.matchAll(/DT:CONFIGURE (preinst|dpkg-configure|triggers|tar)/g)].pop()?.[1] ?? 'booting';
  const setUp = (c.match(/^Setting up /gm) ?? []).length;
  const line = step === 'dpkg-configure' ? `dpkg --configure: ${setUp} of ${total} packages` : step === 'booting' ? 'booting' : step === 'tar' ? 'writing the configured root to the host' : step;
  const stepChanged = line.split(':')[0] !== shown.split(':')[0];
  if (line !== shown && (stepChanged || m.elapsed() - shownAt >= 10)) console.log(`configure: ${line} (${m.elapsed().toFixed(0)} s)`), (shown = line), (shownAt = m.elapsed());
}, 1000);

try {
  await until(() => /DT:CONFIGURED|DT:CONFIGURE failed|Kernel panic/.test(m.console), TIMEOUT_S);
} catch {
  throw new Error(`the configure boot did not finish within ${TIMEOUT_S} s; see ${path.join(dir, 'configure.log')}. Console tail:\n${m.console.slice(-3000)}`);
} finally {
  clearInterval(progress);
}
if (!/DT:CONFIGURED/.test(m.console)) throw new Error(`configuring the packages failed:\n${m.console.slice(-4000)}`);
await m.destroy();
const bytes = Number(/DT:CONFIGURE tar bytes=(\d+)/.exec(m.console)?.[1]);
if (!(bytes > 0 && bytes <= tarDisk.byteLength)) throw new Error(`the guest's tar of its root is missing or larger than its disk (${tarDiskMB} MiB)`);
fs.writeFileSync(tarOut, new Uint8Array(tarDisk, 0, bytes));
console.log(`configure: done in ${m.elapsed().toFixed(0)} s (${(bytes / 1e6).toFixed(0)} MB of root file system)`);
process.exit(0);
