// guest/c2w/dt-c2w-init, the qemu guest's entrypoint, run for real under Node with stand-ins for
// containerd, dockerd, docker and bash (this machine has no Docker and no container2wasm), inside
// private mount, network and PID namespaces so its mounts and `ip` calls stay there. Checks the console
// markers the element follows, the containerd timeout from the environment (the `env:` line of
// /pack/info), the failure path with daemon logs, and the image check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const init = path.join(repo, 'guest/c2w/dt-c2w-init');
const canRun = process.getuid?.() === 0 && spawnSync('unshare', ['-m', '-n', '-p', '-f', 'true']).status === 0;

/** Stand-in commands; `mode` picks how containerd behaves. */
function stubs(dir, { containerd = 'ok', images = ['busybox'] }) {
  const write = (name, body) => fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  const sock = 'import socket,os,time; os.makedirs("/run/containerd", exist_ok=True); s=socket.socket(socket.AF_UNIX); s.bind("/run/containerd/containerd.sock"); time.sleep(60)';
  write('containerd', {
    ok: `echo "containerd stand-in log line"; exec python3 -c '${sock}'`,
    slow: 'echo "containerd stand-in, never ready"; exec sleep 60',
    dies: 'echo "containerd stand-in: fatal"; exit 1',
  }[containerd]);
  write('dockerd', 'echo "dockerd stand-in got: $*"; exec sleep 60');
  write('docker', `case "$1 $2" in
  "info "*) exit 0 ;;
  "version "*) echo 20.10-stand-in ;;
  "image inspect") for i in ${images.join(' ')}; do [ "$3" = "$i" ] && exit 0; done; exit 1 ;;
  "import "*) cat >/dev/null; echo "imported $4" >&2 ;;
esac`);
  // The reader's shell: say so and end the whole init (the real one loops on bash forever).
  write('bash', 'echo "STUB-SHELL $*"; kill -TERM $PPID; exit 0');
}

function runInit({ env = {}, args = [], ...opts }) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dt-c2w-init-'));
  const bin = path.join(tmp, 'sbin');
  const opt = path.join(tmp, 'opt');
  fs.mkdirSync(bin);
  fs.mkdirSync(path.join(opt, 'dt-images/busybox'), { recursive: true });
  fs.writeFileSync(path.join(opt, 'dt-images/busybox/hello'), 'x');
  stubs(bin, opts);
  // The init sets PATH itself, so the stand-ins go where it looks first, in the private namespace.
  // A PID namespace too: when its first process ends, the stand-in daemons left behind end with it.
  const script = `mount --make-rprivate / && mount --bind ${bin} /usr/local/sbin && mount --bind ${opt} /opt && sh ${init} "$@"`;
  return new Promise((resolve) => {
    const child = spawn('unshare', ['-m', '-n', '-p', '-f', 'sh', '-c', script, 'sh', ...args], { env: { PATH: process.env.PATH, ...env } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', () => {
      clearTimeout(timer);
      fs.rmSync(tmp, { recursive: true, force: true });
      resolve(out);
    });
  });
}

const stages = (out) => out.split('\n').filter((l) => l.startsWith('DT:'));

test('dt-c2w-init: loopback, containerd, dockerd against it, the stages in order, then the shell', { skip: !canRun && 'needs root and unshare' }, async () => {
  const out = await runInit({ env: { DT_CONTAINERD_TIMEOUT: '7' } });
  const s = stages(out);
  assert.deepEqual(s.map((l) => l.split(' ').slice(0, 2).join(' ')), ['DT:STAGE kernel', 'DT:STAGE containerd', 'DT:STAGE dockerd', 'DT:STAGE ready'], out);
  assert.match(s[1], /timeout=7s/);
  assert.match(s[3], /docker=20\.10-stand-in/);
  assert.match(out, /STUB-SHELL --login/);
});

test('dt-c2w-init: containerd that never opens its socket fails after the timeout from the environment, with its log', { skip: !canRun && 'needs root and unshare' }, async () => {
  const started = Date.now();
  const out = await runInit({ containerd: 'slow', env: { DT_CONTAINERD_TIMEOUT: '2' } });
  const s = stages(out);
  assert.match(s.find((l) => l.startsWith('DT:STAGE failed')) ?? '', /containerd did not open .*within 2s \(containerd-timeout\)/, out);
  assert.ok(s.includes('DT:LOG containerd.log: containerd stand-in, never ready'), out);
  assert.equal(s.at(-1), 'DT:LOG end');
  assert.ok(!s.some((l) => l.startsWith('DT:STAGE ready')));
  assert.ok(Date.now() - started < 20_000);
  assert.match(out, /STUB-SHELL/); // the reader still gets a shell to look around
});

test('dt-c2w-init: containerd that exits is reported as such', { skip: !canRun && 'needs root and unshare' }, async () => {
  const out = await runInit({ containerd: 'dies' });
  assert.match(out, /DT:STAGE failed containerd exited during start-up/);
  assert.match(out, /DT:LOG containerd\.log: containerd stand-in: fatal/);
});

test('dt-c2w-init: the image argument (c: line) must be loaded before ready', { skip: !canRun && 'needs root and unshare' }, async () => {
  const ok = await runInit({ args: ['busybox'] });
  assert.match(ok, /DT:STAGE ready/);
  const missing = await runInit({ args: ['alpine'] });
  assert.match(missing, /DT:STAGE failed image alpine is not in this machine; it has: busybox/);
  assert.doesNotMatch(missing, /DT:STAGE ready/);
});
