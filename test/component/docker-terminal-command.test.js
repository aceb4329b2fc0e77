// Component tests of <docker-terminal-command> ("Run this" buttons) in real headless Chromium,
// against the built dist/docker-terminal.js. The terminal they drive is a real v86 guest restored
// from dist/guest; one machine is shared by the tests that need one, to keep boots few.
import { fixture, html, expect, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys, sendMouse } from '@web/test-runner-commands';
import { DockerTerminal, DockerTerminalCommand } from '../../dist/docker-terminal.js';

const bundle = (variant) => `/__bundle/${variant}/`;
const part = (el, name) => el.shadowRoot.querySelector(`[part="${name}"]`);
const text = (el, name) => part(el, name)?.textContent.replace(/\s+/g, ' ').trim() ?? '';
const runButton = (el) => part(el, 'run-button');
/** What the terminal shows on its screen. */
const screen = (term) => [...term.shadowRoot.querySelectorAll('.xterm-rows > div')].map((r) => r.textContent).join('\n');

/** A real mouse click (the browser counts it as the reader's gesture, which the clipboard needs). */
async function realClick(target) {
  const r = target.getBoundingClientRect();
  await sendMouse({ type: 'click', position: [Math.round(r.x + r.width / 2), Math.round(r.y + r.height / 2)] });
}

/** Pastes the clipboard into a fresh textarea with a real Ctrl+V and returns what arrived. */
async function paste() {
  const area = document.createElement('textarea');
  area.setAttribute('aria-label', 'paste here');
  document.body.append(area);
  area.focus();
  await sendKeys({ down: 'Control' });
  await sendKeys({ press: 'KeyV' });
  await sendKeys({ up: 'Control' });
  area.remove();
  return area.value;
}

/** Clicks Run and resolves with the done event's detail. */
async function clickRun(el) {
  const done = oneEvent(el, 'docker-terminal-command-done');
  runButton(el).click();
  return (await done).detail;
}

describe('registration, attributes, command text', () => {
  it('registers <docker-terminal-command> with typed, kebab-case properties', async () => {
    const el = await fixture(html`<docker-terminal-command for="t" command="echo hi" interrupt></docker-terminal-command>`);
    expect(el).to.be.instanceOf(DockerTerminalCommand);
    expect(customElements.get('docker-terminal-command')).to.equal(DockerTerminalCommand);
    expect(el.htmlFor).to.equal('t');
    expect(el.command).to.equal('echo hi');
    expect(el.interrupt).to.equal(true);
    expect(el.status).to.equal('idle');
    expect(el.getAttribute('status')).to.equal('idle');
    expect(el.hasAttribute('exit-code')).to.equal(false);
  });

  it('takes the command from its text: dedented, one command per line, a trailing \\ continues it', async () => {
    const el = await fixture(html`<docker-terminal-command>
      docker build -t demo .
        --no-cache-is-indented-more

      echo a \\
        b
    </docker-terminal-command>`);
    expect(el.commands).to.deep.equal(['docker build -t demo .', '  --no-cache-is-indented-more', 'echo a \\\n  b']);
    const shown = [...part(el, 'command').querySelectorAll('code')].map((c) => c.textContent);
    expect(shown).to.deep.equal(el.commands);
    el.textContent = 'echo changed';
    await waitUntil(() => text(el, 'command') === 'echo changed', 'the shown command follows the text');
    el.command = 'echo from-attribute';
    await el.updateComplete;
    expect(el.commands).to.deep.equal(['echo from-attribute']);
  });

  it('has real buttons with accessible names, described by the command, and passes axe', async () => {
    const el = await fixture(html`<div><docker-terminal src=${bundle('good')}></docker-terminal><docker-terminal-command>docker ps</docker-terminal-command></div>`);
    const cmd = el.querySelector('docker-terminal-command');
    await cmd.updateComplete;
    const [run, copy] = cmd.shadowRoot.querySelectorAll('button');
    expect(run.textContent.trim()).to.equal('Run');
    expect(copy.textContent.trim()).to.equal('Copy');
    expect(run.getAttribute('aria-describedby')).to.equal('command');
    expect(part(cmd, 'status').getAttribute('role')).to.equal('status');
    expect(part(cmd, 'status').getAttribute('aria-live')).to.equal('polite');
    expect(part(cmd, 'error')).to.equal(null);
    await expect(cmd).to.be.accessible();
  });
});

