// npm run bench [-- --quick | --cold-only | --pulls-only]: what a blog reader feels, measured in headless Chromium
// on the built dist/ served from localhost, beside the figures recorded for QEMU-wasm
// (container2wasm) and CheerpX.
// Prints a table and writes bench/results.json. Never fails on a slow figure, only when something
// it measures does not work.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { serve } from '../scripts/serve.mjs';
import { buildElement, buildGuest, ensureDebianPackages, repo } from '../scripts/setup.mjs';
import { browserPss, launch } from '../scripts/browser.mjs';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';

const quick = process.argv.includes('--quick');
// Only the cold boot, three times: to weigh a change to the guest's start-up in minutes.
const coldOnly = process.argv.includes('--cold-only');
// Only the pulls from a static registry and the preview.
const pullsOnly = process.argv.includes('--pulls-only');
const runs = { start: quick ? 1 : 3, first: quick ? 1 : 3, reading: quick ? 0 : 2, cold: quick ? 0 : coldOnly ? 3 : 2, short: quick ? 2 : 3 };
// Reference figures recorded for QEMU-wasm in a browser, and CheerpX (see the seed's DESIGN notes).
const REF = {
  containerdReady: { qemu: 330, unit: 's' },
  loop10k: { qemu: 17.3, cheerpx: 0.46 },
  catMs: { qemu: 262 },
  dd10mb: { qemu: 4.4 },
};

const results = [];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
function record(name, values, unit, ref = {}) {
  const value = median(values);
  const row = { name, value: round(value), unit, runs: values.length, values: values.map(round) };
  if (ref.qemu !== undefined) Object.assign(row, { qemuWasm: ref.qemu, vsQemuWasm: round(ref.qemu / value) });
  if (ref.cheerpx !== undefined) Object.assign(row, { cheerpx: ref.cheerpx, vsCheerpx: round(ref.cheerpx / value) });
  results.push(row);
  console.log(`  ${name}: ${row.value} ${unit}${values.length > 1 ? ` (median of ${values.length})` : ''}`);
}
const round = (x) => Math.round(x * 1000) / 1000;

