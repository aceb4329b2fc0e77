// The qemu engine in real Chromium on a cross-origin isolated page, against a STAND-IN for a
// container2wasm QEMU-wasm bundle (test/qemu/standin: a small Emscripten program built with
// Debian's emscripten, laid out like `c2w --to-js` output, NOT QEMU). The stand-in reports what it
// got: Module.arguments, /pack/info, the files under /pack, one pthread per core; and it answers
// through the xterm-pty slave. The bundle is served under /__qemu/<variant>/, not beside the page.
import { expect, waitUntil } from '@open-wc/testing';
import { QemuEngine } from '../../dist/esm/engines/qemu/engine.js';
import { validateManifest } from '../../dist/esm/boot/manifest.js';
import { restores } from '../../dist/esm/element/settings.js';

const bundleUrl = (variant) => new URL(`/__qemu/${variant}/`, location.href);
const requests = async () => (await fetch('/__qemu-requests', { cache: 'no-store' })).json();

/** An engine on a stand-in bundle, with what it printed and reported collected. */
async function engineOn(variant, { cores = 2, memory = 1024, containerdTimeout = 600, image } = {}) {
  const bundle = bundleUrl(variant);
  const manifest = validateManifest(await (await fetch(new URL('manifest.json', bundle))).json());
  const seen = { console: '', notices: [], errors: [], downloads: [] };
  const abort = new AbortController();
  const engine = new QemuEngine({
    bundle,
    manifest,
    assets: new URL('/dist/', location.href),
    cores,
    memory,
    // (decided as the element's settings decide it)
    restore: restores(manifest, memory, cores),
    containerdTimeout,
    image,
    signal: abort.signal,
    onDownload: (loaded, total) => seen.downloads.push([loaded, total]),
    onConsole: (text) => (seen.console += text),
    onError: (e) => seen.errors.push(e),
    onNotice: (text) => seen.notices.push(text),
  });
  return { engine, seen, abort, manifest };
}

let running;

const lines = (text, prefix) =>
  text
    .replace(/\r/g, '')
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length));

async function bootedStandin(options, variant = 'standin') {
  const m = await engineOn(variant, options);
  // Stopped by afterEach even when start() fails, so the next test gets the page's machine.
  running = m;
  await m.engine.start();
  await waitUntil(() => /stand-in \$ /.test(m.seen.console), 'the stand-in shows its prompt', { timeout: 30_000 });
  return m;
}

afterEach(async () => {
  await running?.engine.stop();
  running = undefined;
});

