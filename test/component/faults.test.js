// The fault suite: the bundle served by the FAULT SERVER (a fake: test/component/bundle-variants.mjs,
// variant "faults"), which makes chosen files go wrong: 404, 500, a stall, a reset, a truncated
// body, garbage, one byte changed. The emulator and the guest stay real. Before ready each fault
// hits the saved state; after ready, a disk chunk. For each: what the reader sees (an error or a
// notice that says what failed), Retry or the recovery once the fault is gone, and no run() left
// pending.
import { fixture, html, expect, oneEvent, waitUntil } from '@open-wc/testing';
import '../../dist/docker-terminal.js';

const src = '/__bundle/faults/';
const part = (el, name) => el.shadowRoot.querySelector(`[part="${name}"]`);
const text = (el) => el.shadowRoot.textContent.replace(/\s+/g, ' ');
const setFaults = (rules) => fetch(`/__faults?set=${encodeURIComponent(JSON.stringify(rules))}`).then((r) => r.json());
const requests = async () => (await fetch('/__requests')).json();
const manifest = async () => (await fetch(`${src}manifest.json`)).json();

afterEach(() => setFaults([]));

/** Starts a terminal on the fault server; resolves once it is ready or shows an error. */
async function start() {
  const el = await fixture(html`<docker-terminal src=${src}></docker-terminal>`);
  const settled = Promise.race([oneEvent(el, 'docker-terminal-ready'), oneEvent(el, 'docker-terminal-error')]);
  part(el, 'start-button').click();
  await settled;
  await el.updateComplete;
  return el;
}