async function withSite(fn) {
  const site = fs.mkdtempSync(path.join(os.tmpdir(), 'dt-bench-'));
  fs.symlinkSync(path.join(repo, 'dist'), path.join(site, 'docker-terminal'));
  const page = (attrs) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bench</title>
<script type="module" src="/docker-terminal/docker-terminal.js"></script></head><body><docker-terminal ${attrs}></docker-terminal></body></html>`;
  fs.writeFileSync(path.join(site, 'index.html'), page(''));
  fs.writeFileSync(path.join(site, 'cold.html'), page('memory="384"'));
  // (the registry's address comes in the query: its server starts later)
  fs.writeFileSync(path.join(site, 'pull.html'), page('') + `<script>document.querySelector('docker-terminal').setAttribute('registry', new URLSearchParams(location.search).get('registry'))</script>`);
  const server = await serve({ root: site });
  const browser = await launch();
  try {
    return await fn({ server, browser });
  } finally {
    await browser.close();
    await server.close();
    fs.rmSync(site, { recursive: true, force: true });
  }
}


/**
 * A fresh browser context (empty cache), the page loaded, Start clicked, until ready. `throttle`
 * slows the page's CPU that many times (CDP), a stand-in for a phone-class CPU.
 */
async function startMachine(browser, url, { throttle } = {}) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const cdp = await page.createCDPSession();
  if (throttle) await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
  let bytes = 0;
  cdp.on('Network.loadingFinished', (e) => (bytes += e.encodedDataLength));
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => document.querySelector('docker-terminal')?.shadowRoot?.querySelector('[part=start-button]'));
  const pssBefore = browserPss(browser);
  const seconds = await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const el = document.querySelector('docker-terminal');
        const t0 = performance.now();
        el.addEventListener('docker-terminal-ready', () => resolve((performance.now() - t0) / 1000));
        el.addEventListener('docker-terminal-error', (e) => reject(new Error(`${e.detail.code}: ${e.detail.message}`)));
        el.shadowRoot.querySelector('[part=start-button]').click();
      }),
  );
  const bytesAtReady = bytes;
  return { context, page, seconds, phases: await phases(page), bytes: bytesAtReady, bytesNow: () => bytes, pssBefore, close: () => context.close() };
}

/** The start's phases: the User Timing measures the element makes (src/engines/v86/engine.ts, machine.ts). */
const PHASES = ['download', 'unpack state', 'restore', 'first prompt'];
const phases = (page) => page.evaluate((names) => Object.fromEntries(names.map((n) => [n, (performance.getEntriesByName(`docker-terminal ${n}`, 'measure').at(-1)?.duration ?? NaN) / 1000])), PHASES);

/** Minor page faults of the whole browser so far (a first touch of memory is one). */
function pageFaults(browser) {
  let n = 0;
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
      if (/chrom/.test(fs.readFileSync(`/proc/${pid}/comm`, 'utf8'))) n += Number(stat[7]);
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

/**
 * A first `docker run` at once after ready, with where its time went: what the guest's disk reads
 * waited for (chunks not there yet), the chunk files fetched, and the browser's minor page faults.
 * (The disk's stats are the engine's, reached through the element's internals: bench only.)
 */
async function firstRun(browser, page) {
  const disk = () => page.evaluate(() => ({ ...document.querySelector('docker-terminal').machine.machine.engine.diskStats }));
  const [d0, f0] = [await disk(), pageFaults(browser)];
  const run = await timed(page, 'docker run --rm busybox echo hi');
  const [d1, f1] = [await disk(), pageFaults(browser)];
  return { ...run, diskWait: (d1.waitedMs - d0.waitedMs) / 1000, chunks: d1.fetched - d0.fetched, faults: (f1 - f0) / 1000 };
}

/** Records the start's phases and a first run's breakdown, under `suffix`. */
function recordBreakdown(starts, firsts, suffix = '') {
  for (const name of PHASES) record(`start: ${name}${suffix}`, starts.map((p) => p[name]), 's');
  record(`first docker run: waiting for disk chunks${suffix}`, firsts.map((f) => f.diskWait), 's');
  record(`first docker run: chunk files fetched${suffix}`, firsts.map((f) => f.chunks), 'files');
  record(`first docker run: minor page faults, browser${suffix}`, firsts.map((f) => f.faults), 'thousand');
}

/** Runs a command in the element's shell; returns wall seconds, checks the exit code. */
async function timed(page, command) {
  const r = await page.evaluate(async (c) => {
    const t0 = performance.now();
    const result = await document.querySelector('docker-terminal').run(c);
    return { ...result, seconds: (performance.now() - t0) / 1000 };
  }, command);
  if (r.exitCode !== 0) throw new Error(`\`${command}\` failed with exit code ${r.exitCode}:\n${r.output}`);
  return r;
}

function sizes() {
  const files = [path.join(repo, 'dist/docker-terminal.js'), ...fs.readdirSync(path.join(repo, 'dist/chunks')).filter((f) => f.endsWith('.js')).map((f) => path.join(repo, 'dist/chunks', f))];
  for (const f of files) {
    const gz = zlib.gzipSync(fs.readFileSync(f), { level: 9 }).length;
    const name = path.relative(path.join(repo, 'dist'), f).replace(/^(chunks\/.+)-[A-Za-z0-9_-]{8}\.js$/, '$1.js');
    record(`size (gzip) ${name}`, [gz / 1024], 'KiB');
  }
  const wasm = zlib.gzipSync(fs.readFileSync(path.join(repo, 'dist/v86.wasm')), { level: 9 }).length;
  record('size (gzip) v86.wasm', [wasm / 1024], 'KiB');
}

