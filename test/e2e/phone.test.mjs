// A reader on a phone, in Chromium's device emulation (touch, a 390×844 viewport at device scale 3,
// a mobile user agent), with the built dist/ on a static page: tap Start; the key bar appears; Ctrl
// then c interrupts a running `sleep 100`; Tab completes a path; ↑ recalls the last command. At
// 360 px wide nothing overflows in any state (the page's scroll width), and axe finds nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { serve } from '../../scripts/serve.mjs';
import { launch } from '../../scripts/browser.mjs';
import { repo } from '../guest/bundle.mjs';

const MOBILE_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36';
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
let site, server, browser, page;

before(async () => {
  site = fs.mkdtempSync(path.join(os.tmpdir(), 'dt-phone-'));
  fs.symlinkSync(path.join(repo, 'dist'), path.join(site, 'docker-terminal'));
  fs.writeFileSync(
    path.join(site, 'index.html'),
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>A post on a phone</title>
<script type="module" src="docker-terminal/docker-terminal.js"></script>
<style>body { margin: 0 16px; font-family: sans-serif }</style></head>
<body><main><h1>Docker on a phone</h1><p>Some text before the terminal.</p>
<docker-terminal id="t"></docker-terminal>
<docker-terminal-command for="t">docker run --rm busybox echo from-a-button</docker-terminal-command></main></body></html>`,
  );
  server = await serve({ root: site });
  browser = await launch();
  page = await browser.newPage();
  await page.setUserAgent(MOBILE_UA);
  await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 3, isMobile: true, hasTouch: true });
  await page.goto(server.url, { waitUntil: 'load' });
  await page.waitForFunction(() => document.querySelector('docker-terminal')?.shadowRoot?.querySelector('[part=start-button]'));
});

after(async () => {
  await browser?.close();
  await server?.close();
  fs.rmSync(site, { recursive: true, force: true });
});

const state = () => page.evaluate(() => document.querySelector('docker-terminal').state);
const part = (name) => page.evaluateHandle((n) => document.querySelector('docker-terminal').shadowRoot.querySelector(`[part="${n}"]`), name);
const screen = () => page.evaluate(() => [...document.querySelector('docker-terminal').shadowRoot.querySelectorAll('.xterm-rows > div')].map((r) => r.textContent.replace(/\u00a0/g, ' ').trimEnd()).join('\n'));

/** At 360 px wide: the page does not scroll sideways, and axe finds nothing on it. */
async function fitsAndAccessible(what) {
  await page.setViewport({ width: 360, height: 780, deviceScaleFactor: 3, isMobile: true, hasTouch: true });
  await new Promise((r) => setTimeout(r, 300));
  const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(width <= 360, `${what}: the page is ${width} px wide at 360 px`);
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`));
  assert.deepEqual(violations, [], what);
  await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 3, isMobile: true, hasTouch: true });
}

async function tapKey(name) {
  const key = await page.evaluateHandle((n) => [...document.querySelector('docker-terminal').shadowRoot.querySelectorAll('[part=key]')].find((k) => k.getAttribute('aria-label') === n), name);
  await key.asElement().tap();
}

test('the poster fits a phone, and taps start the machine with the key bar under the terminal', { timeout: 900_000 }, async () => {
  await fitsAndAccessible('the poster');
  await (await part('start-button')).asElement().tap();
  await page.waitForFunction(() => ['booting', 'ready', 'error'].includes(document.querySelector('docker-terminal').state), { timeout: 600_000 });
  if ((await state()) === 'booting') await fitsAndAccessible('the progress screen');
  await page.waitForFunction(() => ['ready', 'error'].includes(document.querySelector('docker-terminal').state), { timeout: 600_000 });
  assert.equal(await state(), 'ready');
  const keys = await page.evaluate(() => [...document.querySelector('docker-terminal').shadowRoot.querySelectorAll('[part=key]')].map((k) => k.getAttribute('aria-label')));
  assert.deepEqual(keys, ['Esc', 'Tab', 'Ctrl', 'Up arrow', 'Down arrow', 'Left arrow', 'Right arrow', 'Vertical bar', 'Tilde', 'Slash', 'Dash']);
  await fitsAndAccessible('the terminal with its key bar');
  // The terminal's font follows the narrow screen, and the shell knows the real width.
  const cols = await page.evaluate(() => document.querySelector('docker-terminal').run('stty size').then((r) => Number(r.output.split(' ')[1])));
  assert.ok(cols >= 30 && cols <= 60, `${cols} columns`);
});

test('Ctrl then c interrupts a running sleep 100, and the terminal keeps the focus', { timeout: 300_000 }, async () => {
  await page.evaluate(() => document.querySelector('docker-terminal').send('sleep 100\r'));
  await page.waitForFunction(() => document.querySelector('docker-terminal').busy, { timeout: 30_000 });
  await page.evaluate(() => document.querySelector('docker-terminal').shadowRoot.querySelector('.xterm-helper-textarea').focus());
  await tapKey('Ctrl');
  assert.equal(await page.evaluate(() => document.querySelector('docker-terminal').shadowRoot.querySelector('[part=key][aria-label=Ctrl]').getAttribute('aria-pressed')), 'true');
  assert.equal(await page.evaluate(() => document.querySelector('docker-terminal').shadowRoot.activeElement?.className), 'xterm-helper-textarea', 'a tap on a key took the focus from the terminal');
  await page.keyboard.type('c');
  await page.waitForFunction(() => !document.querySelector('docker-terminal').busy, { timeout: 30_000 });
  assert.match(await screen(), /sleep 100\s*\n\^C/);
});

test('Tab completes a path, and ↑ recalls the last command', { timeout: 300_000 }, async () => {
  await page.keyboard.type('cat /etc/hostn');
  await tapKey('Tab');
  await page.waitForFunction(() => [...document.querySelector('docker-terminal').shadowRoot.querySelectorAll('.xterm-rows > div')].some((r) => /cat \/etc\/hostname\s*$/.test(r.textContent.replace(/\u00a0/g, ' '))), { timeout: 20_000 });
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => !document.querySelector('docker-terminal').busy, { timeout: 30_000 });
  const count = async () => (await screen()).split('\n').filter((l) => l.trim() === 'docker').length;
  const before = await count();
  assert.ok(before >= 1, await screen());
  await tapKey('Up arrow');
  await page.waitForFunction(() => [...document.querySelector('docker-terminal').shadowRoot.querySelectorAll('.xterm-rows > div')].some((r) => /[#$] cat \/etc\/hostname\s*$/.test(r.textContent.replace(/\u00a0/g, ' '))), { timeout: 20_000 });
  await page.keyboard.press('Enter');
  await page.waitForFunction(async (n) => [...document.querySelector('docker-terminal').shadowRoot.querySelectorAll('.xterm-rows > div')].filter((r) => r.textContent.trim() === 'docker').length > n, { timeout: 30_000 }, before);
});

test('a Run button fits at 360 px and works by touch', { timeout: 600_000 }, async () => {
  const run = await page.evaluateHandle(() => document.querySelector('docker-terminal-command').shadowRoot.querySelector('[part=run-button]'));
  await run.asElement().tap();
  await page.waitForFunction(() => document.querySelector('docker-terminal-command').status === 'done', { timeout: 300_000 });
  await fitsAndAccessible('the page with the terminal and a Run button');
});