describe('faults before ready: the saved state', () => {
  for (const [fault, code, message] of [
    ['404', 'download-failed', /state\.bin\.zst\.0 failed \(HTTP 404\): the server does not have it/],
    ['500', 'download-failed', /state\.bin\.zst\.0 failed \(HTTP 500\)\. Check your connection/],
    ['garbage', 'file-corrupt', /state\.bin\.zst\.0 is not the file this bundle's manifest describes/],
    ['flip', 'file-corrupt', /state\.bin\.zst\.0 is not the file this bundle's manifest describes/],
  ]) {
    it(`${fault}: an error that names the file, with Retry, which works once the fault is gone`, async () => {
      // (a 404 that the browser may cache for an hour, as CDNs send it: Retry must go past it)
      await setFaults([{ file: '^state\\.bin\\.zst\\.0$', fault, cacheable: fault === '404' }]);
      const el = await start();
      expect(el.state).to.equal('error');
      expect(text(el)).to.match(message);
      const retry = part(el, 'retry-button');
      expect(retry).to.exist;
      await expect(el).to.be.accessible();
      await setFaults([]);
      const ready = oneEvent(el, 'docker-terminal-ready');
      retry.click();
      await ready;
      expect(await el.run('echo recovered')).to.deep.equal({ exitCode: 0, output: 'recovered' });
      expect(code).to.be.a('string');
      await el.stop();
    });
  }

  for (const fault of ['reset', 'truncate', 'stall']) {
    it(`${fault}: the download resumes where it broke off, and the machine starts`, async () => {
      const earlier = (await requests()).length; // the log spans the whole run: only this test's requests
      await setFaults([{ file: '^state\\.bin\\.zst\\.0$', fault, times: 1 }]);
      const el = await start();
      expect(el.state, text(el)).to.equal('ready');
      const part0 = (await requests()).slice(earlier).filter((r) => r.variant === 'faults' && r.file === 'state.bin.zst.0');
      expect(part0[0].fault).to.equal(fault);
      expect(part0.slice(1).some((r) => /^bytes=[1-9]\d*-$/.test(r.range ?? '')), JSON.stringify(part0)).to.equal(true);
      await el.stop();
    });
  }
});

describe('faults after ready: a disk chunk', () => {
  /** The first chunk the element fetches ahead after ready: read only then. */
  const firstAhead = async () => {
    const { files } = await manifest();
    const c = files.disk.prefetch.firstCommands[0];
    return `disk-${c * files.disk.chunkSize}-${(c + 1) * files.disk.chunkSize}\\.img\\.zst$`;
  };

  for (const fault of ['404', '500', 'garbage', 'flip', 'reset', 'truncate', 'stall']) {
    it(`${fault}: a notice that names the chunk, with Restart machine; it comes in once the fault is gone, and run() works`, async () => {
      const chunk = await firstAhead();
      await setFaults([{ file: chunk, fault, cacheable: fault === '404' }]);
      const el = await start();
      expect(el.state).to.equal('ready');
      const e = await oneEvent(el, 'docker-terminal-error');
      expect(e.detail.code).to.equal('download-failed');
      expect(e.detail.message).to.match(new RegExp(`disk/${chunk.replace('$', '')}`.replace(/\\\\/g, '\\')));
      await el.updateComplete;
      expect(part(el, 'notice').textContent).to.match(/could not be downloaded.*Trying again/s);
      expect(part(el, 'restart-button')).to.exist;
      await setFaults([]);
      await waitUntil(() => !part(el, 'notice'), 'the notice goes once the chunk came in', { timeout: 90_000 });
      expect(await el.run('docker run --rm busybox echo ok')).to.deep.equal({ exitCode: 0, output: 'ok' });
      await el.stop();
    });
  }

  it('a chunk that cannot come: the command that reads it gets an I/O error, run() resolves, and Restart machine gives a fresh machine', async () => {
    const el = await start();
    // The disk's last chunk, free space that nothing reads: a direct read of its first block.
    const { files } = await manifest();
    const c = files.disk.chunks - 1;
    const block = (c * files.disk.chunkSize) / 4096;
    await setFaults([{ file: `disk-${c * files.disk.chunkSize}-`, fault: '404' }]);
    const r = await el.run(`dd if=/dev/sda of=/dev/null bs=4096 skip=${block} count=1 iflag=direct 2>&1; echo "rc=$?"`);
    expect(r.output).to.match(/Input\/output error[\s\S]*rc=1/);
    expect(part(el, 'notice').textContent).to.match(/gets a read error/);
    await setFaults([]);
    const ready = oneEvent(el, 'docker-terminal-ready');
    part(el, 'restart-button').click();
    await ready;
    expect(await el.run('echo fresh')).to.deep.equal({ exitCode: 0, output: 'fresh' });
    await el.stop();
  });
});

describe('several terminals on one page', () => {
  const firstAhead = async () => {
    const { files } = await manifest();
    const c = files.disk.prefetch.firstCommands[0];
    return `disk-${c * files.disk.chunkSize}-${(c + 1) * files.disk.chunkSize}\\.img\\.zst$`;
  };
  const startAll = (terminals) =>
    Promise.all(
      terminals.map((t) => {
        const ready = oneEvent(t, 'docker-terminal-ready');
        part(t, 'start-button').click();
        return ready;
      }),
    );

  it('two machines: a failing chunk shows the notice on each, both recover once it comes, and each runs docker', async () => {
    await setFaults([{ file: await firstAhead(), fault: '500' }]);
    const wrapper = await fixture(html`<div>
      <docker-terminal id="one" src=${src}></docker-terminal>
      <docker-terminal id="two" src=${src}></docker-terminal>
    </div>`);
    const terminals = [...wrapper.querySelectorAll('docker-terminal')];
    await startAll(terminals);
    for (const t of terminals) await waitUntil(() => /could not be downloaded/.test(part(t, 'notice')?.textContent ?? ''), `the notice on #${t.id}`, { timeout: 60_000 });
    await setFaults([]);
    for (const t of terminals) await waitUntil(() => !part(t, 'notice'), `the notice on #${t.id} goes`, { timeout: 90_000 });
    const results = await Promise.all(terminals.map((t) => t.run(`docker run --rm busybox echo in-${t.id}`)));
    expect(results).to.deep.equal([{ exitCode: 0, output: 'in-one' }, { exitCode: 0, output: 'in-two' }]);
    for (const t of terminals) await t.stop();
  });

  it('share: the shared machine\'s notice shows in the sharing terminal too, and its Restart machine restarts the machine for both', async () => {
    await setFaults([{ file: await firstAhead(), fault: '404' }]);
    const wrapper = await fixture(html`<div>
      <docker-terminal id="host" src=${src}></docker-terminal>
      <docker-terminal id="guest" share="host"></docker-terminal>
    </div>`);
    const [a, b] = wrapper.querySelectorAll('docker-terminal');
    await startAll([b]);
    expect(a.state).to.equal('ready');
    await waitUntil(() => /could not be downloaded/.test(part(a, 'notice')?.textContent ?? ''), 'the notice on the machine\'s own terminal', { timeout: 60_000 });
    await waitUntil(() => part(b, 'notice'), 'the notice on the sharing terminal', { timeout: 10_000 });
    expect(part(b, 'notice').textContent).to.match(/On the machine of "host": .*could not be downloaded/s);
    await expect(b).to.be.accessible();
    await a.run('echo before-restart > kept-by-page.txt');
    await setFaults([]);
    // Restart machine, pressed in the sharing terminal: a fresh machine, and both terminals on it.
    const fresh = oneEvent(a, 'docker-terminal-ready');
    part(b, 'restart-button').click();
    await fresh;
    await waitUntil(() => b.state === 'ready', 'the sharing terminal is back', { timeout: 60_000 });
    expect(part(a, 'notice')).to.equal(null);
    expect(part(b, 'notice')).to.equal(null);
    expect((await b.run('test -e kept-by-page.txt; echo $?; tty')).output).to.equal('1\n/dev/ttyS2');
    expect(await a.run('docker run --rm busybox echo fresh')).to.deep.equal({ exitCode: 0, output: 'fresh' });
    // Restart machine in the machine's own terminal: the sharing terminal takes a shell on the fresh one.
    const exit = oneEvent(b, 'docker-terminal-exit');
    const again = oneEvent(a, 'docker-terminal-ready');
    await a.restart();
    await again;
    expect((await exit).detail.reason).to.equal('restart');
    await waitUntil(() => b.state === 'ready', 'the sharing terminal rejoined', { timeout: 60_000 });
    expect((await b.run('echo rejoined')).output).to.equal('rejoined');
    await a.stop();
    await waitUntil(() => b.state === 'stopped', 'stopping the machine stops the terminal that shares it');
  });

  it('four machines: all start, each runs docker, and stopping two leaves the others running', async () => {
    const wrapper = await fixture(html`<div>
      ${[1, 2, 3, 4].map((i) => html`<docker-terminal id=${`m${i}`} src=${src}></docker-terminal>`)}
    </div>`);
    const terminals = [...wrapper.querySelectorAll('docker-terminal')];
    await startAll(terminals);
    for (const t of terminals) expect(t.state, text(t)).to.equal('ready');
    // (four emulators share the page's one thread: each is about four times slower)
    const results = await Promise.all(terminals.map((t) => t.run(`docker run --rm busybox echo in-$(hostname)-${t.id}`)));
    expect(results.map((r) => r.output)).to.deep.equal(terminals.map((t) => `in-docker-${t.id}`));
    await terminals[0].stop();
    await terminals[2].stop();
    const rest = await Promise.all([terminals[1], terminals[3]].map((t) => t.run('docker ps -q | wc -l; echo alive')));
    expect(rest.map((r) => r.output)).to.deep.equal(['0\nalive', '0\nalive']);
    for (const t of terminals) expect(part(t, 'notice'), `no notice on #${t.id}`).to.equal(null);
    await Promise.all([terminals[1].stop(), terminals[3].stop()]);
  });
});

describe('the progress screen', () => {
  it('has a Cancel that stops the start', async () => {
    await setFaults([{ file: '^state\\.bin\\.zst\\.0$', fault: 'stall' }]);
    const el = await fixture(html`<docker-terminal src=${src}></docker-terminal>`);
    part(el, 'start-button').click();
    await waitUntil(() => part(el, 'cancel-button'), 'Cancel is shown', { timeout: 30_000 });
    const exit = oneEvent(el, 'docker-terminal-exit');
    part(el, 'cancel-button').click();
    await waitUntil(() => el.state === 'stopped', 'stopped', { timeout: 10_000 });
    expect(part(el, 'start-button')).to.exist;
    await Promise.race([exit, new Promise((r) => setTimeout(r, 2000))]);
  });
});