describe('choosing the terminal, and bad input', () => {
  it('for naming no element shows an error saying what to do; Run reports failed', async () => {
    const el = await fixture(html`<docker-terminal-command for="term9">echo hi</docker-terminal-command>`);
    await waitUntil(() => part(el, 'error'), 'an error is shown without pressing Run');
    expect(part(el, 'error').getAttribute('role')).to.equal('alert');
    expect(text(el, 'error')).to.match(/for="term9" names no element on this page\. Give the <docker-terminal> the id "term9"/);
    await expect(el).to.be.accessible();
    const detail = await clickRun(el);
    expect(detail).to.include({ command: 'echo hi', exitCode: null, output: '' });
    expect(detail.error).to.match(/names no element/);
    expect(el.status).to.equal('failed');
    expect(el.getAttribute('status')).to.equal('failed');
    expect(text(el, 'status')).to.match(/^Failed: for="term9" names no element/);
  });

  it('for naming something else than a <docker-terminal> says so', async () => {
    const wrapper = await fixture(html`<div><div id="notes"></div><docker-terminal-command for="notes">echo hi</docker-terminal-command></div>`);
    const el = wrapper.querySelector('docker-terminal-command');
    await waitUntil(() => part(el, 'error'));
    expect(text(el, 'error')).to.contain('for="notes" names a <div>, not a <docker-terminal>');
  });

  it('no for and no terminal on the page: an error', async () => {
    const el = await fixture(html`<docker-terminal-command>echo hi</docker-terminal-command>`);
    await waitUntil(() => part(el, 'error'));
    expect(text(el, 'error')).to.contain('There is no <docker-terminal> on this page');
  });

  it('the error goes away when for is corrected, or the terminal appears', async () => {
    const wrapper = await fixture(html`<div><docker-terminal-command for="later">echo hi</docker-terminal-command></div>`);
    const el = wrapper.querySelector('docker-terminal-command');
    await waitUntil(() => part(el, 'error'));
    const term = document.createElement('docker-terminal');
    term.src = bundle('good');
    term.id = 'other';
    wrapper.append(term);
    el.htmlFor = 'other';
    await el.updateComplete;
    await el.updateComplete;
    expect(part(el, 'error')).to.equal(null);
    expect(el.terminal).to.equal(term);
  });

  it('without for: the nearest terminal before it, else the first after it', async () => {
    const wrapper = await fixture(html`<div>
      <docker-terminal-command id="c0">echo 0</docker-terminal-command>
      <docker-terminal id="t1" src=${bundle('good')}></docker-terminal>
      <docker-terminal-command id="c1">echo 1</docker-terminal-command>
      <docker-terminal id="t2" src=${bundle('good')}></docker-terminal>
      <section><docker-terminal-command id="c2">echo 2</docker-terminal-command></section>
    </div>`);
    const [c0, c1, c2] = ['c0', 'c1', 'c2'].map((id) => wrapper.querySelector(`#${id}`));
    expect(c0.terminal.id).to.equal('t1');
    expect(c1.terminal.id).to.equal('t1');
    expect(c2.terminal.id).to.equal('t2');
    expect(c2.terminal).to.be.instanceOf(DockerTerminal);
  });

  it('a terminal that cannot start: failed, with the terminal\'s own error', async () => {
    const wrapper = await fixture(html`<div>
      <docker-terminal id="broken" src=${bundle('missing-state')}></docker-terminal>
      <docker-terminal-command for="broken">echo hi</docker-terminal-command>
    </div>`);
    const el = wrapper.querySelector('docker-terminal-command');
    const detail = await clickRun(el);
    expect(detail.exitCode).to.equal(null);
    expect(detail.error).to.match(/The terminal could not start: .*no-such-state\.bin\.zst failed \(HTTP 404\)/);
    await el.updateComplete;
    expect(el.status).to.equal('failed');
    expect(text(el, 'status')).to.match(/Failed: The terminal could not start: .*HTTP 404/);
    expect(wrapper.querySelector('docker-terminal').state).to.equal('error');
    await expect(el).to.be.accessible();
  });

  it('an empty command says there is nothing to run', async () => {
    const wrapper = await fixture(html`<div><docker-terminal src=${bundle('good')}></docker-terminal><docker-terminal-command> </docker-terminal-command></div>`);
    const el = wrapper.querySelector('docker-terminal-command');
    const detail = await clickRun(el);
    expect(detail.error).to.match(/no command to run/);
    expect(wrapper.querySelector('docker-terminal').state).to.equal('idle');
  });

  it('preventDefault() on docker-terminal-command-start stops the run', async () => {
    const wrapper = await fixture(html`<div><docker-terminal src=${bundle('good')}></docker-terminal><docker-terminal-command>echo hi</docker-terminal-command></div>`);
    const el = wrapper.querySelector('docker-terminal-command');
    el.addEventListener('docker-terminal-command-start', (e) => e.preventDefault());
    await el.run();
    expect(el.status).to.equal('idle');
    expect(wrapper.querySelector('docker-terminal').state).to.equal('idle');
  });
});

