// The release packages as authors get them (npm run release): their contents and limits, then in
// real Chromium with the real machine: a static blog page that loads the element from a CDN (a fake
// CDN that serves the tarballs as jsDelivr does, on another origin), a site that holds the copy made
// by `npx docker-terminal copy`, and a Vite build of a page that imports the package. Also a corrupt
// disk chunk and a state from another v86 version, each with its clear error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve } from '../../scripts/serve.mjs';
import { launch } from '../../scripts/browser.mjs';
import { readTgz } from '../../bin/tar.mjs';
import { repo } from '../guest/bundle.mjs';
import { startCdn, FILE_LIMIT, PACKAGE_LIMIT } from './cdn.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dt-release-'));
const releaseDir = path.join(tmp, 'release');
const version = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).version;
const tgz = (name) => path.join(releaseDir, `${name}-${version}.tgz`);
let browser;
const servers = [];

before(async () => {
  execFileSync(process.execPath, [path.join(repo, 'scripts/release.mjs'), releaseDir], { stdio: 'inherit' });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  for (const s of servers) await s.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A page of the blog, on its own origin: `head` goes into its <head>; `headers` are sent with it. */
async function blog(head, body = '<docker-terminal></docker-terminal>', headers = {}) {
  const dir = fs.mkdtempSync(path.join(tmp, 'blog-'));
  fs.writeFileSync(path.join(dir, 'index.html'), `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A post</title>${head}</head><body><h1>A post</h1>${body}</body></html>`);
  const s = await serve({ root: dir, headers });
  servers.push(s);
  return s.url;
}

/** Opens the page, presses Start, and waits for ready or an error; resolves with the page and what happened. */
async function start(url) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.evaluateOnNewDocument(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective}: ${e.blockedURI}`));
  });
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => document.querySelector('docker-terminal')?.shadowRoot?.querySelector('[part=start-button], [part=error]'), { timeout: 60_000 });
  await page.evaluate(() => {
    window.__events = [];
    for (const name of ['docker-terminal-ready', 'docker-terminal-error'])
      document.querySelector('docker-terminal').addEventListener(name, (e) => window.__events.push({ name, detail: e.detail }));
  });
  const button = await page.evaluateHandle(() => document.querySelector('docker-terminal').shadowRoot.querySelector('[part=start-button]'));
  if (await button.evaluate((b) => !!b)) await button.click();
  await page.waitForFunction(() => document.querySelector('docker-terminal').state === 'ready' || document.querySelector('docker-terminal').state === 'error', { timeout: 600_000, polling: 500 });
  return { page, errors, events: await page.evaluate(() => window.__events), state: await page.evaluate(() => document.querySelector('docker-terminal').state) };
}

async function expectHi(url, { csp = false } = {}) {
  const { page, errors, state, events } = await start(url);
  if (csp) assert.deepEqual(await page.evaluate(() => window.__violations), [], 'the policy the README gives was broken');
  if (state !== 'ready') assert.fail(`${state}: ${JSON.stringify(events)} ${await page.evaluate(() => document.querySelector('docker-terminal').shadowRoot.querySelector('[part=error]')?.textContent)}`);
  const r = await page.evaluate(() => document.querySelector('docker-terminal').run('docker run --rm busybox echo hi'));
  assert.deepEqual(r, { exitCode: 0, output: 'hi' });
  assert.deepEqual(errors, []);
  await page.close();
}

test('the packages hold the element, the machine, the licences and the sources, within the CDN limits', () => {
  const { packages } = JSON.parse(fs.readFileSync(path.join(releaseDir, 'packages.json'), 'utf8'));
  assert.deepEqual(packages.slice(0, 2).map((p) => p.name), ['docker-terminal', 'docker-terminal-guest']);
  assert.ok(packages.length >= 3 && packages.slice(2).every((p) => /^docker-terminal-guest-disk-\d+$/.test(p.name)));
  for (const p of packages) {
    assert.ok(p.size <= 120e6, `${p.file}: ${p.size} bytes packed`);
    for (const [name, data] of readTgz(path.join(releaseDir, p.file))) assert.ok(data.length < FILE_LIMIT, `${p.file}: ${name} is ${data.length} bytes`);
  }
  const element = readTgz(tgz('docker-terminal'));
  for (const f of ['LICENSE', 'THIRD_PARTY_NOTICES.md', 'README.md', 'dist/docker-terminal.js', 'dist/v86.wasm', 'dist/custom-elements.json', 'dist/esm/docker-terminal.d.ts', 'dist/guest/manifest.json', 'bin/docker-terminal.mjs'])
    assert.ok(element.has(`package/${f}`), `docker-terminal lacks ${f}`);
  assert.ok([...element.keys()].some((f) => /^package\/dist\/chunks\/libv86-.*\.js$/.test(f)));
  const notices = element.get('package/THIRD_PARTY_NOTICES.md').toString();
  for (const dep of ['lit ', '@xterm/xterm', 'v86', 'BSD-2-Clause']) assert.ok(notices.includes(dep), `the notices lack ${dep}`);
  const guest = readTgz(tgz('docker-terminal-guest'));
  const manifest = JSON.parse(guest.get('package/manifest.json'));
  for (const part of manifest.files.state.parts) assert.ok(guest.has(`package/${part.path}`), part.path);
  assert.equal(manifest.v86, JSON.parse(fs.readFileSync(path.join(repo, 'node_modules/v86/package.json'), 'utf8')).version);
  const sources = guest.get('package/SOURCES.md')?.toString() ?? '';
  for (const src of ['linux-signed-i386', 'busybox', 'docker.io', 'containerd', 'glibc', 'seabios']) assert.match(sources, new RegExp(`\\b${src}\\b`), `SOURCES.md lacks ${src}`);
  assert.match(sources, /https:\/\/snapshot\.debian\.org\/package\//);
  const licences = [...guest.keys()].filter((f) => f.startsWith('package/licenses/'));
  assert.ok(licences.length > 50, `${licences.length} licence files`);
  assert.ok(licences.some((f) => /linux-image/.test(f)) && licences.some((f) => /busybox/.test(f)));
});

test('a blog page with only the CDN script and <docker-terminal>: Start, ready, docker run prints hi', { timeout: 900_000 }, async () => {
  const cdn = await startCdn(releaseDir);
  servers.push(cdn);
  assert.ok([...fs.readdirSync(releaseDir)].filter((f) => f.endsWith('.tgz')).every((f) => fs.statSync(path.join(releaseDir, f)).size <= PACKAGE_LIMIT));
  const page = await blog(`<script type="module" src="${cdn.url}/npm/docker-terminal@${version}/dist/docker-terminal.js"></script>`);
  await expectHi(page);
  assert.ok(cdn.requests.some((r) => r.startsWith(`/npm/docker-terminal-guest@${version}/`)), 'the machine came from the guest package');
  assert.ok(cdn.requests.some((r) => r.startsWith(`/npm/docker-terminal-guest-disk-0@${version}/disk/`)), 'the disk came from the disk packages');
});

test('the same page under the Content-Security-Policy the README gives: nothing is blocked', { timeout: 900_000 }, async () => {
  const cdn = await startCdn(releaseDir);
  servers.push(cdn);
  const policy = `default-src 'self'; script-src ${cdn.url} 'wasm-unsafe-eval'; worker-src blob:; style-src 'unsafe-inline'; connect-src ${cdn.url}`;
  await expectHi(await blog(`<script type="module" src="${cdn.url}/npm/docker-terminal@${version}/dist/docker-terminal.js"></script>`, undefined, { 'Content-Security-Policy': policy }), { csp: true });
});

test('a site with the copy from npx docker-terminal copy works as it is', { timeout: 900_000 }, async () => {
  // As an author runs it: the command from the docker-terminal package, the machine from the tarballs.
  const pkg = path.join(tmp, 'pkg');
  for (const [name, data] of readTgz(tgz('docker-terminal'))) (fs.mkdirSync(path.dirname(path.join(pkg, name)), { recursive: true }), fs.writeFileSync(path.join(pkg, name), data));
  const site = path.join(tmp, 'site');
  execFileSync(process.execPath, [path.join(pkg, 'package/bin/docker-terminal.mjs'), 'copy', path.join(site, 'docker-terminal'), '--from', releaseDir], { stdio: 'inherit' });
  fs.writeFileSync(path.join(site, 'index.html'), '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A post</title><script type="module" src="/docker-terminal/docker-terminal.js"></script></head><body><docker-terminal></docker-terminal></body></html>');
  const s = await serve({ root: site });
  servers.push(s);
  await expectHi(s.url);
});

test('a Vite build of a page that imports the package, after the documented copy and setBasePath()', { timeout: 900_000 }, async () => {
  const app = path.join(tmp, 'vite-app');
  fs.mkdirSync(path.join(app, 'public'), { recursive: true });
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'blog', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tgz('docker-terminal')], { cwd: app, stdio: 'inherit' });
  fs.writeFileSync(path.join(app, 'index.html'), '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A post</title><script type="module" src="/main.js"></script></head><body><docker-terminal></docker-terminal></body></html>');
  fs.writeFileSync(path.join(app, 'main.js'), "import { setBasePath } from 'docker-terminal';\nsetBasePath('/docker-terminal/');\n");
  execFileSync(path.join(app, 'node_modules/.bin/docker-terminal'), ['copy', 'public/docker-terminal', '--from', releaseDir], { cwd: app, stdio: 'inherit' });
  execFileSync(process.execPath, [path.join(repo, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: app, stdio: 'inherit' });
  // Imported on a server (SSR) it does not throw. (Under Node, lit installs its DOM shim, whose
  // registry takes the definitions; nothing starts.)
  assert.equal(execFileSync(process.execPath, ['-e', "import('docker-terminal').then((m) => console.log(typeof m.DockerTerminal, typeof m.setBasePath))"], { cwd: app, encoding: 'utf8' }).trim(), 'function function');
  const s = await serve({ root: path.join(app, 'dist') });
  servers.push(s);
  await expectHi(s.url);
});

test('a disk chunk with one byte changed gives a clear notice that names it', { timeout: 900_000 }, async () => {
  const manifest = JSON.parse(readTgz(tgz('docker-terminal-guest')).get('package/manifest.json'));
  const disk = manifest.files.disk;
  const chunk = disk.prefetch.firstCommands[0];
  const name = `disk-${chunk * disk.chunkSize}-${(chunk + 1) * disk.chunkSize}.img.zst`;
  const cdn = await startCdn(releaseDir, {
    alter: (pkg, file, body) => {
      if (!file.endsWith(`/${name}`)) return undefined;
      const copy = Buffer.from(body);
      copy[copy.length >> 1] ^= 0xff;
      return copy;
    },
  });
  servers.push(cdn);
  const { page, state } = await start(await blog(`<script type="module" src="${cdn.url}/npm/docker-terminal@${version}/dist/docker-terminal.js"></script>`));
  assert.equal(state, 'ready');
  await page.waitForFunction(() => window.__events.some((e) => e.name === 'docker-terminal-error'), { timeout: 120_000 });
  const error = (await page.evaluate(() => window.__events)).find((e) => e.name === 'docker-terminal-error').detail;
  assert.equal(error.code, 'download-failed');
  assert.match(error.message, new RegExp(`${name.replace(/\./g, '\\.')}: its sha256 is not the one in the bundle`));
  const notice = await page.evaluate(() => document.querySelector('docker-terminal').shadowRoot.querySelector('[part=notice]')?.textContent);
  assert.match(notice ?? '', /could not be downloaded/);
  await page.close();
});

test('a state made with another v86 version is refused, before any download, with a clear error', { timeout: 300_000 }, async () => {
  const cdn = await startCdn(releaseDir, {
    alter: (pkg, file, body) => (pkg.startsWith('docker-terminal@') && file === 'dist/guest/manifest.json' ? Buffer.from(JSON.stringify({ ...JSON.parse(body), v86: '0.5.1' })) : undefined),
  });
  servers.push(cdn);
  const page = await browser.newPage();
  await page.goto(await blog(`<script type="module" src="${cdn.url}/npm/docker-terminal@${version}/dist/docker-terminal.js"></script>`), { waitUntil: 'load' });
  await page.waitForFunction(() => document.querySelector('docker-terminal')?.state === 'error', { timeout: 60_000 });
  const text = await page.evaluate(() => document.querySelector('docker-terminal').shadowRoot.querySelector('[part=error]').textContent);
  assert.match(text, /made with v86 0\.5\.1, and this docker-terminal runs v86 \S+, which cannot restore it/);
  assert.ok(!cdn.requests.some((r) => r.includes('state')), 'nothing of the state was downloaded');
  await page.close();
});
