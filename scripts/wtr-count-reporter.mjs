// A web-test-runner reporter that writes {passed, failed, skipped} to dist/test-results/<name>.json
// for the closing line of `npm test` (scripts/test.mjs). A session that ran no test counts as failed.
import fs from 'node:fs';

export function countReporter(name) {
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
      fs.writeFileSync(`dist/test-results/${name}.json`, JSON.stringify(c));
    },
  };
}