describe('Copy', () => {
  // First: the real clicks below give the page a user gesture for a few seconds.
  it('when the browser refuses (no user gesture) it says how to copy by hand', async () => {
    const el = await fixture(html`<docker-terminal-command command="echo refused"></docker-terminal-command>`);
    expect(await el.copy()).to.equal(false);
    await el.updateComplete;
    expect(text(el, 'copy-button')).to.equal('Copy');
    expect(text(el, 'status')).to.equal('Could not copy: select the command and copy it by hand');
  });

  it('copies the command to the clipboard and shows Copied', async () => {
    const el = await fixture(html`<docker-terminal-command>
      docker compose up -d
      docker compose ps
    </docker-terminal-command>`);
    await el.updateComplete;
    const copied = oneEvent(el, 'docker-terminal-command-copy');
    await realClick(part(el, 'copy-button'));
    expect((await copied).detail.command).to.equal('docker compose up -d\ndocker compose ps');
    await el.updateComplete;
    expect(text(el, 'copy-button')).to.equal('Copied');
    expect(text(el, 'status')).to.equal('Copied to the clipboard');
    expect(await paste()).to.equal('docker compose up -d\ndocker compose ps');
    await waitUntil(() => text(el, 'copy-button') === 'Copy', 'the button goes back to Copy', { timeout: 4000 });
  });

  it('without the Clipboard API it copies through a selection', async () => {
    const el = await fixture(html`<docker-terminal-command command="echo fallback"></docker-terminal-command>`);
    await el.updateComplete;
    const clipboard = Object.getOwnPropertyDescriptor(Navigator.prototype, 'clipboard');
    Object.defineProperty(Navigator.prototype, 'clipboard', { configurable: true, get: () => undefined });
    try {
      const copied = oneEvent(el, 'docker-terminal-command-copy');
      await realClick(part(el, 'copy-button'));
      await copied;
    } finally {
      Object.defineProperty(Navigator.prototype, 'clipboard', clipboard);
    }
    expect(await paste()).to.equal('echo fallback');
    expect(text(el, 'copy-button')).to.equal('Copied');
  });
});

