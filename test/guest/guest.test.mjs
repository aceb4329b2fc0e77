// The guest bundle booted in real v86 under Node: cold boot, loopback, the containerd timeout,
// restore from the saved state, and Docker itself. Needs `npm run build:guest` (npm test runs it).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMachine } from '../../guest/tools/machine.mjs';
import { nodeMachineDir, stateBuffer } from './bundle.mjs';

const { dir, manifest } = nodeMachineDir();

/** Waits (without typing) until the control port's output after `from` matches `re`. */
async function controlLine(m, re, from, seconds) {
  for (let i = 0; i < seconds * 10 && !re.test(m.control.slice(from)); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(m.control.slice(from), re, `control port: ${m.control.slice(from)}`);
}

/** What the warm-up could leave behind, one count per line: Docker's containers, crun's (`crun state` fails: 1), cgroups, processes. */
const WARM_LEFTOVERS = "docker ps -aq | wc -l; crun state dt-warm >/dev/null 2>&1; echo $?; ls /sys/fs/cgroup | grep -c dt-warm; pgrep -c -f '[d]t-warm'";
const NOTHING_LEFT = '0\n1\n0\n0';

/** Pings over the control port and waits (up to 10 s) for the answer: the guest has read what was sent before. */
async function controlRoundTrip(m, n) {
  m.sendControl(`ping ${n}`);
  await controlLine(m, new RegExp(`pong ${n}`), 0, 10);
}

describe('cold boot', { concurrency: false }, () => {
  let m;
  before(() => {
    m = startMachine(dir, { memoryMB: manifest.memory, cmdline: manifest.cmdline });
  });
  after(() => m?.destroy());

  test('reaches every stage in order, then ready and a prompt', { timeout: 900_000 }, async () => {
    const ready = await m.ready(900);
    assert.match(ready.detail, /^docker=26\.\d+\.\d+\S* /);
    const stages = m.seen.filter((x) => x.kind === 'stage').map((x) => x.stage);
    assert.deepEqual(stages, ['kernel', 'containerd', 'dockerd', 'ready']);
    assert.equal(m.seen.filter((x) => x.kind === 'failed').length, 0);
  });

  test('loopback is up with 127.0.0.1', { timeout: 120_000 }, async () => {
    const r = await m.run('ip addr show lo');
    assert.equal(r.exitCode, 0);
    assert.match(r.output, /state UNKNOWN|LOOPBACK,UP/);
    assert.match(r.output, /inet 127\.0\.0\.1\/8/);
  });

  test('dockerd uses the containerd that init started, overlay2 and cgroup v2', { timeout: 120_000 }, async () => {
    const r = await m.run("docker info --format '{{.Driver}} {{.CgroupVersion}}'; ps -o args= -C dockerd");
    assert.equal(r.exitCode, 0, r.output);
    assert.match(r.output, /overlay2 2/);
    assert.match(r.output, /--containerd=\/run\/containerd\/containerd\.sock/);
  });

  test('init mounts what Docker needs from /etc/fstab and names the host', { timeout: 120_000 }, async () => {
    const r = await m.run('findmnt -rno TARGET,FSTYPE,OPTIONS | sort; hostname');
    assert.equal(r.exitCode, 0, r.output);
    for (const [target, type] of [['/proc', 'proc'], ['/sys', 'sysfs'], ['/dev/pts', 'devpts'], ['/run', 'tmpfs'], ['/tmp', 'tmpfs'], ['/dev/shm', 'tmpfs'], ['/sys/fs/cgroup', 'cgroup2']])
      assert.match(r.output, new RegExp(`^${target} ${type} `, 'm'), `${target} is not a ${type} mount:\n${r.output}`);
    assert.match(r.output, /^\/sys\/fs\/cgroup cgroup2 \S*nsdelegate/m);
    assert.match(r.output, /^docker$/m);
  });

  test('the daemons run with GOGC=400 and a quarter of the memory as GOMEMLIMIT', { timeout: 120_000 }, async () => {
    const r = await m.run("for p in containerd dockerd; do echo $p $(tr '\\0' '\\n' </proc/$(pidof $p)/environ | grep '^GO' | sort); done; grep MemTotal /proc/meminfo");
    assert.equal(r.exitCode, 0, r.output);
    const kb = Number(/MemTotal:\s+(\d+)/.exec(r.output)[1]);
    for (const p of ['containerd', 'dockerd']) assert.match(r.output, new RegExp(`^${p} GOGC=400 GOMEMLIMIT=${Math.floor(kb / 4)}KiB$`, 'm'));
  });

  test('the kernel modules carry no signature to check at every load', { timeout: 120_000 }, async () => {
    const r = await m.run("lsmod | grep -cE '^(ext4|overlay|bridge|9p) '; for k in ext4 overlay bridge 9p; do tail -c 28 $(modinfo -n $k); echo; done | grep -c 'Module signature appended'");
    assert.equal(r.output.split('\n')[0], '4', r.output);
    assert.equal(r.output.split('\n')[1], '0', r.output);
  });

  test('run() reports a failing command with its exit code', { timeout: 60_000 }, async () => {
    const r = await m.run('echo to-stderr >&2; sh -c "exit 7"');
    assert.equal(r.exitCode, 7);
    assert.equal(r.output, 'to-stderr');
  });
});

describe('containerd-timeout', () => {
  test('an impossibly small timeout ends in a failed marker with the daemon log', { timeout: 600_000 }, async () => {
    const m = startMachine(dir, { memoryMB: manifest.memory, cmdline: `${manifest.cmdline} dt_containerd_timeout=1` });
    try {
      const failed = await m.waitMarker((x) => x.kind === 'failed' || (x.kind === 'stage' && x.stage === 'ready'), 600);
      assert.equal(failed.kind, 'failed', 'containerd cannot be up within 1 s of starting in v86');
      assert.match(failed.detail, /containerd did not open \/run\/containerd\/containerd\.sock within 1s \(containerd-timeout\)/);
      await m.waitMarker((x) => x.kind === 'log' && x.line === 'end', 60);
      assert.ok(m.seen.some((x) => x.kind === 'log' && x.line.startsWith('containerd.log:')), 'the failure carries containerd log lines');
      const containerd = m.seen.find((x) => x.kind === 'stage' && x.stage === 'containerd');
      assert.match(containerd.detail, /timeout=1s/);
    } finally {
      await m.destroy();
    }
  });
});

describe('restored from the saved state', { concurrency: false }, () => {
  let m;
  before(() => {
    m = startMachine(dir, { memoryMB: manifest.memory, state: stateBuffer(manifest) });
  });
  after(() => m?.destroy());

  test('shows a prompt within seconds', { timeout: 120_000 }, async () => {
    const status = await m.prompt(60);
    assert.equal(typeof status, 'number');
  });

  test('the clock is set from the host over the control port', { timeout: 60_000 }, async () => {
    m.sendControl(`clock ${Math.floor(Date.now() / 1000)}`);
    await controlRoundTrip(m, 1);
    assert.match(m.control, /pong 1/);
    const r = await m.run('date +%s');
    assert.ok(Math.abs(Number(r.output) - Date.now() / 1000) < 30, `guest clock ${r.output} vs host ${Date.now() / 1000}`);
  });

  test('the terminal size reaches the shell', { timeout: 60_000 }, async () => {
    m.sendControl('resize 33 101');
    await controlRoundTrip(m, 2);
    const r = await m.run('stty size');
    assert.equal(r.output, '33 101');
  });

  test('warm: with nothing typed, the guest warms a first docker run in eight rounds, once, leaving nothing Docker lists', { timeout: 900_000 }, async () => {
    m.sendControl('warm');
    // No `warm-stop` (the element sends it on the reader's first key): all the rounds run.
    await controlLine(m, /warm done .*\n/, 0, 900);
    assert.match(m.control, /warm done rounds=8 crun=0 docker=0\n/);
    assert.deepEqual(m.control.match(/warm round \d+/g), ['warm round 1', 'warm round 2', 'warm round 3', 'warm round 4', 'warm round 5', 'warm round 6', 'warm round 7', 'warm round 8']);
    // A second request does nothing: the log is not started again.
    m.sendControl('warm');
    await controlRoundTrip(m, 4);
    const r = await m.run(`sleep 1; cat /var/log/dt-warm.log; ${WARM_LEFTOVERS}`);
    const rounds = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => `round ${n}\n`).join('');
    assert.equal(r.output, `${rounds}done rounds=8 crun=0 docker=0\n${NOTHING_LEFT}`);
  });

  test('warm: runs at idle priority, and stops at once when the host says the reader typed', { timeout: 900_000 }, async () => {
    await m.run('rm -r /run/dt-warm'); // (the once-per-start mark: only so that this test can start it again)
    const from = m.control.length;
    m.sendControl('warm');
    await controlLine(m, /warm round 2\n/, from, 600);
    // (procps shows SCHED_IDLE as the class IDL)
    const r = await m.run("ps -eo cls=,args= | grep '[d]t-warm'");
    assert.match(r.output, /^\s*IDL .*dt-warm/, `dt-warm not seen running at idle priority: ${r.output}`);
    // What the element sends on the reader's first key. The round under way is cut short: no later
    // round starts, and the round's container, if it was in one, is gone.
    m.sendControl('warm-stop');
    await controlLine(m, /warm stopped .*\n/, from, 600);
    const seen = m.control.slice(from);
    const last = seen.match(/warm round (\d+)\n/g).pop().match(/\d+/)[0];
    assert.match(seen, new RegExp(`warm round ${last}\nwarm stopped rounds=${last}\n`), seen);
    assert.ok(Number(last) < 8, `all rounds ran before the stop came: ${seen}`);
    const after = await m.run(`sleep 1; tail -n 1 /var/log/dt-warm.log; ${WARM_LEFTOVERS}`);
    assert.equal(after.output, `stopped rounds=${last}\n${NOTHING_LEFT}`);
  });

  test('warm: a stop sent right behind the start leaves at most the first round, cut short', { timeout: 300_000 }, async () => {
    await m.run('rm -r /run/dt-warm /run/dt-warm-stop');
    const from = m.control.length;
    // (the agent reads both lines before the warm-up, at idle priority, gets going: the mark tells it)
    m.sendControl('warm');
    m.sendControl('warm-stop');
    await controlLine(m, /warm stopped .*\n/, from, 300);
    assert.match(m.control.slice(from), /^(warm round 1\n)?warm stopped rounds=[01]\n$/);
    const r = await m.run(`sleep 1; ${WARM_LEFTOVERS}`);
    assert.equal(r.output, NOTHING_LEFT);
  });

  test('docker run --rm busybox echo ok', { timeout: 600_000 }, async () => {
    const r = await m.run('docker run --rm busybox echo ok', 600);
    assert.equal(r.exitCode, 0, r.output);
    assert.equal(r.output, 'ok');
  });

  test('docker run -d, exec, logs and rm -f', { timeout: 600_000 }, async () => {
    let r = await m.run("docker run -d --name web busybox sh -c 'echo started; exec sleep 600'", 600);
    assert.equal(r.exitCode, 0, r.output);
    assert.match(r.output, /^[0-9a-f]{64}$/);
    r = await m.run('docker exec web sh -c "echo exec-ok from \\$(hostname)"', 300);
    assert.equal(r.exitCode, 0, r.output);
    assert.match(r.output, /^exec-ok from [0-9a-f]{12}$/);
    r = await m.run('docker logs web', 120);
    assert.equal(r.output, 'started');
    r = await m.run('docker rm -f web', 300);
    assert.equal(r.exitCode, 0, r.output);
    r = await m.run("docker ps -a --format '{{.Names}}'", 120);
    assert.equal(r.output, '');
  });

  test('the shell starts in ~/work, the host\'s 9p file system, both ways', { timeout: 120_000 }, async () => {
    await m.emulator.create_file('from-host.txt', new TextEncoder().encode('written by the host\n'));
    let r = await m.run('pwd; cat from-host.txt; mount | grep -c " on /root/work type 9p "');
    assert.equal(r.output, '/root/work\nwritten by the host\n1');
    r = await m.run('echo written by the guest > from-guest.txt && sync');
    assert.equal(new TextDecoder().decode(await m.emulator.read_file('from-guest.txt')), 'written by the guest\n');
    await m.run('rm from-host.txt from-guest.txt');
  });

  test('a spare shell on the third serial port, for a terminal that shares the machine', { timeout: 120_000 }, async () => {
    await m.prompt(60);
    for (const port of [2]) {
      let out = '';
      const listen = (byte) => (out += String.fromCharCode(byte));
      m.emulator.add_listener(`serial${port}-output-byte`, listen);
      m.emulator.serial_send_bytes(port, new TextEncoder().encode('\recho on-$(tty)-in-$(pwd)\r'));
      for (let i = 0; i < 300 && !out.includes(`on-/dev/ttyS${port}-in-/root/work`); i++) await new Promise((r) => setTimeout(r, 100));
      m.emulator.remove_listener(`serial${port}-output-byte`, listen);
      assert.match(out, new RegExp(`on-/dev/ttyS${port}-in-/root/work`));
    }
    m.sendControl('resize 20 70 ttyS2');
    await controlRoundTrip(m, 3);
    assert.equal((await m.run('stty -F /dev/ttyS2 size')).output, '20 70');
  });

  test('docker compose and docker buildx are there, and docker build uses BuildKit', { timeout: 300_000 }, async () => {
    const r = await m.run("docker compose version --short; docker buildx version | cut -d' ' -f1,2; docker build --help | grep -c -- --builder", 300);
    assert.equal(r.exitCode, 0, r.output);
    assert.match(r.output, /^2\.\d+\.\d+\S*\ngithub\.com\/docker\/buildx 0\.\d+\.\d+\S*\n[1-9]/);
  });

  test('the preloaded images of the manifest are all there', { timeout: 120_000 }, async () => {
    const r = await m.run("docker images --format '{{.Repository}}'", 120);
    assert.deepEqual(r.output.split('\n').sort(), [...manifest.images].sort());
  });

  test('mark: the host gives the prompt marks a key, and the prompts carry it from then on', { timeout: 120_000 }, async () => {
    const from = m.control.length;
    m.sendControl('mark 0123abcd');
    await controlLine(m, /marked 0123abcd/, from, 10);
    const seen = m.console.length;
    await m.run('true');
    assert.match(m.console.slice(seen), /\x1b\]133;D;0;0123abcd\x07/);
    assert.match(m.console.slice(seen), /\x1b\]133;B;\d+;0123abcd\x07/);
  });

  test('a container without --pids-limit gets 256 processes at most; --pids-limit still sets its own', { timeout: 600_000 }, async () => {
    assert.deepEqual(await m.run('docker run --rm busybox cat /sys/fs/cgroup/pids.max', 600), { exitCode: 0, output: '256' });
    assert.deepEqual(await m.run('docker run --rm --pids-limit 40 busybox cat /sys/fs/cgroup/pids.max', 600), { exitCode: 0, output: '40' });
  });

  test('a fork bomb stays inside its container: after Ctrl-C the daemons still run and docker works', { timeout: 900_000 }, async () => {
    const bomb = m.run("timeout -s KILL 40 docker run --rm --name bomb busybox sh -c 'f(){ f | f & }; f; sleep 30'", 600);
    await new Promise((r) => setTimeout(r, 25_000));
    m.emulator.serial0_send('\x03');
    await bomb.catch(() => undefined);
    await m.run('docker rm -f bomb >/dev/null 2>&1; true', 300);
    const r = await m.run('pgrep -x dockerd >/dev/null && pgrep -x containerd >/dev/null && docker run --rm busybox echo alive', 600);
    assert.deepEqual(r, { exitCode: 0, output: 'alive' });
  });

  test('a disk nearly full is said on the control port, and its end too', { timeout: 900_000 }, async () => {
    const from = m.control.length;
    const fill = await m.run('dd if=/dev/zero of=/var/tmp/fill bs=1M 2>&1 | grep -o "No space left on device"; sync', 900);
    assert.match(fill.output, /No space left on device/);
    await controlLine(m, /disk low \d+/, from, 60);
    assert.ok(Number(/disk low (\d+)/.exec(m.control.slice(from))[1]) < 100);
    await m.run('rm /var/tmp/fill; sync');
    await controlLine(m, /disk ok/, from, 60);
  });

  test('a daemon that dies is started again, and the host hears it on the control port', { timeout: 600_000 }, async () => {
    const from = m.control.length;
    await m.run('kill -9 $(pgrep -x dockerd)');
    await controlLine(m, /daemon down dockerd/, from, 30);
    await controlLine(m, /daemon up dockerd/, from, 300);
    assert.deepEqual(await m.run('docker run --rm busybox echo back', 600), { exitCode: 0, output: 'back' });
  });
});
