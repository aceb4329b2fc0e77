// npm test: sets up what a fresh Debian machine lacks, builds, then runs every suite:
// component tests in Chromium (web-test-runner), the qemu engine's tests in Chromium on
// cross-origin isolated pages (against a stand-in built with Debian's emscripten, cached in
// ~/.cache/docker-terminal), the guest (and the qemu guest's entrypoint) under Node, and end to
// end in Chromium.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildElement, buildGuest, ensureDebianPackages, repo } from './setup.mjs';
import { buildStandin } from '../test/qemu/standin/build.mjs';

const started = Date.now();
// (docker-registry, skopeo, openssl: the real registry the network tests pull from)
ensureDebianPackages({ '/usr/bin/chromium': 'chromium', zstd: 'zstd', emcc: 'emscripten', 'docker-registry': 'docker-registry', skopeo: 'skopeo', openssl: 'openssl' });
buildElement();
// (the import rules of src/: no circle, imports go down the layers; before anything slow)
const layers = spawnSync(process.execPath, ['scripts/lint-layers.mjs'], { stdio: 'inherit', cwd: repo }).status;
buildGuest();
buildStandin();

const results = path.join(repo, 'dist/test-results');
fs.rmSync(results, { recursive: true, force: true });
fs.mkdirSync(results, { recursive: true });
const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit', cwd: repo }).status;

const wtr = run('npx', ['wtr']);
const wtrQemu = run('npx', ['wtr', '--config', 'web-test-runner.qemu.config.mjs']);
const node = run(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=./scripts/count-reporter.mjs', `--test-reporter-destination=${results}/node.json`, 'test/build/', 'test/images/', 'test/net/', 'test/support/', 'test/protocol/', 'test/engine/', 'test/qemu/c2w-init.test.mjs', 'test/guest/', 'test/e2e/', 'test/release/', 'test/docs/']);

const counts = ['wtr.json', 'node.json', 'wtr-qemu.json'].map((f) => {
  try {
    return JSON.parse(fs.readFileSync(path.join(results, f), 'utf8'));
  } catch {
    return { passed: 0, failed: 1, skipped: 0, note: `${f}: no results` };
  }
});
const sum = (k) => counts.reduce((n, c) => n + c[k], 0);
const failed = sum('failed') + (layers !== 0 ? 1 : 0) + (wtr !== 0 && counts[0].failed === 0 ? 1 : 0) + (node !== 0 && counts[1].failed === 0 ? 1 : 0) + (wtrQemu !== 0 && counts[2].failed === 0 ? 1 : 0);
console.log(`\ncomponent (Chromium): ${counts[0].passed} passed, ${counts[0].failed} failed; qemu engine on its stand-in (Chromium): ${counts[2].passed} passed, ${counts[2].failed} failed; guest + end-to-end (Node, Chromium): ${counts[1].passed} passed, ${counts[1].failed} failed; ${((Date.now() - started) / 60000).toFixed(1)} min`);
console.log(`${sum('passed')} passed, ${failed} failed, ${sum('skipped')} skipped`);
process.exit(layers === 0 && wtr === 0 && wtrQemu === 0 && node === 0 && failed === 0 ? 0 : 1);
