// End to end, as a blog reader gets it: the built dist/ served statically, a plain HTML page with
// <docker-terminal>, real Chromium, real v86, the real guest restored from its saved state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve } from '../../scripts/serve.mjs';
import { launch, terminalText } from '../../scripts/browser.mjs';
import { repo } from '../guest/bundle.mjs';

let site, server, browser;

before(async () => {
  // A static site: the dist/ folder copied as is (by link), and a page that uses it.
  site = fs.mkdtempSync(path.join(os.tmpdir(), 'dt-site-'));
  fs.symlinkSync(path.join(repo, 'dist'), path.join(site, 'docker-terminal'));
  fs.writeFileSync(
    path.join(site, 'index.html'),
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>post</title>
<script type="module" src="docker-terminal/docker-terminal.js"></script></head>
<body><h1>A blog post</h1><docker-terminal></docker-terminal></body></html>`,
  );
  server = await serve({ root: site });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
  fs.rmSync(site, { recursive: true, force: true });
});

test('click Start, wait for ready, run a container, see its output in the terminal', { timeout: 1_200_000 }, async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url, { waitUntil: 'load' });
  await page.waitForFunction(() => customElements.get('docker-terminal') && document.querySelector('docker-terminal').shadowRoot?.querySelector('[part=start-button]'));
  await page.evaluate(() => {
    const el = document.querySelector('docker-terminal');
    window.__events = [];
    for (const name of ['docker-terminal-progress', 'docker-terminal-ready', 'docker-terminal-error'])
      el.addEventListener(name, (e) => window.__events.push({ name, detail: e.detail }));
  });
  const start = await page.evaluateHandle(() => document.querySelector('docker-terminal').shadowRoot.querySelector('[part=start-button]'));
  await start.click();
  await page.waitForFunction(() => window.__events.some((e) => e.name === 'docker-terminal-ready' || e.name === 'docker-terminal-error'), { timeout: 600_000, polling: 500 });
  const events = await page.evaluate(() => window.__events);
  const error = events.find((e) => e.name === 'docker-terminal-error');
  assert.equal(error, undefined, JSON.stringify(error?.detail));
  const ready = events.find((e) => e.name === 'docker-terminal-ready');
  assert.equal(ready.detail.restored, true, 'the saved state was restored');
  const downloads = events.filter((e) => e.name === 'docker-terminal-progress' && e.detail.stage === 'download');
  assert.ok(downloads.length > 1, 'download progress was reported');
  assert.equal(downloads.at(-1).detail.loaded, downloads.at(-1).detail.total, 'the download completed');

  const result = await page.evaluate(() => document.querySelector('docker-terminal').run('docker run --rm busybox echo hello-e2e'));
  assert.deepEqual(result, { exitCode: 0, output: 'hello-e2e' });
  await page.waitForFunction(() => [...document.querySelector('docker-terminal').shadowRoot.querySelectorAll('.xterm-rows > div')].some((r) => r.textContent.trim() === 'hello-e2e'), { timeout: 10_000 });
  const screen = await terminalText(page);
  assert.match(screen, /docker run --rm busybox echo hello-e2e/);
  // Blocks the saved state wrote to the disk read back right (v86's chunked disk once served stale
  // data on the first read of a chunk), and a docker build, which writes and reads a lot, works.
  const run = (c) => page.evaluate((cmd) => document.querySelector('docker-terminal').run(cmd), c);
  assert.deepEqual(await run('head -c 5 /var/log/dockerd.log'), { exitCode: 0, output: 'time=' });
  const build = await run("mkdir -p /tmp/b && printf 'FROM busybox\\nRUN echo built > /built\\nCMD cat /built\\n' > /tmp/b/Dockerfile && docker build -q -t e2e /tmp/b >/dev/null && docker run --rm e2e");
  assert.deepEqual(build, { exitCode: 0, output: 'built' });
  assert.deepEqual(await run("dmesg | grep -c 'EXT4-fs error'; true"), { exitCode: 0, output: '0' });

  // After a restore the guest clock was set from the host, and the shell knows the terminal's size.
  const date = await page.evaluate(() => document.querySelector('docker-terminal').run('date +%s'));
  assert.ok(Math.abs(Number(date.output) - Date.now() / 1000) < 60, `guest clock ${date.output}`);
  const size = await page.evaluate(async () => {
    const el = document.querySelector('docker-terminal');
    const r = await el.run('stty size');
    const rows = el.shadowRoot.querySelectorAll('.xterm-rows > div').length;
    return { stty: r.output, rows };
  });
  assert.match(size.stty, new RegExp(`^${size.rows} \\d+$`));
  assert.deepEqual(errors, []);
  await page.close();
});