describe('Run drives a real terminal (one machine for all these tests)', () => {
  /** @type {import('../../dist/esm/docker-terminal.js').DockerTerminal} */
  let term;
  let page;
  const command = async (markup) => {
    const t = document.createElement('template');
    t.innerHTML = markup;
    const el = t.content.firstElementChild;
    page.append(el);
    await el.updateComplete;
    return el;
  };

  before(() => {
    page = document.createElement('div');
    page.innerHTML = `<docker-terminal id="term1" src="${bundle('good')}"></docker-terminal>`;
    document.body.append(page);
    term = page.querySelector('docker-terminal');
  });
  after(async () => {
    await term.stop();
    page.remove();
  });
  afterEach(() => page.querySelectorAll('docker-terminal-command').forEach((c) => c.remove()));

  it('Run on an idle terminal starts it, types the command and reports done, exit code 0', async () => {
    const el = await command('<docker-terminal-command for="term1">echo hi</docker-terminal-command>');
    expect(term.state).to.equal('idle');
    const start = oneEvent(el, 'docker-terminal-command-start');
    const done = oneEvent(el, 'docker-terminal-command-done');
    runButton(el).click();
    expect((await start).detail).to.include({ command: 'echo hi', terminal: term });
    await el.updateComplete;
    expect(el.status).to.equal('waiting');
    expect(text(el, 'status')).to.equal('Starting the terminal…');
    expect(runButton(el).getAttribute('aria-disabled')).to.equal('true');
    await expect(el).to.be.accessible();
    const { detail } = await done;
    expect(detail).to.deep.equal({ command: 'echo hi', exitCode: 0, output: 'hi' });
    expect(term.state).to.equal('ready');
    await el.updateComplete;
    expect(el.status).to.equal('done');
    expect(el.getAttribute('exit-code')).to.equal('0');
    expect(el.output).to.equal('hi');
    expect(text(el, 'status')).to.equal('Done (exit code 0)');
    expect(text(el, 'run-button')).to.equal('Run');
    await waitUntil(() => /# echo hi\s*\n\s*hi/.test(screen(term)), 'the command and its output are on the terminal screen', { timeout: 5000 });
    await expect(el).to.be.accessible();
  });

  it('a failing command reports failed with its exit code', async () => {
    const f = await command('<docker-terminal-command for="term1">false</docker-terminal-command>');
    expect(await clickRun(f)).to.deep.equal({ command: 'false', exitCode: 1, output: '' });
    const el = await command(`<docker-terminal-command for="term1">sh -c 'echo oops >&2; exit 3'</docker-terminal-command>`);
    const detail = await clickRun(el);
    expect(detail).to.deep.equal({ command: "sh -c 'echo oops >&2; exit 3'", exitCode: 3, output: 'oops' });
    await el.updateComplete;
    expect(el.status).to.equal('failed');
    expect(el.getAttribute('status')).to.equal('failed');
    expect(el.getAttribute('exit-code')).to.equal('3');
    expect(text(el, 'status')).to.equal('Failed with exit code 3');
    await expect(el).to.be.accessible();
    // Run again: the same element runs it again.
    expect((await clickRun(el)).exitCode).to.equal(3);
  });

  it('works from the keyboard: Tab to Run, Enter runs; Space on Copy copies', async () => {
    const el = await command('<docker-terminal-command for="term1">echo keyboard-$((6*7))</docker-terminal-command>');
    const field = document.createElement('input');
    field.setAttribute('aria-label', 'a field before the buttons');
    el.before(field);
    field.focus();
    await sendKeys({ press: 'Tab' });
    field.remove();
    expect(el.shadowRoot.activeElement).to.equal(runButton(el));
    const done = oneEvent(el, 'docker-terminal-command-done');
    await sendKeys({ press: 'Enter' });
    expect((await done).detail).to.include({ exitCode: 0, output: 'keyboard-42' });
    await sendKeys({ press: 'Tab' });
    expect(el.shadowRoot.activeElement).to.equal(part(el, 'copy-button'));
    const copied = oneEvent(el, 'docker-terminal-command-copy');
    await sendKeys({ press: 'Space' });
    await copied;
    expect(await paste()).to.equal('echo keyboard-$((6*7))');
  });

  it('clicking Run again while running types nothing twice', async () => {
    const el = await command('<docker-terminal-command for="term1">echo x >> /tmp/clicks; sleep 2</docker-terminal-command>');
    const done = oneEvent(el, 'docker-terminal-command-done');
    runButton(el).click();
    await waitUntil(() => el.status === 'running', 'running');
    await el.updateComplete;
    expect(text(el, 'run-button')).to.equal('Running…');
    runButton(el).click();
    runButton(el).click();
    await done;
    const r = await term.run('wc -l < /tmp/clicks');
    expect(r.output).to.equal('1');
  });

  it('multi-line: each line runs in turn; the first failure stops the rest', async () => {
    const ok = await command(`<docker-terminal-command for="term1">
      echo one
      echo two \\
        three
    </docker-terminal-command>`);
    expect(await clickRun(ok)).to.include({ exitCode: 0, output: 'one\ntwo three' });
    const bad = await command(`<docker-terminal-command for="term1">
      echo first
      ls /nonexistent
      echo never
    </docker-terminal-command>`);
    const detail = await clickRun(bad);
    expect(detail.exitCode).to.equal(2);
    expect(detail.output).to.match(/^first\n.*No such file or directory/);
    expect(detail.output).not.to.contain('never');
  });

  it('without interrupt, a command waits its turn behind another Run and says so', async () => {
    const first = await command('<docker-terminal-command for="term1">sleep 3; echo first</docker-terminal-command>');
    const second = await command('<docker-terminal-command for="term1">echo second</docker-terminal-command>');
    const order = [];
    page.addEventListener('docker-terminal-command-done', (e) => order.push(e.detail.output));
    const firstDone = oneEvent(first, 'docker-terminal-command-done');
    const secondDone = oneEvent(second, 'docker-terminal-command-done');
    runButton(first).click();
    await waitUntil(() => first.status === 'running');
    runButton(second).click();
    await second.updateComplete;
    expect(second.status).to.equal('waiting');
    expect(text(second, 'status')).to.equal('Waiting for earlier commands to finish…');
    expect(text(second, 'run-button')).to.equal('Waiting…');
    await expect(second).to.be.accessible();
    await Promise.all([firstDone, secondDone]);
    expect(order).to.deep.equal(['first', 'second']);
    expect(second.status).to.equal('done');
  });

  it('interrupt: Ctrl-C ends a running sleep 600, then its command runs', async () => {
    const sleeper = await command('<docker-terminal-command for="term1">sleep 600</docker-terminal-command>');
    const sleeperDone = oneEvent(sleeper, 'docker-terminal-command-done');
    runButton(sleeper).click();
    await waitUntil(() => sleeper.status === 'running');
    await waitUntil(() => /# sleep 600\s*$/.test(screen(term).trimEnd()), 'sleep is running in the terminal', { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(sleeper.status).to.equal('running');
    const el = await command('<docker-terminal-command for="term1" interrupt>echo after-interrupt</docker-terminal-command>');
    await el.updateComplete;
    expect(runButton(el).getAttribute('aria-describedby')).to.equal('command interrupt-note');
    const began = performance.now();
    const detail = await clickRun(el);
    expect(performance.now() - began).to.be.below(30_000);
    expect(detail).to.deep.equal({ command: 'echo after-interrupt', exitCode: 0, output: 'after-interrupt' });
    // The sleep ended by SIGINT: exit status 130, reported as failed.
    expect((await sleeperDone).detail.exitCode).to.equal(130);
    expect(sleeper.status).to.equal('failed');
    expect(el.status).to.equal('done');
  });

  it('interrupt with the shell idle at its prompt still runs the command once', async () => {
    const el = await command('<docker-terminal-command for="term1" interrupt>echo idle-interrupt >> /tmp/idle; cat /tmp/idle</docker-terminal-command>');
    expect(await clickRun(el)).to.include({ exitCode: 0, output: 'idle-interrupt' });
    const again = await command('<docker-terminal-command for="term1">echo still-in-step</docker-terminal-command>');
    expect(await clickRun(again)).to.deep.equal({ command: 'echo still-in-step', exitCode: 0, output: 'still-in-step' });
  });

  it('without interrupt, a Run while the reader\'s own command runs shows waiting until its prompt is back', async () => {
    await term.send('sleep 4\r');
    await waitUntil(() => term.busy, 'the terminal is busy with the reader\'s sleep');
    const el = await command('<docker-terminal-command for="term1">echo after-the-readers-sleep</docker-terminal-command>');
    const done = oneEvent(el, 'docker-terminal-command-done');
    runButton(el).click();
    await waitUntil(() => /something is running in the terminal/.test(text(el, 'status')), 'says it waits for the terminal');
    expect(el.status).to.equal('waiting');
    expect(text(el, 'run-button')).to.equal('Waiting…');
    await waitUntil(() => el.status === 'running' || el.status === 'done', 'typed once the prompt is back', { timeout: 30_000 });
    expect((await done).detail).to.deep.equal({ command: 'echo after-the-readers-sleep', exitCode: 0, output: 'after-the-readers-sleep' });
    expect(term.busy).to.equal(false);
  });

  it('a terminal stopped mid-run: failed, with the reason', async () => {
    const el = await command('<docker-terminal-command for="term1">sleep 600</docker-terminal-command>');
    const done = oneEvent(el, 'docker-terminal-command-done');
    runButton(el).click();
    await waitUntil(() => el.status === 'running');
    await term.stop();
    const { detail } = await done;
    expect(detail.exitCode).to.equal(null);
    expect(detail.error).to.be.a('string').and.not.equal('');
    expect(el.status).to.equal('failed');
  });
});
