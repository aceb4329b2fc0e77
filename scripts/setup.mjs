// What `npm start` and `npm test` need on a fresh Debian machine, done only where missing:
// Debian packages (Chromium for the tests; the guest builder installs its own tools), the
// element's build, and the machine bundle (cached outside the repo by guest/build.sh).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const isRoot = process.getuid?.() === 0;

export function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: repo, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

/** Installs Debian packages whose command is missing (as root; otherwise says what to run). */
export function ensureDebianPackages(wanted) {
  const missing = Object.entries(wanted).filter(([cmd]) => !fs.existsSync(cmd) && spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0).map(([, pkg]) => pkg);
  if (!missing.length) return;
  if (!isRoot) throw new Error(`missing Debian packages: run \`sudo apt-get install -y ${missing.join(' ')}\``);
  console.log(`setup: installing ${missing.join(' ')}`);
  sh('apt-get', ['update', '-q']);
  sh('apt-get', ['install', '-y', '-q', ...missing], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

export function buildElement() {
  sh('npm', ['run', '--silent', 'build']);
}

/**
 * Builds the machine bundle into dist/guest (a cache hit takes seconds). Without root, guest/build.sh
 * runs under fakeroot, and names the Debian packages to install if any tool is missing.
 */
export function buildGuest() {
  sh('bash', ['guest/build.sh']);
  pruneCache();
}

/**
 * Old bundles, root file systems and Node disk images pile up in the cache as the recipe changes
 * (a few GB each for the disks): keep the bundle dist/guest came from and the newest root fs.
 */
function pruneCache() {
  const cache = process.env.DT_CACHE ?? path.join(os.homedir(), '.cache/docker-terminal');
  if (!fs.existsSync(cache)) return;
  const current = fs.statSync(path.join(repo, 'dist/guest/manifest.json')).ino;
  const entries = fs.readdirSync(cache).map((name) => ({ name, full: path.join(cache, name), mtime: fs.statSync(path.join(cache, name)).mtimeMs }));
  const newestRootfs = entries.filter((e) => e.name.startsWith('rootfs-') && !e.name.startsWith('rootfs-work-')).sort((a, b) => b.mtime - a.mtime)[0]?.name;
  const diskHash = JSON.parse(fs.readFileSync(path.join(repo, 'dist/guest/manifest.json'), 'utf8')).files.disk.sha256.slice(0, 16);
  for (const e of entries) {
    const keep =
      (e.name.startsWith('bundle-') && !e.name.endsWith('.tmp') && fs.existsSync(path.join(e.full, 'manifest.json')) && fs.statSync(path.join(e.full, 'manifest.json')).ino === current) ||
      e.name === newestRootfs ||
      e.name === `node-${diskHash}` ||
      e.name.startsWith('work-') ||
      // The private apt lists and package cache (refreshed daily), and the no-i386 guard.
      e.name.startsWith('apt-') ||
      e.name.startsWith('no-i386-') ||
      // Debian's busybox-static, for the images the network tests make.
      e.name === 'test-debs' ||
      // The qemu tests' stand-in (test/qemu/standin/build.mjs keeps only its newest itself).
      e.name.startsWith('qemu-standin-');
    if (!keep) fs.rmSync(e.full, { recursive: true, force: true });
  }
}

