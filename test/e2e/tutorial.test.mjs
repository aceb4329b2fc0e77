// The demo tutorial (demo/tutorial.html, as `npm start` serves it) walked through in real Chromium
// the way a reader does: pressing each step's Run button. Files come from the page's child scripts;
// docker build (BuildKit, multi-stage), docker compose with service-name lookup and a named volume
// that survives down/up, an interrupting step, a failing command, and a `for` naming no terminal.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve } from '../../scripts/serve.mjs';
import { launch, terminalText } from '../../scripts/browser.mjs';

let server, browser, page;
const errors = [];

before(async () => {
  server = await serve();
  browser = await launch();
  page = await browser.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}demo/tutorial.html`, { waitUntil: 'load' });
  await page.waitForFunction(() => customElements.get('docker-terminal-command') && document.querySelector('#step-run').shadowRoot?.querySelector('[part=run-button]'));
  await page.evaluate(() => {
    window.__done = {};
    document.addEventListener('docker-terminal-command-done', (e) => (window.__done[e.target.id] = e.detail));
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Presses a step's Run button and waits until it reports done or failed; returns what it reported. */
async function press(id, timeout = 900_000) {
  await page.evaluate((step) => {
    delete window.__done[step];
    document.getElementById(step).shadowRoot.querySelector('[part=run-button]').click();
  }, id);
  await page.waitForFunction((step) => window.__done[step], { timeout, polling: 500 }, id);
  return page.evaluate((step) => {
    const el = document.getElementById(step);
    return { ...window.__done[step], status: el.status, attr: el.getAttribute('status'), exitCodeAttr: el.getAttribute('exit-code'), shown: el.shadowRoot.querySelector('[part=status]').textContent.trim() };
  }, id);
}

function assertDone(r, output) {
  assert.equal(r.status, 'done', `${r.command}: ${JSON.stringify(r)}`);
  assert.equal(r.attr, 'done');
  assert.equal(r.exitCode, 0);
  assert.equal(r.exitCodeAttr, '0');
  if (output !== undefined) assert.equal(r.output, output);
}

test('the tutorial: run, build, compose, by its Run buttons', { timeout: 2_400_000 }, async () => {
  // The first Run starts the idle terminal, then types the command.
  assert.equal(await page.$eval('#term', (el) => el.state), 'idle');
  assertDone(await press('step-run'), 'hello from a container');
  assert.match(await terminalText(page, '#term'), /docker run --rm busybox echo hello from a container\s*\n\s*hello from a container/);

  // The page's child scripts are in ~/work, dedented, before the first prompt.
  const listing = await page.$eval('#term', (el) => el.run('pwd; ls -R; head -n 2 Dockerfile; cat compose.yaml | head -n 3'));
  assert.equal(listing.output.split('\n')[0], '/root/work');
  assert.match(listing.output, /Dockerfile\s+app\s+compose\.yaml/);
  assert.match(listing.output, /# Two stages: the first makes a file.*\nFROM busybox AS build\n# A web server and a client.*\nservices:\n  web:/);

  // docker build with BuildKit (the buildx plugin), multi-stage COPY --from, then run the result.
  const build = await press('step-build');
  assertDone(build);
  assert.match(build.output, /\[build 2\/2\] RUN echo|naming to docker\.io\/library\/demo/);
  assertDone(await press('step-run-demo'), 'built by a RUN step of the first stage\n<h1>Hello from an image built in your browser</h1>');

  // docker compose: two services on a user-defined network; the client reaches the server by name.
  assertDone(await press('step-up'));
  assert.match((await page.$eval('#term', (el) => el.run("docker network ls --format '{{.Name}} {{.Driver}}'"))).output, /^work_app bridge$/m);
  assertDone(await press('step-write'));
  assertDone(await press('step-fetch'), 'Hello from the web service');

  // A step that runs until interrupted, and one with `interrupt` that sends Ctrl-C before its command.
  await page.evaluate(() => document.getElementById('step-logs').shadowRoot.querySelector('[part=run-button]').click());
  await page.waitForFunction(() => document.getElementById('step-logs').status === 'running', { timeout: 120_000 });
  await new Promise((r) => setTimeout(r, 5000));
  assert.equal(await page.$eval('#step-logs', (el) => el.status), 'running', 'logs -f keeps running');
  assertDone(await press('step-down'));
  assert.notEqual(await page.$eval('#step-logs', (el) => el.status), 'running', 'Ctrl-C ended logs -f');
  assert.equal((await page.$eval('#term', (el) => el.run('docker ps -q | wc -l'))).output, '0');

  // Up again: the named volume kept the page.
  assertDone(await press('step-up-again'));
  assertDone(await press('step-fetch-again'), 'Hello from the web service');

  // A failing command reports failure with its exit code, on the element and to screen readers.
  await page.evaluate(() => {
    const el = document.createElement('docker-terminal-command');
    el.id = 'step-fail';
    el.setAttribute('for', 'term');
    el.textContent = 'docker run --rm no-such-image';
    document.body.append(el);
  });
  const failed = await press('step-fail');
  assert.equal(failed.status, 'failed');
  assert.equal(failed.attr, 'failed');
  assert.notEqual(failed.exitCode, 0);
  assert.match(failed.output, /Unable to find image 'no-such-image:latest' locally|pull access denied|failed to resolve|no such host|dial tcp/i);
  assert.match(failed.shown, /fail/i);

  // A `for` naming no terminal: a visible error that says what to do.
  const wrong = await page.evaluate(async () => {
    const el = document.createElement('docker-terminal-command');
    el.setAttribute('for', 'no-such-terminal');
    el.textContent = 'echo hi';
    document.body.append(el);
    for (let i = 0; i < 50 && !el.shadowRoot?.querySelector('[part=error]'); i++) await new Promise((r) => setTimeout(r, 100));
    const error = el.shadowRoot.querySelector('[part=error]');
    return { text: error?.textContent.replace(/\s+/g, ' ').trim(), role: error?.getAttribute('role') };
  });
  assert.equal(wrong.role, 'alert');
  assert.match(wrong.text, /no-such-terminal/);

  // What the reader made can be read back by the page.
  assert.match(await page.$eval('#term', (el) => el.readFile('compose.yaml', { encoding: 'utf8' })), /^# A web server and a client/);
  assert.deepEqual(errors, []);
});
