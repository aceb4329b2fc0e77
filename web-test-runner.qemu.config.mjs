// The qemu engine's tests in real headless Chromium (Debian's /usr/bin/chromium), on pages served
// cross-origin isolated, against a STAND-IN for a container2wasm QEMU-wasm bundle built with
// Debian's emscripten (test/qemu/standin). `npx wtr --config web-test-runner.qemu.config.mjs`.
import { chromeLauncher } from '@web/test-runner-chrome';
import { defaultReporter } from '@web/test-runner';
import { countReporter } from './scripts/wtr-count-reporter.mjs';
import { qemuBundles } from './test/qemu/serve.mjs';
import { CHROMIUM, CHROMIUM_ARGS } from './scripts/browser.mjs';

export default {
  files: ['test/qemu/**/*.test.js', 'test/qemu/**/*.test.html'],
  nodeResolve: true,
  concurrency: 1,
  browsers: [chromeLauncher({ launchOptions: { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS } })],
  middleware: [qemuBundles],
  reporters: [defaultReporter(), countReporter('wtr-qemu')],
  testFramework: { config: { timeout: 60_000 } },
  browserStartTimeout: 120_000,
  testsStartTimeout: 120_000,
  testsFinishTimeout: 10 * 60_000,
};
