// The qemu engine's tests in real headless Chromium (Debian's /usr/bin/chromium), on pages served
// cross-origin isolated, against a STAND-IN for a container2wasm QEMU-wasm bundle built with
// Debian's emscripten (test/qemu/standin). `npx wtr --config web-test-runner.qemu.config.mjs`.
import fs from 'node:fs';
import { chromeLauncher } from '@web/test-runner-chrome';
import { defaultReporter } from '@web/test-runner';
import { qemuBundles } from './test/qemu/serve.mjs';
import { CHROMIUM, CHROMIUM_ARGS } from './test/e2e/browser.mjs';

/** Writes {passed, failed, skipped} to dist/test-results/wtr-qemu.json for the closing line of npm test. */
function countReporter() {
  return {
    onTestRunFinished({ sessions }) {
      const c = { passed: 0, failed: 0, skipped: 0 };
      const walk = (suite) => {
        for (const t of suite?.tests ?? []) t.skipped ? c.skipped++ : t.passed ? c.passed++ : c.failed++;
        for (const s of suite?.suites ?? []) walk(s);
      };
      for (const s of sessions) {
        walk(s.testResults);
        if (!s.passed && !s.testResults?.tests?.length && !s.testResults?.suites?.length) c.failed++;
      }
      fs.mkdirSync('dist/test-results', { recursive: true });
      fs.writeFileSync('dist/test-results/wtr-qemu.json', JSON.stringify(c));
    },
  };
}

export default {
  files: ['test/qemu/**/*.test.js', 'test/qemu/**/*.test.html'],
  nodeResolve: true,
  concurrency: 1,
  browsers: [chromeLauncher({ launchOptions: { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS } })],
  middleware: [qemuBundles],
  reporters: [defaultReporter(), countReporter()],
  testFramework: { config: { timeout: 60_000 } },
  browserStartTimeout: 120_000,
  testsStartTimeout: 120_000,
  testsFinishTimeout: 10 * 60_000,
};
