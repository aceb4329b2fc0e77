// Component tests of <docker-terminal-preview> in real headless Chromium, against the built
// dist/docker-terminal.js. What it shows from a running machine is covered end to end in
// test/e2e/network.test.mjs; here, what it says before there is anything to show.
import { fixture, html, expect, oneEvent } from '@open-wc/testing';
import { DockerTerminalPreview } from '../../dist/docker-terminal.js';

const part = (el, name) => el.shadowRoot.querySelector(`[part="${name}"]`);

describe('<docker-terminal-preview>', () => {
  it('registers, and shows the address with a labelled Reload before the terminal runs', async () => {
    const wrap = await fixture(html`<div><docker-terminal id="pv-t" src="/__bundle/good/"></docker-terminal><docker-terminal-preview for="pv-t" port="8080" path="/app/"></docker-terminal-preview></div>`);
    const el = wrap.querySelector('docker-terminal-preview');
    expect(el).to.be.instanceOf(DockerTerminalPreview);
    await new Promise((r) => setTimeout(r));
    await el.updateComplete;
    expect(el.state).to.equal('idle');
    expect(part(el, 'address').textContent).to.equal('http://localhost:8080/app/');
    expect(part(el, 'reload-button').getAttribute('aria-label')).to.match(/Reload the preview of http:\/\/localhost:8080\/app\//);
    expect(part(el, 'message').textContent).to.match(/once the terminal runs a server on this port/);
    expect(part(el, 'frame')).to.not.exist;
    await expect(el).to.be.accessible();
  });

  it('for naming no terminal: an error that says what to write', async () => {
    const el = await fixture(html`<docker-terminal-preview for="nowhere"></docker-terminal-preview>`);
    if (el.state !== 'error') await oneEvent(el, 'docker-terminal-preview-error');
    await el.updateComplete;
    expect(part(el, 'message').textContent).to.match(/for="nowhere" names no <docker-terminal> on this page/);
    await expect(el).to.be.accessible();
  });

  it('a port that is not one: an error, on Reload', async () => {
    const wrap = await fixture(html`<div><docker-terminal id="pv-t2" src="/__bundle/good/"></docker-terminal><docker-terminal-preview for="pv-t2" port="http"></docker-terminal-preview></div>`);
    const el = wrap.querySelector('docker-terminal-preview');
    await new Promise((r) => setTimeout(r));
    const failed = oneEvent(el, 'docker-terminal-preview-error');
    part(el, 'reload-button').click();
    expect((await failed).detail.message).to.match(/port="http" is not a port: write a whole number from 1 to 65535/);
  });
});
