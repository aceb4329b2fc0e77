// Component tests in real headless Chromium (Debian's /usr/bin/chromium) against the built
// dist/docker-terminal.js and the real machine bundle in dist/guest.
import fs from 'node:fs';
import { chromeLauncher } from '@web/test-runner-chrome';
import { defaultReporter } from '@web/test-runner';
import { bundleVariants } from './test/unit/bundle-variants.mjs';
import { CHROMIUM, CHROMIUM_ARGS } from './test/e2e/browser.mjs';

/** Writes {passed, failed, skipped} to dist/test-results/wtr.json for the closing line of npm test. */
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
      fs.writeFileSync('dist/test-results/wtr.json', JSON.stringify(c));
    },
  };
}

export default {
  files: 'test/unit/**/*.test.js',
  nodeResolve: true,
  // One emulator at a time: the machine has two cores.
  concurrency: 1,
  browsers: [chromeLauncher({ launchOptions: { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS } })],
  middleware: [bundleVariants],
  reporters: [defaultReporter(), countReporter()],
  testFramework: { config: { timeout: 600_000 } },
  browserStartTimeout: 120_000,
  testsStartTimeout: 120_000,
  testsFinishTimeout: 45 * 60_000,
};