const LOOP = 'i=0; while [ $i -lt 10000 ]; do i=$((i+1)); done';
const CATS = 'echo x > /tmp/f; i=0; while [ $i -lt 1000 ]; do cat /tmp/f >/dev/null; i=$((i+1)); done';
const DD = 'dd if=/dev/zero of=/tmp/x bs=1M count=10 2>/dev/null; rm /tmp/x';
// Inside a container the work is timed by busybox's `time` there, so docker's own start-up is not counted.
const SCRIPTS = { loop: LOOP, cats: CATS, dd: DD };
const inContainer = (name) => `docker run --rm --network none -v /tmp/bench-${name}.sh:/bench.sh busybox sh -c 'time sh /bench.sh' 2>&1 | grep real`;
const realSeconds = (output) => {
  const m = /real\s+(\d+)m\s*([\d.]+)s/.exec(output);
  if (!m) throw new Error(`no time in ${JSON.stringify(output)}`);
  return Number(m[1]) * 60 + Number(m[2]);
};

async function main() {
  ensureDebianPackages({ '/usr/bin/chromium': 'chromium' });
  buildElement();
  buildGuest();
  const manifest = JSON.parse(fs.readFileSync(path.join(repo, 'dist/guest/manifest.json'), 'utf8'));
  console.log(`bench ${quick ? '(quick) ' : coldOnly ? '(cold boot only) ' : ''}on ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.cpus()[0].model}`);
  const started = Date.now();

  await withSite(async ({ server, browser }) => {
    if (!coldOnly && !pullsOnly) await savedState({ server, browser });
    if (!coldOnly && !pullsOnly) await phoneClass({ server, browser });
    if (!coldOnly) await pulls({ server, browser });
    if (runs.cold && !pullsOnly) {
      console.log(`cold boot (memory=384 differs from the state's ${manifest.memory} MiB):`);
      const colds = [];
      for (let i = 0; i < runs.cold; i++) {
        const m = await startMachine(browser, `${server.url}cold.html`);
        colds.push(m);
        await m.close();
      }
      record('time to ready, cold boot', colds.map((c) => c.seconds), 's', REF.containerdReady);
      record('downloaded before ready, cold boot', colds.map((c) => c.bytes / 1e6), 'MB');
    }
  });
  // ms per cat: the loop time divided by 1000 cats, in ms, is numerically the loop's seconds.
  console.log('sizes:');
  sizes();

  const out = { date: new Date().toISOString(), quick, coldOnly, pullsOnly, machine: { cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), cpu: os.cpus()[0].model }, seconds: (Date.now() - started) / 1000, results };
  fs.writeFileSync(path.join(repo, 'bench/results.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(`\n${table(results)}\n\nwritten to bench/results.json (${out.seconds.toFixed(0)} s)`);
}

/** From the saved state: start-up, the first and next `docker run`, build, micro-benchmarks. */
async function savedState({ server, browser }) {
  // A reader who reads the page for a minute first: the guest's warm-up has run all its rounds.
  const afterMinute = [];
  if (runs.reading) console.log('a first docker run typed a minute after ready (fresh browser context each run):');
  for (let i = 0; i < runs.reading; i++) {
    const m = await startMachine(browser, server.url);
    await new Promise((r) => setTimeout(r, 60_000));
    afterMinute.push((await timed(m.page, 'docker run --rm busybox echo hi')).seconds);
    await m.close();
  }
  console.log('start from the saved state (fresh browser context each run):');
  const starts = [];
  const afterReading = [];
  let machine;
  for (let i = 0; i < runs.start; i++) {
    if (machine) {
      // A reader who reads for a while before typing: the prefetch and the warm-up have had 20 s.
      await new Promise((r) => setTimeout(r, 20_000));
      afterReading.push((await timed(machine.page, 'docker run --rm busybox echo hi')).seconds);
      await machine.close();
    }
    machine = await startMachine(browser, server.url);
    starts.push(machine);
  }
  record('time to ready, saved state', starts.map((s) => s.seconds), 's', REF.containerdReady);
  record('downloaded before ready, saved state', starts.map((s) => s.bytes / 1e6), 'MB');

  console.log('docker, after ready:');
  // At once after ready, as a reader who pastes the command: the background prefetch of the
  // chunks it reads is only starting. A first run is one sample per machine: more machines.
  const firsts = [];
  const firstBytes = [];
  const memory = [];
  const breakdowns = [];
  for (let i = 0; i < runs.first; i++) {
    if (i > 0) {
      await machine.close();
      machine = await startMachine(browser, server.url);
      starts.push(machine);
    }
    const first = await firstRun(browser, machine.page);
    if (first.output !== 'hi') throw new Error(`docker run printed ${JSON.stringify(first.output)}`);
    firsts.push(first.seconds);
    breakdowns.push(first);
    firstBytes.push(machine.bytesNow() / 1e6);
    memory.push(browserPss(browser) - machine.pssBefore);
  }
  record('docker run --rm busybox echo hi, first after ready', firsts, 's');
  record('downloaded by the end of that first run', firstBytes, 'MB');
  record('memory per terminal (Chromium PSS, after ready and a docker run)', memory, 'MB');
  recordBreakdown(starts.map((s) => s.phases), breakdowns);
  const { page } = machine;
  const next = [];
  for (let i = 0; i < runs.short; i++) next.push((await timed(page, 'docker run --rm busybox echo hi')).seconds);
  if (afterReading.length) record('docker run --rm busybox echo hi, first, 20 s after ready', afterReading, 's');
  if (afterMinute.length) record('docker run --rm busybox echo hi, first, 60 s after ready', afterMinute, 's');
  record('docker run --rm busybox echo hi, next', next, 's');
  const detached = [];
  for (let i = 0; i < (quick ? 1 : runs.short); i++) {
    const d = await timed(page, `docker run -d --name d${i} busybox sleep 600`);
    const e = await timed(page, `docker exec d${i} echo exec-ok`);
    await timed(page, `docker rm -f d${i}`);
    detached.push(d.seconds + e.seconds);
  }
  record('docker run -d + docker exec', detached, 's');
  if (!quick) {
    await timed(page, "mkdir -p /tmp/b && printf 'FROM busybox\\nRUN echo built > /built\\nCMD cat /built\\n' > /tmp/b/Dockerfile");
    const builds = [];
    for (let i = 0; i < runs.short; i++) builds.push((await timed(page, `docker build --no-cache -q -t bench${i} /tmp/b`)).seconds);
    record('docker build (FROM busybox, RUN, CMD)', builds, 's');
  }

  console.log('micro-benchmarks in the guest shell:');
  // 1,000 cats in s seconds is s ms per cat, so the per-cat figures need no conversion.
  const micro = async (label, cmd, ref, measure) => {
    const xs = [];
    for (let i = 0; i < runs.short; i++) xs.push(measure(await timed(page, cmd)));
    record(label, xs, label.includes('per cat') ? 'ms' : 's', ref);
  };
  const baseline = median([await timed(page, 'true'), await timed(page, 'true'), await timed(page, 'true')].map((r) => r.seconds));
  const wall = (r) => r.seconds - baseline;
  await micro('shell: 10,000-iteration loop', LOOP, REF.loop10k, wall);
  await micro('shell: 1,000 × cat, per cat', CATS, REF.catMs, wall);
  await micro('shell: dd 10 MB to tmpfs', DD, REF.dd10mb, wall);
  if (!quick) {
    console.log('micro-benchmarks inside a container (timed inside it):');
    for (const [name, script] of Object.entries(SCRIPTS)) await timed(page, `printf '%s\\n' '${script}' > /tmp/bench-${name}.sh`);
    const inside = (r) => realSeconds(r.output);
    await micro('container: 10,000-iteration loop', inContainer('loop'), REF.loop10k, inside);
    await micro('container: 1,000 × cat, per cat', inContainer('cats'), REF.catMs, inside);
    await micro('container: dd 10 MB to /tmp (overlay2)', inContainer('dd'), REF.dd10mb, inside);
  }
  await machine.close();
}

/**
 * The same start and first run with the page's CPU throttled 4× through CDP: a stand-in for a
 * phone-class CPU (it slows the page's main thread, where v86 runs; not the network or the disk).
 */
async function phoneClass({ server, browser }) {
  console.log('phone-class stand-in: the CPU throttled 4× (CDP):');
  const m = await startMachine(browser, server.url, { throttle: 4 });
  record('time to ready, saved state, CPU throttled 4×', [m.seconds], 's');
  const first = await firstRun(browser, m.page);
  record('docker run --rm busybox echo hi, first after ready, CPU throttled 4×', [first.seconds], 's');
  record('memory per terminal, CPU throttled 4×', [browserPss(browser) - m.pssBefore], 'MB');
  recordBreakdown([m.phases], [first], ', CPU throttled 4×');
  await m.close();
}

/**
 * docker pull from a static registry on another origin (written by `images add`, served by a plain
 * static server on loopback): a small image and a larger one, incompressible so the pull moves
 * its size. Then the preview's first paint of a server in the machine.
 */
async function pulls({ server, browser }) {
  const { busyboxFiles, makeImageArchive } = await import('../test/images/archive.mjs');
  const { startStaticServer } = await import('../test/support/net-parts.mjs');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dt-bench-pull-'));
  const busybox = await busyboxFiles();
  const image = (name, mb) => makeImageArchive({ out: path.join(work, `${name}.tar`), format: 'docker-save', images: [{ name, tag: '1', files: { ...busybox, 'www/index.html': '<!doctype html><link rel="stylesheet" href="s.css"><h1>bench</h1>', 'www/s.css': 'h1{color:red}', 'data.bin': crypto.randomBytes(mb * 1024 * 1024) }, cmd: ['sh'] }] });
  await image('small', 2);
  await image('large', 48);
  const out = path.join(work, 'registry');
  execFileSync(process.execPath, [path.join(repo, 'bin/docker-terminal.mjs'), 'images', 'add', path.join(work, 'small.tar'), path.join(work, 'large.tar'), '--out', out], { stdio: 'ignore' });
  const sizeOf = (name) => JSON.parse(fs.readFileSync(path.join(out, 'docker-terminal-registry.json'), 'utf8')).images.find((i) => i.name === `library/${name}`).size / 1e6;
  const host = await startStaticServer(out);
  const site = new URL(server.url);
  try {
    console.log('docker pull from a static registry (another origin, loopback):');
    const m = await startMachine(browser, `${site.origin}/pull.html?registry=${encodeURIComponent(host.url)}`);
    for (const name of ['small', 'large']) {
      const r = await timed(m.page, `docker pull -q ${name}:1 >/dev/null`);
      record(`docker pull ${name} (${sizeOf(name).toFixed(1)} MB) from the static registry`, [r.seconds], 's');
      record(`docker pull ${name} from the static registry, rate`, [sizeOf(name) / r.seconds], 'MB/s');
    }
    await timed(m.page, 'docker run -d -p 8080:80 small:1 httpd -f -p 80 -h /www >/dev/null');
    const paint = await m.page.evaluate(async () => {
      const p = document.createElement('docker-terminal-preview');
      p.setAttribute('port', '8080');
      const t0 = performance.now();
      const loaded = new Promise((resolve, reject) => {
        p.addEventListener('docker-terminal-preview-load', resolve, { once: true });
        p.addEventListener('docker-terminal-preview-error', (e) => reject(new Error(e.detail.message)), { once: true });
      });
      document.body.append(p);
      await loaded;
      return (performance.now() - t0) / 1000;
    });
    record('preview first paint (a page with a stylesheet)', [paint], 's');
    await m.close();
  } finally {
    await host.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function table(rows) {
  const head = ['figure', 'value', 'runs', 'QEMU-wasm', '× faster', 'CheerpX', '× faster'];
  const body = rows.map((r) => [r.name, `${r.value} ${r.unit}`, String(r.runs), r.qemuWasm !== undefined ? `${r.qemuWasm} ${r.unit}` : '', r.vsQemuWasm !== undefined ? String(r.vsQemuWasm) : '', r.cheerpx !== undefined ? `${r.cheerpx} ${r.unit}` : '', r.vsCheerpx !== undefined ? String(r.vsCheerpx) : '']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

main().catch((e) => {
  console.error(`bench failed: ${e.stack ?? e}`);
  process.exit(1);
});
