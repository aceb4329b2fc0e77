// Checks of the page's files (paths, modes, sizes, child scripts) before any machine starts:
// the module the element uses, in Chromium, with no emulator.
import { expect } from '@open-wc/testing';
import { checkPath, checkMode, dedent, filesFromScripts, filesFromRecord, mergeFiles, MAX_FILE_BYTES } from '../../dist/esm/files/page-files.js';

const code = (fn) => {
  try {
    fn();
  } catch (e) {
    return `${e.code}: ${e.message}`;
  }
  return 'no error';
};

describe('page files: paths, modes and sizes', () => {
  it('accepts paths inside the working directory and normalises ./', () => {
    expect(checkPath('Dockerfile')).to.equal('Dockerfile');
    expect(checkPath('./app/index.html')).to.equal('app/index.html');
    expect(checkPath('a b/c.d')).to.equal('a b/c.d');
  });

  it('refuses paths that leave the working directory, with a message that says what to write', () => {
    expect(code(() => checkPath('../etc/passwd'))).to.match(/^invalid-file: .*leaves the working directory \(~\/work\) with "\.\."/);
    expect(code(() => checkPath('app/../../x'))).to.match(/^invalid-file: .*leaves the working directory/);
    expect(code(() => checkPath('/etc/passwd'))).to.match(/^invalid-file: The file path "\/etc\/passwd" is absolute; .*such as "passwd"/);
    expect(code(() => checkPath('~/x'))).to.match(/^invalid-file: .*absolute/);
    expect(code(() => checkPath(''))).to.match(/^invalid-file: A file needs a path/);
    expect(code(() => checkPath('a//b'))).to.match(/^invalid-file: .*empty or "\." part/);
    expect(code(() => checkPath('a\\b'))).to.match(/^invalid-file: .*backslash/);
    expect(code(() => checkPath('x'.repeat(300)))).to.match(/^invalid-file: .*too long/);
  });

  it('reads octal modes and refuses others', () => {
    expect(checkMode(undefined, 'f')).to.equal(0o644);
    expect(checkMode('0755', 'f')).to.equal(0o755);
    expect(checkMode('600', 'f')).to.equal(0o600);
    expect(checkMode(0o700, 'f')).to.equal(0o700);
    expect(code(() => checkMode('rwx', 'run.sh'))).to.match(/^invalid-file: The mode "rwx" of "run.sh" is not a file mode/);
    expect(code(() => checkMode('0999', 'f'))).to.match(/not a file mode/);
    expect(code(() => checkMode(4096, 'f'))).to.match(/not a file mode/);
  });

  it('refuses absurd sizes, per file and in all', () => {
    const big = new Uint8Array(MAX_FILE_BYTES + 1);
    expect(code(() => filesFromRecord({ 'big.bin': big }))).to.match(/^invalid-file: "big.bin" is 64 MiB; files from the page may be at most 64 MiB/);
    const part = new Uint8Array(MAX_FILE_BYTES);
    expect(code(() => mergeFiles(filesFromRecord({ a: part, b: part, c: part, d: part, e: new Uint8Array(1) })))).to.match(/add up to 256 MiB; at most 256 MiB/);
    expect(code(() => filesFromRecord({ x: 42 }))).to.match(/must be a string, a Uint8Array or an ArrayBuffer/);
    expect(code(() => filesFromRecord(['Dockerfile']))).to.match(/takes an object mapping paths to contents/);
  });

  it('takes the files property as contents or { data, mode }; the last entry for a path wins', () => {
    const files = mergeFiles(filesFromRecord({ 'a.txt': 'one', 'run.sh': { data: '#!/bin/sh\n', mode: '0755' } }), filesFromRecord({ 'a.txt': new Uint8Array([50]) }));
    expect(files.map((f) => [f.path, [...f.data], f.mode])).to.deep.equal([
      ['a.txt', [50], 0o644],
      ['run.sh', [...new TextEncoder().encode('#!/bin/sh\n')], 0o755],
    ]);
  });
});

describe('page files: child scripts', () => {
  const host = (inner) => {
    const el = document.createElement('div');
    el.innerHTML = inner;
    return el;
  };

  it('takes text as written, less the first line break and the common indentation', () => {
    expect(dedent('\n    FROM busybox\n      RUN true\n\n    CMD ["sh"]\n  ')).to.equal('FROM busybox\n  RUN true\n\nCMD ["sh"]\n');
    const files = filesFromScripts(
      host(`<script type="text/plain" data-path="compose.yaml">
        services:
          web:
            image: busybox
      </script><script type="text/plain" data-path="run.sh" data-mode="0755">echo hi</script><p data-path="ignored">x</p>`),
    );
    expect(files.map((f) => [f.path, new TextDecoder().decode(f.data), f.mode])).to.deep.equal([
      ['compose.yaml', 'services:\n  web:\n    image: busybox\n', 0o644],
      ['run.sh', 'echo hi\n', 0o755],
    ]);
  });

  it('refuses a script the browser would run, and bad paths', () => {
    expect(code(() => filesFromScripts(host('<script data-path="Dockerfile"></script>')))).to.match(/^invalid-file: The <script data-path="Dockerfile"> would run as JavaScript: give it type="text\/plain"/);
    expect(code(() => filesFromScripts(host('<script type="module" data-path="x"></script>')))).to.match(/would run as JavaScript/);
    expect(code(() => filesFromScripts(host('<script type="text/plain" data-path="../x"></script>')))).to.match(/leaves the working directory/);
  });
});
