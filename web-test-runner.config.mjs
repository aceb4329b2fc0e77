// Component tests in real headless Chromium (Debian's /usr/bin/chromium) against the built
// dist/docker-terminal.js and the real machine bundle in dist/guest.
import { chromeLauncher } from '@web/test-runner-chrome';
import { defaultReporter } from '@web/test-runner';
import { countReporter } from './scripts/wtr-count-reporter.mjs';
import { bundleVariants } from './test/component/bundle-variants.mjs';
import { CHROMIUM, CHROMIUM_ARGS } from './scripts/browser.mjs';

export default {
  files: 'test/component/**/*.test.js',
  nodeResolve: true,
  // One emulator at a time: the machine has two cores.
  concurrency: 1,
  browsers: [chromeLauncher({ launchOptions: { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS } })],
  middleware: [bundleVariants],
  reporters: [defaultReporter(), countReporter('wtr')],
  testFramework: { config: { timeout: 600_000 } },
  browserStartTimeout: 120_000,
  testsStartTimeout: 120_000,
  testsFinishTimeout: 45 * 60_000,
};
