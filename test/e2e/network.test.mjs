// The machine's network, end to end in real Chromium with the built dist/ and the real guest. Real
// parts, started here, all on this machine's loopback: the Wisp relay of @mercuryworkshop/wisp-js
// (names *.test resolve to 127.0.0.1 there, nothing else is let through), Debian's docker-registry
// (distribution 2.8, over TLS with a throwaway CA) seeded with skopeo, and a plain static file
// server with CORS on another origin than the page, serving a registry written by
// `docker-terminal images add`. The images are linux/386, made here from Debian's busybox-static.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve } from '../../scripts/serve.mjs';
import { launch, terminalText } from '../../scripts/browser.mjs';
import { repo } from '../guest/bundle.mjs';
import { busyboxFiles, makeImageArchive } from '../images/archive.mjs';
import { seedRegistry, startRegistry, startRelay, startStaticServer } from '../support/net-parts.mjs';

const STYLE_COLOUR = 'rgb(1, 2, 3)';
let work, site, server, browser, relay, registry, staticHost, page;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dt-net-'));
  const busybox = await busyboxFiles();
  const web = {
    ...busybox,
    'www/index.html': '<!doctype html><html><head><title>from the machine</title><link rel="stylesheet" href="style.css"></head><body><h1 id="hello">Hello from nginx-like httpd</h1><a href="/second.html">second</a></body></html>',
    'www/style.css': `body { background-color: ${STYLE_COLOUR}; }`,
    'www/second.html': '<!doctype html><p id="second">second page</p>',
    hello: 'hello-through-the-network\n',
  };
  await makeImageArchive({ out: path.join(work, 'web.tar'), format: 'docker-save', images: [{ name: 'web', tag: '1', files: web, cmd: ['httpd', '-f', '-p', '80', '-h', '/www'] }] });
  await makeImageArchive({ out: path.join(work, 'small.tar'), format: 'docker-save', images: [{ name: 'small', tag: '1', files: { ...busybox, hello: 'hello-from-the-static-registry\n' }, cmd: ['sh'] }] });
  // (incompressible, so the pull really moves its size)
  await makeImageArchive({ out: path.join(work, 'big.tar'), format: 'docker-save', images: [{ name: 'big', tag: '1', files: { ...busybox, 'big.bin': crypto.randomBytes(40 * 1024 * 1024) }, cmd: ['sh'] }] });

  // The author's static registry, on another origin than the page.
  const out = path.join(work, 'registry');
  execFileSync(process.execPath, [path.join(repo, 'bin/docker-terminal.mjs'), 'images', 'add', path.join(work, 'small.tar'), path.join(work, 'web.tar'), '--out', out], { stdio: 'inherit' });
  staticHost = await startStaticServer(out);

  relay = await startRelay();
  registry = await startRegistry();
  await seedRegistry(registry, path.join(work, 'web.tar'), 'web:1');
  await seedRegistry(registry, path.join(work, 'big.tar'), 'big:1');

  site = fs.mkdtempSync(path.join(os.tmpdir(), 'dt-net-site-'));
  fs.symlinkSync(path.join(repo, 'dist'), path.join(site, 'docker-terminal'));
  const pageWith = (name, attrs, extra = '') =>
    fs.writeFileSync(
      path.join(site, name),
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>network</title>
<script type="module" src="docker-terminal/docker-terminal.js"></script></head>
<body><main><docker-terminal id="t" load="eager" ${attrs}></docker-terminal>${extra}</main></body></html>`,
    );
  pageWith('both.html', `network="${relay.url.replace(/^ws:/, 'wisp:')}" registry="${staticHost.url}"`, '<docker-terminal-preview for="t" port="8080"></docker-terminal-preview>');
  pageWith('registry.html', `registry="${staticHost.url}"`);
  pageWith('image.html', `registry="${staticHost.url}" image="small:1"`);
  pageWith('none.html', '');
  server = await serve({ root: site });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await relay?.stop();
  await registry?.stop();
  await staticHost?.stop();
  for (const dir of [site, work]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Opens a page (one machine at a time: the previous page is closed) and waits for its terminal. */
async function open(name) {
  await page?.close();
  page = await browser.newPage();
  await page.goto(`${server.url}${name}`, { waitUntil: 'load' });
  await page.waitForFunction(() => ['ready', 'error'].includes(document.querySelector('docker-terminal')?.state), { timeout: 600_000, polling: 500 });
  assert.equal(await page.evaluate(() => document.querySelector('docker-terminal').state), 'ready');
}

const run = (command) => page.evaluate((c) => document.querySelector('docker-terminal').run(c), command);
const notice = () => page.evaluate(() => document.querySelector('docker-terminal').shadowRoot.querySelector('[part=notice]')?.textContent ?? '');

/** Trusts the test registry's CA in the guest's dockerd (as an author's own CA would be). */
async function trustRegistry() {
  await page.evaluate((pem) => document.querySelector('docker-terminal').writeFile('ca.crt', pem), registry.caPem);
  const r = await run(`mkdir -p /etc/docker/certs.d/${registry.host} && cp ca.crt /etc/docker/certs.d/${registry.host}/ca.crt && echo trusted`);
  assert.deepEqual(r, { exitCode: 0, output: 'trusted' });
}

test('with a relay and a registry: pulls through the relay and from the static registry, builds, and the preview shows the server', { timeout: 1_800_000 }, async (t) => {
  await open('both.html');
  await trustRegistry();

  await t.test('pull through the relay and run', async () => {
    const pulled = await run(`docker pull -q ${registry.host}/web:1`);
    assert.equal(pulled.exitCode, 0, pulled.output);
    assert.deepEqual(await run(`docker run --rm ${registry.host}/web:1 cat /hello`), { exitCode: 0, output: 'hello-through-the-network' });
    assert.ok(relay.connections.some((c) => c.hostname === 'registry.test'), `the relay saw no connection to registry.test: ${JSON.stringify(relay.connections)}`);
  });

  await t.test('a tag the registry lacks: Docker\'s own "not found"', async () => {
    const r = await run(`docker pull ${registry.host}/web:nope 2>&1`);
    assert.notEqual(r.exitCode, 0);
    assert.match(r.output, /not found|manifest unknown/i);
  });

  await t.test('pull from the static registry and run', async () => {
    const before = staticHost.requests.length;
    const pulled = await run('docker pull -q small:1');
    assert.equal(pulled.exitCode, 0, pulled.output);
    assert.deepEqual(await run('docker run --rm small:1 cat /hello'), { exitCode: 0, output: 'hello-from-the-static-registry' });
    assert.ok(staticHost.requests.slice(before).some((r) => /\/v2\/library\/small\/manifests\/1$/.test(r)), `the static host was not asked: ${staticHost.requests.slice(before).join(' ')}`);
  });

  await t.test('docker build FROM an image of the static registry', async () => {
    await page.evaluate(() => document.querySelector('docker-terminal').writeFile('Dockerfile', 'FROM web:1\nRUN echo built-on-web > /built\n'));
    const built = await run('docker build -q -t mine . >/dev/null && docker run --rm mine cat /built');
    assert.deepEqual(built, { exitCode: 0, output: 'built-on-web' });
  });

  await t.test('docker run -d -p 8080:80: the preview shows the page with its stylesheet, and fetch() reaches it', async () => {
    const started = await run('docker run -d -p 8080:80 web:1 >/dev/null 2>&1 && echo started');
    assert.deepEqual(started, { exitCode: 0, output: 'started' });
    const direct = await page.evaluate(async () => {
      const res = await document.querySelector('docker-terminal').fetch('http://localhost:8080/style.css');
      return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
    });
    assert.equal(direct.status, 200);
    assert.match(direct.body, /background-color/);
    const loaded = page.evaluate(() => new Promise((resolve) => document.querySelector('docker-terminal-preview').addEventListener('docker-terminal-preview-load', (e) => resolve(e.detail), { once: true })));
    await page.evaluate(() => document.querySelector('docker-terminal-preview').reload());
    assert.deepEqual(await loaded, { url: 'http://localhost:8080/', status: 200 });
    const frame = await (await page.waitForFunction(() => document.querySelector('docker-terminal-preview').shadowRoot.querySelector('iframe'))).asElement().contentFrame();
    await frame.waitForSelector('#hello');
    assert.equal(await frame.evaluate(() => getComputedStyle(document.body).backgroundColor), STYLE_COLOUR);
    assert.equal(await page.evaluate(() => document.querySelector('docker-terminal-preview').shadowRoot.querySelector('[part=address]').textContent), 'http://localhost:8080/');
  });

  await t.test('nothing listening on a port: the preview says so, with what to do', async () => {
    await page.evaluate(() => (document.querySelector('docker-terminal-preview').port = '9999'));
    await page.waitForFunction(() => document.querySelector('docker-terminal-preview').state === 'error', { timeout: 30_000 });
    const message = await page.evaluate(() => document.querySelector('docker-terminal-preview').shadowRoot.querySelector('[part=message]').textContent);
    assert.match(message, /Nothing in the machine listens on port 9999.*Reload/s);
  });

  await t.test('the relay stopped mid-pull: Docker\'s error, then the shell and dockerd still work', async () => {
    const pull = run(`docker pull ${registry.host}/big:1 2>&1`);
    // (once the layers come: Docker shows them on the screen as it pulls)
    await page.waitForFunction(() => /Pulling fs layer|Downloading/.test(document.querySelector('docker-terminal').shadowRoot.querySelector('.xterm-rows')?.textContent ?? ''), { timeout: 120_000, polling: 100 });
    await relay.stop();
    const r = await pull;
    assert.notEqual(r.output, '', 'the pull said nothing');
    assert.doesNotMatch(r.output, /Downloaded newer image|Status: Image is up to date/, r.output);
    assert.deepEqual(await run('docker info --format "{{.ServerVersion}}" >/dev/null && echo daemon-ok'), { exitCode: 0, output: 'daemon-ok' });
    assert.match(await notice(), /relay/);
    relay = await startRelay({ port: relay.port });
  });
});

test('with a registry and an image from it: the reader starts in that image', { timeout: 900_000 }, async () => {
  await open('image.html');
  await page.waitForFunction(() => /Pull complete|Downloaded newer image/.test(document.querySelector('docker-terminal').shadowRoot.querySelector('.xterm-rows')?.textContent ?? ''), { timeout: 300_000, polling: 500 });
  await page.evaluate(() => document.querySelector('docker-terminal').send('cat /hello\r'));
  await page.waitForFunction(() => [...document.querySelector('docker-terminal').shadowRoot.querySelectorAll('.xterm-rows > div')].some((r) => r.textContent.trim() === 'hello-from-the-static-registry'), { timeout: 120_000, polling: 500 });
});

test('a registry only: a tag it lacks fails fast, with a notice naming the image', { timeout: 900_000 }, async () => {
  await open('registry.html');
  const began = Date.now();
  const r = await run('docker pull small:nope 2>&1');
  assert.notEqual(r.exitCode, 0);
  assert.ok(Date.now() - began < 30_000, `took ${Date.now() - began} ms`);
  await page.waitForFunction(() => /has no small:nope/.test(document.querySelector('docker-terminal').shadowRoot.querySelector('[part=notice]')?.textContent ?? ''), { timeout: 10_000 });
});

test('without network or registry: a pull fails at once, and the reader is told how pulls get enabled', { timeout: 900_000 }, async () => {
  await open('none.html');
  const began = Date.now();
  const r = await run('docker pull alpine 2>&1');
  const took = Date.now() - began;
  assert.notEqual(r.exitCode, 0);
  assert.match(r.output, /no such host|lookup/i, r.output);
  assert.ok(took < 20_000, `the pull took ${took} ms to fail`);
  assert.match(await notice(), /no network.*network attribute.*registry attribute/s);
  console.log(`pull without a network failed in ${(took / 1000).toFixed(1)} s; screen: ${(await terminalText(page)).split('\n').slice(-3).join(' | ')}`);
});
