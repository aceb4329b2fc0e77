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
