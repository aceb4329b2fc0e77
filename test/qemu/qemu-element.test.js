// <docker-terminal> with the qemu engine on a cross-origin isolated page, against the STAND-IN for
// a container2wasm bundle (test/qemu/standin; not QEMU): boot stages to the prompt, run() through
// the pty, and one QEMU machine per page.
import { fixture, html, expect, oneEvent, waitUntil } from '@open-wc/testing';
import '../../dist/docker-terminal.js';

const part = (el, name) => el.shadowRoot.querySelector(`[part="${name}"]`);
const text = (el) => el.shadowRoot.textContent.replace(/\s+/g, ' ');

async function startAndWaitReady(el) {
  const ready = oneEvent(el, 'docker-terminal-ready');
  const failed = oneEvent(el, 'docker-terminal-error').then((e) => {
    throw new Error(`${e.detail.code}: ${e.detail.message}`);
  });
  el.start().catch(() => undefined);
  return Promise.race([ready, failed]);
}

describe('<docker-terminal engine="qemu"> on the stand-in bundle', () => {
  it('shows the bundle\'s download size on the poster', async () => {
    const manifest = await (await fetch('/__qemu/standin/manifest.json')).json();
    const el = await fixture(html`<docker-terminal src="/__qemu/standin/"></docker-terminal>`);
    const kb = Math.round(Object.values(manifest.files).reduce((n, f) => n + f.size, 0) / 1e3);
    await waitUntil(() => text(el).includes(`downloads ${kb} kB`), `poster shows ${kb} kB`);
  });

  it('downloads, follows the boot stages to the prompt, and runs commands through the pty', async () => {
    const el = await fixture(html`<docker-terminal src="/__qemu/standin/" cores="2" memory="1024"></docker-terminal>`);
    const stages = [];
    el.addEventListener('docker-terminal-progress', (e) => stages.push(e.detail.stage));
    const ready = await startAndWaitReady(el);
    expect(ready.detail.restored).to.equal(false);
    expect(el.state).to.equal('ready');
    expect(stages[0]).to.equal('download');
    expect(stages.filter((s) => s !== 'download')).to.deep.equal(['kernel', 'containerd', 'dockerd', 'ready']);
    const hi = await el.run('echo hi from run');
    expect(hi).to.deep.equal({ exitCode: 0, output: 'hi from run' });
    const failed = await el.run('false');
    expect(failed.exitCode).to.equal(1);
    await el.stop();
    expect(el.state).to.equal('stopped');
  });

  it('a second qemu element on the page gets a clear error while the first runs, and can start after it stops', async () => {
    const wrapper = await fixture(html`<div>
      <docker-terminal id="one" src="/__qemu/standin/" cores="2" memory="1024"></docker-terminal>
      <docker-terminal id="two" src="/__qemu/standin/" cores="2" memory="1024"></docker-terminal>
    </div>`);
    const [one, two] = wrapper.querySelectorAll('docker-terminal');
    await startAndWaitReady(one);
    const error = oneEvent(two, 'docker-terminal-error');
    two.start().catch(() => undefined);
    const e = await error;
    expect(e.detail.code).to.equal('engine-in-use');
    await two.updateComplete;
    expect(part(two, 'error').textContent).to.match(/one at a time/);
    expect(one.state).to.equal('ready');
    await one.stop();
    await startAndWaitReady(two);
    expect((await two.run('echo second')).output).to.equal('second');
    await two.stop();
  });
});