describe('qemu engine on the stand-in bundle (cross-origin isolated page)', () => {
  it('runs on a cross-origin isolated page', () => {
    expect(globalThis.crossOriginIsolated).to.equal(true);
    expect(typeof SharedArrayBuffer).to.equal('function');
  });

  it('restores the snapshot when cores and memory match the bundle: arguments as the bundle has them', async () => {
    running = await bootedStandin({ cores: 2, memory: 1024 });
    const { engine, seen } = running;
    const args = lines(seen.console, 'STANDIN:ARG ');
    const bundleArgs = JSON.parse((await (await fetch(new URL('arg-module.js', bundleUrl('standin')))).text()).replace(/^[^=]*=/, '').replace(/;\s*$/, ''));
    expect(args).to.deep.equal(bundleArgs);
    expect(engine.plan.fromSnapshot).to.equal(true);
    expect(lines(seen.console, 'STANDIN:FILE ')).to.include('snapshot /pack/vm.state 27');
    expect(seen.notices).to.deep.equal([]);
    expect(seen.errors).to.deep.equal([]);
  });

  it('cold-boots with other memory: drops -incoming, sets -m, and tells the reader it takes minutes', async () => {
    running = await bootedStandin({ cores: 2, memory: 512 });
    const { seen } = running;
    const args = lines(seen.console, 'STANDIN:ARG ');
    expect(args).to.not.include('-incoming');
    expect(args).to.not.include('file:/pack/vm.state');
    expect(args[args.indexOf('-m') + 1]).to.equal('512M');
    expect(lines(seen.console, 'STANDIN:FILE ').some((l) => l.startsWith('snapshot'))).to.equal(false);
    expect(seen.notices).to.have.length(1);
    expect(seen.notices[0]).to.match(/1024 MiB.*512 MiB.*boots from scratch.*minutes/);
    // The same notice reaches the boot log.
    expect(seen.console).to.contain('boots from scratch');
  });

  it('gives -smp N,sockets=N with multi-threaded TCG, and each core runs on its own pthread worker', async () => {
    running = await bootedStandin({ cores: 3, memory: 1024 });
    const { seen } = running;
    const args = lines(seen.console, 'STANDIN:ARG ');
    expect(args[args.indexOf('-smp') + 1]).to.equal('3,sockets=3');
    expect(args[args.indexOf('-accel') + 1]).to.equal('tcg,tb-size=500,thread=multi');
    expect(args).to.not.include('-incoming');
    await waitUntil(() => lines(seen.console, 'STANDIN:CPU ').length === 3, 'three cores online');
    expect(lines(seen.console, 'STANDIN:CPU ').sort()).to.deep.equal(['0 online', '1 online', '2 online']);
  });

  it('writes /pack/info before QEMU starts: date, containerd timeout, and the image', async () => {
    const before = Math.floor(Date.now() / 1000);
    running = await bootedStandin({ containerdTimeout: 42, image: 'busybox' });
    const info = lines(running.seen.console, 'STANDIN:INFO ');
    expect(info).to.have.length(3);
    const t = Number(info[0].replace(/^t:/, ''));
    expect(info[0]).to.match(/^t:\d+$/);
    expect(t).to.be.within(before, before + 30);
    expect(info.slice(1)).to.deep.equal(['env:DT_CONTAINERD_TIMEOUT=42', 'c:busybox']);
    expect(running.engine.packInfo).to.equal(`${info.join('\n')}\n`);
    expect(running.seen.console).to.contain('DT:STAGE containerd starting timeout=42s');
  });

  it('reports the download of the wasm and the data file, and the files under /pack come from load.js', async () => {
    running = await bootedStandin();
    const { seen, manifest } = running;
    const total = manifest.files.wasm.size + manifest.files.data.size;
    expect(seen.downloads.length).to.be.greaterThan(0);
    expect(seen.downloads.at(-1)).to.deep.equal([total, total]);
    expect(lines(seen.console, 'STANDIN:FILE ')).to.include('kernel /pack/bzImage 16');
  });

  it('loads every file from the bundle path, not the page path: locateFile and mainScriptUrlOrBlob', async () => {
    // A folder of its own, deeper than the page's, so nothing comes from the browser's cache.
    const since = Date.now();
    const bundle = `/__qemu/standin/run-${since}/deeper/`;
    running = await bootedStandin({}, bundle.slice('/__qemu/'.length, -1));
    await waitUntil(() => lines(running.seen.console, 'STANDIN:CPU ').length === 2);
    const paths = (await requests()).map((r) => r.path).filter((p) => p.startsWith(bundle));
    // load.js found the data file through locateFile, and the engine handed it over (no second fetch).
    expect(paths.filter((p) => p.endsWith('.data'))).to.deep.equal([`${bundle}qemu-system-x86_64.data`]);
    // pthread workers: the worker script through locateFile, then out.js through mainScriptUrlOrBlob
    // (the name baked into the worker, qemu-system-x86_64.js, does not exist in a c2w bundle).
    expect(paths).to.include(`${bundle}qemu-system-x86_64.worker.js`);
    // (The worker's request for out.js comes from the browser's cache; the cores coming online above
    // show it loaded, and contract.test.js shows what happens without mainScriptUrlOrBlob.)
    expect(paths).to.include(`${bundle}out.js`);
    expect(paths.filter((p) => p.endsWith('qemu-system-x86_64.js'))).to.deep.equal([]);
    const all = (await requests()).filter((r) => r.at >= since).map((r) => r.path);
    expect(all.filter((p) => !p.startsWith('/__qemu/'))).to.deep.equal([]);
    const atPage = performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname).filter((p) => /^\/(?:out\.js|load\.js|arg-module\.js|qemu-system)/.test(p));
    expect(atPage).to.deep.equal([]);
  });

  it('talks through the pty: typed keys are echoed and answered, resize reaches the pty', async () => {
    running = await bootedStandin();
    const { engine, seen } = running;
    const mark = seen.console.length;
    engine.send('echo hello from the page\r');
    await waitUntil(() => /\nhello from the page\r?\n/.test(seen.console.slice(mark)), 'the stand-in answers');
    expect(seen.console.slice(mark)).to.contain('echo hello from the page'); // echoed by the pty
    engine.resize(33, 101);
    const mark2 = seen.console.length;
    engine.send('size\r');
    await waitUntil(() => /\n33 101\r?\n/.test(seen.console.slice(mark2)), 'the stand-in sees the new size');
  });

  it('lets a page run one QEMU machine: a second engine fails with engine-in-use until the first stops', async () => {
    running = await bootedStandin();
    const second = await engineOn('standin');
    let error;
    await second.engine.start().catch((e) => (error = e));
    expect(error?.code).to.equal('engine-in-use');
    expect(error.message).to.match(/one at a time.*stop/);
    await second.engine.stop();
    // The first still runs after the second gave up.
    const mark = running.seen.console.length;
    running.engine.send('echo still here\r');
    await waitUntil(() => /\nstill here\r?\n/.test(running.seen.console.slice(mark)));
    await running.engine.stop();
    expect('Module' in globalThis).to.equal(false);
    // The element makes a new engine for each start (Retry); so does this test.
    running = await bootedStandin();
    expect(running.seen.errors).to.deep.equal([]);
  });

  it('stop() ends the pthread workers', async () => {
    running = await bootedStandin({ cores: 2 });
    await waitUntil(() => lines(running.seen.console, 'STANDIN:CPU ').length === 2);
    const mark = running.seen.console.length;
    await running.engine.stop();
    running.engine.send('echo after stop\r');
    await new Promise((r) => setTimeout(r, 500));
    expect(running.seen.console.slice(mark)).to.not.contain('after stop');
  });

  it('an abort during start-up (the element removed) ends it and frees the page for another machine', async () => {
    // At once, before anything is downloaded.
    const first = await engineOn('standin');
    running = first;
    const started = first.engine.start();
    first.abort.abort(new Error('removed at once'));
    expect((await started.catch((e) => e))?.message).to.equal('removed at once');
    await first.engine.stop();
    expect('Module' in globalThis).to.equal(false);

    // Later: just as load.js is added to the page (Module is set up by then).
    const second = await engineOn('standin');
    running = second;
    const append = document.head.append;
    document.head.append = function (...nodes) {
      if (nodes.some((n) => n.src?.endsWith('/load.js'))) second.abort.abort(new Error('removed while loading'));
      return append.apply(this, nodes);
    };
    let error;
    try {
      error = await second.engine.start().catch((e) => e);
    } finally {
      document.head.append = append;
    }
    expect(error?.message).to.equal('removed while loading');
    expect('Module' in globalThis).to.equal(true);
    await second.engine.stop();
    expect('Module' in globalThis).to.equal(false);

    running = await bootedStandin();
    expect(running.seen.errors).to.deep.equal([]);
  });

  it('says what is wrong with a bundle that lacks files or has a bad arg-module.js', async () => {
    const missing = await engineOn('missing-files');
    const e1 = await missing.engine.start().catch((e) => e);
    await missing.engine.stop();
    expect(e1.code).to.equal('manifest-invalid');
    expect(e1.message).to.match(/files\.module, files\.loader, files\.arguments.*guest\/c2w\/manifest\.mjs/);

    const badArgs = await engineOn('bad-arguments');
    const e2 = await badArgs.engine.start().catch((e) => e);
    await badArgs.engine.stop();
    expect(e2.code).to.equal('bundle-invalid');
    expect(e2.message).to.match(/arg-module\.js.*Module\['arguments'\]/);

    const noLoader = await engineOn('missing-loader');
    const e3 = await noLoader.engine.start().catch((e) => e);
    await noLoader.engine.stop();
    expect(e3.code).to.equal('download-failed');
    expect(e3.message).to.match(/no-such-load\.js.*load\.js/);
    expect('Module' in globalThis).to.equal(false);
  });
});
