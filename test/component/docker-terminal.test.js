// Component tests of <docker-terminal> in real headless Chromium, against the built
// dist/docker-terminal.js and the real bundle (dist/guest, or variants of it served by
// test/component/bundle-variants.mjs). Machines that start here are real v86 guests.
import { fixture, html, expect, oneEvent, waitUntil } from '@open-wc/testing';
import { DockerTerminal } from '../../dist/docker-terminal.js';

const bundle = (variant) => `/__bundle/${variant}/`;
const part = (el, name) => el.shadowRoot.querySelector(`[part="${name}"]`);
const text = (el) => el.shadowRoot.textContent.replace(/\s+/g, ' ');
const resources = () => performance.getEntriesByType('resource').map((e) => e.name);
/** Disk chunks of a bundle variant the page has requested (resource timing: HTTP cache hits count too). */
const diskRequests = (variant) => resources().filter((u) => u.includes(`/__bundle/${variant}/disk/disk-`));
const requests = async () => (await fetch('/__requests')).json();

/** Waits for the element's error event and returns its detail. */
async function errorOf(template) {
  const el = await fixture(template);
  if (el.state !== 'error') await oneEvent(el, 'docker-terminal-error');
  await el.updateComplete;
  return { el, error: el.shadowRoot.querySelector('[part="error"]') };
}

async function startAndWaitReady(el) {
  const ready = oneEvent(el, 'docker-terminal-ready');
  part(el, 'start-button').click();
  const failed = oneEvent(el, 'docker-terminal-error').then((e) => {
    throw new Error(`${e.detail.code}: ${e.detail.message}`);
  });
  return Promise.race([ready, failed]);
}

describe('registration and attributes', () => {
  it('registers <docker-terminal> with typed properties', async () => {
    const el = await fixture(html`<docker-terminal src=${bundle('good')}></docker-terminal>`);
    expect(el).to.be.instanceOf(DockerTerminal);
    expect(customElements.get('docker-terminal')).to.equal(DockerTerminal);
    expect(el.state).to.equal('idle');
    expect(el.getAttribute('state')).to.equal('idle');
  });

  it('maps kebab-case attributes to properties', async () => {
    const el = await fixture(html`<docker-terminal src=${bundle('good')} containerd-timeout="42" screen-reader cores="1" memory="512" image="busybox" load="click"></docker-terminal>`);
    expect(el.containerdTimeout).to.equal('42');
    expect(el.screenReader).to.equal(true);
    expect(el.memory).to.equal('512');
    expect(el.image).to.equal('busybox');
  });
});

describe('poster and lazy loading', () => {
  it('shows a poster with a Start button and the download size from the manifest', async () => {
    const manifest = await (await fetch('/dist/guest/manifest.json')).json();
    const el = await fixture(html`<docker-terminal src=${bundle('good')}></docker-terminal>`);
    await waitUntil(() => /downloads [\d.]+ MB/.test(text(el)), 'download size shown');
    const f = manifest.files;
    const mb = ((f.bios.size + f.vgaBios.size + f.state.size) / 1e6).toFixed(0);
    expect(text(el)).to.contain(`downloads ${mb} MB`);
    expect(part(el, 'start-button').textContent.trim()).to.equal('Start');
    await expect(el).to.be.accessible();
  });

  it('requests no engine, terminal, wasm or machine files before start', async () => {
    // (The server's request log is shared by every test file: look only at what comes after this point.)
    const earlier = (await requests()).length;
    const el = await fixture(html`<docker-terminal src=${bundle('good')}></docker-terminal>`);
    await waitUntil(() => /downloads/.test(text(el)));
    await new Promise((r) => setTimeout(r, 500));
    const heavy = resources().filter((u) => /libv86|xterm|v86\.wasm|state\.bin|seabios|chunks\/v86/.test(u));
    expect(heavy).to.deep.equal([]);
    const files = (await requests()).slice(earlier).filter((r) => r.variant === 'good').map((r) => r.file);
    expect(files).to.include('manifest.json');
    expect(files.every((f) => f === 'manifest.json')).to.equal(true, files.join(','));
  });

  it('load="visible" starts when scrolled into view, not before', async () => {
    const wrapper = await fixture(html`<div><div style="height: 300vh"></div><docker-terminal load="visible" src=${bundle('missing-state')}></docker-terminal></div>`);
    const el = wrapper.querySelector('docker-terminal');
    await new Promise((r) => setTimeout(r, 500));
    expect(el.state).to.equal('idle');
    const started = oneEvent(el, 'docker-terminal-error');
    el.scrollIntoView();
    const e = await started;
    expect(e.detail.code).to.equal('download-failed');
  });

  it('load="eager" starts at once', async () => {
    const el = await fixture(html`<docker-terminal load="eager" src=${bundle('missing-state')}></docker-terminal>`);
    if (el.state !== 'error') await oneEvent(el, 'docker-terminal-error');
    expect(el.state).to.equal('error');
  });
});

describe('bad input gets a clear, visible error', () => {
  const cases = [
    ['cores="abc"', html`<docker-terminal load="eager" cores="abc" src=${bundle('good')}></docker-terminal>`, 'invalid-attribute', /cores="abc" is not a number.*exactly 1 core/],
    ['cores="0"', html`<docker-terminal load="eager" cores="0" src=${bundle('good')}></docker-terminal>`, 'invalid-attribute', /cores="0" must be a whole number of at least 1/],
    ['memory="lots"', html`<docker-terminal load="eager" memory="lots" src=${bundle('good')}></docker-terminal>`, 'invalid-attribute', /memory="lots" is not a number.*128 to 2048 MiB/],
    ['memory="64"', html`<docker-terminal load="eager" memory="64" src=${bundle('good')}></docker-terminal>`, 'invalid-attribute', /memory="64" is out of range.*128 to 2048 MiB for the v86 engine/],
    ['memory="99999"', html`<docker-terminal load="eager" memory="99999" src=${bundle('good')}></docker-terminal>`, 'invalid-attribute', /memory="99999" is out of range/],
    ['memory="0x200" (hexadecimal)', html`<docker-terminal load="eager" memory="0x200" src=${bundle('good')}></docker-terminal>`, 'invalid-attribute', /memory="0x200" is not a number.*MiB/],
    ['memory="5.12e2" (an exponent)', html`<docker-terminal load="eager" memory="5.12e2" src=${bundle('good')}></docker-terminal>`, 'invalid-attribute', /memory="5\.12e2" is not a number/],
    ['src="javascript:alert(1)"', html`<docker-terminal load="eager" src="javascript:alert(1)"></docker-terminal>`, 'invalid-attribute', /src="javascript:alert\(1\)" is not a folder this page can fetch: use an http\(s\) URL, or a path relative to the page/],
    ['engine="vmware"', html`<docker-terminal load="eager" engine="vmware" src=${bundle('good')}></docker-terminal>`, 'unknown-engine', /engine="vmware" is not an engine.*v86 or qemu/],
    ['engine="qemu" on a v86 bundle', html`<docker-terminal load="eager" engine="qemu" src=${bundle('good')}></docker-terminal>`, 'unknown-engine', /built for the v86 engine/],
    ['containerd-timeout="-5"', html`<docker-terminal load="eager" containerd-timeout="-5" src=${bundle('good')}></docker-terminal>`, 'invalid-attribute', /containerd-timeout="-5" must be a whole number of seconds/],
    ['load="sometimes"', html`<docker-terminal load="sometimes" src=${bundle('good')}></docker-terminal>`, 'invalid-attribute', /load="sometimes" is not one of click, visible, eager/],
    ['image="nginx"', html`<docker-terminal load="eager" image="nginx" src=${bundle('good')}></docker-terminal>`, 'unknown-image', /image="nginx" is not in this machine bundle.*add a registry attribute.*or a network attribute.*Images in the bundle: busybox/],
    ['image="x; rm -rf /"', html`<docker-terminal load="eager" image="x; rm -rf /" registry="/r/" src=${bundle('good')}></docker-terminal>`, 'unknown-image', /image="x; rm -rf \/" is not an image name: write one like nginx:alpine/],
    ['network="https://relay.example/"', html`<docker-terminal load="eager" network="https://relay.example/" src=${bundle('good')}></docker-terminal>`, 'invalid-attribute', /network="https:\/\/relay\.example\/" is not a Wisp relay's address: write wisps:\/\/relay\.example\//],
    ['network="relay"', html`<docker-terminal load="eager" network="relay" src=${bundle('good')}></docker-terminal>`, 'invalid-attribute', /network="relay" is not a Wisp relay's address/],
    ['registry="javascript:alert(1)"', html`<docker-terminal load="eager" registry="javascript:alert(1)" src=${bundle('good')}></docker-terminal>`, 'invalid-attribute', /registry="javascript:alert\(1\)" is not the address of a folder on a web site.*images add/],
    ['share with a network of its own', html`<docker-terminal load="eager" share="sh-host" network="wss://relay.example/"></docker-terminal>`, 'invalid-attribute', /"network" cannot be set here: set it on "sh-host", or remove share/],
    ['a src without a bundle', html`<docker-terminal load="eager" src=${bundle('missing')}></docker-terminal>`, 'manifest-missing', /No machine bundle at .*HTTP 404.*npm run build:guest/],
    ['a malformed manifest', html`<docker-terminal load="eager" src=${bundle('malformed')}></docker-terminal>`, 'manifest-invalid', /is not valid JSON/],
    ['a manifest of another format', html`<docker-terminal load="eager" src=${bundle('wrong-format')}></docker-terminal>`, 'manifest-invalid', /"format" is 7, this element reads format 1/],
    ['a manifest whose prefetch list names a chunk past the disk', html`<docker-terminal load="eager" src=${bundle('bad-prefetch')}></docker-terminal>`, 'manifest-invalid', /files\.disk\.prefetch must hold "boot" and "firstCommands" lists of chunk indexes below \d+/],
    ['a qemu bundle on a page without cross-origin isolation', html`<docker-terminal load="eager" src=${bundle('qemu')}></docker-terminal>`, 'not-isolated', /Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp.*#cross-origin-isolation/],
    ['a manifest with a compression the element cannot unpack', html`<docker-terminal load="eager" src=${bundle('bad-compression')}></docker-terminal>`, 'manifest-invalid', /files\.kernel\.compression must be "gzip" if given, not "brotli"/],
    ['a cold boot whose kernel is not the gzip file the manifest says', html`<docker-terminal load="eager" memory="384" src=${bundle('bad-kernel')}></docker-terminal>`, 'bundle-invalid', /seabios\.bin is not the gzip file the bundle's manifest says it is.*npm run build:guest/],
    ['a download that fails', html`<docker-terminal load="eager" src=${bundle('missing-state')}></docker-terminal>`, 'download-failed', /no-such-state\.bin\.zst failed \(HTTP 404\).*Retry/],
    ['a child script whose data-path leaves the working directory', html`<docker-terminal load="eager" src=${bundle('good')}><script type="text/plain" data-path="../etc/passwd">x</script></docker-terminal>`, 'invalid-file', /"\.\.\/etc\/passwd" leaves the working directory \(~\/work\)/],
    ['share naming no terminal', html`<docker-terminal load="eager" share="nowhere"></docker-terminal>`, 'invalid-attribute', /share="nowhere" names no element on this page\. Set share to the id of another <docker-terminal>/],
    ['share with a memory of its own', html`<docker-terminal load="eager" share="sh-host" memory="256"></docker-terminal>`, 'invalid-attribute', /"memory" cannot be set here: set it on "sh-host", or remove share/],
    ['a child script with data-path but no type', html`<docker-terminal load="eager" src=${bundle('good')}><script data-path="Dockerfile" type="">FROM busybox</script></docker-terminal>`, 'invalid-file', /would run as JavaScript: give it type="text\/plain"/],
  ];
  for (const [name, template, code, message] of cases) {
    it(name, async () => {
      const el = await fixture(template);
      const e = el.state === 'error' ? null : await oneEvent(el, 'docker-terminal-error');
      await el.updateComplete;
      expect(el.state).to.equal('error');
      if (e) {
        expect(e.detail.code).to.equal(code);
        expect(e.detail.message).to.match(message);
      }
      const shown = part(el, 'error');
      expect(shown, 'the error is shown in the element').to.exist;
      expect(shown.getAttribute('role')).to.equal('alert');
      expect(shown.textContent.replace(/\s+/g, ' ')).to.match(message);
      expect(part(el, 'retry-button')).to.exist;
      await expect(el).to.be.accessible();
    });
  }

  it('cores="4" on v86 says v86 is single-core and continues with 1', async () => {
    const el = await fixture(html`<docker-terminal cores="4" src=${bundle('slow')}></docker-terminal>`);
    const progress = oneEvent(el, 'docker-terminal-progress');
    part(el, 'start-button').click();
    await progress;
    await el.updateComplete;
    expect(el.state).to.equal('loading');
    expect(text(el)).to.contain('the v86 engine emulates a single CPU, so this machine runs with 1 core');
    await el.stop();
  });

  it('Retry after a failed download starts again', async () => {
    const el = await fixture(html`<docker-terminal load="eager" src=${bundle('missing-state')}></docker-terminal>`);
    if (el.state !== 'error') await oneEvent(el, 'docker-terminal-error');
    const before = (await requests()).filter((r) => r.variant === 'missing-state' && r.file === 'manifest.json').length;
    el.src = bundle('slow');
    await el.updateComplete;
    const progress = oneEvent(el, 'docker-terminal-progress');
    part(el, 'retry-button').click();
    await progress;
    expect(el.state).to.equal('loading');
    expect((await requests()).filter((r) => r.variant === 'missing-state' && r.file === 'manifest.json').length).to.equal(before);
    await el.stop();
    expect(el.state).to.equal('stopped');
  });

  it('a download cut off half way resumes with a Range request', async () => {
    const el = await fixture(html`<docker-terminal memory="512" src=${bundle('flaky')}></docker-terminal>`);
    const ready = startAndWaitReady(el);
    await ready;
    // (the state comes in parts: the first part's requests)
    const state = (await requests()).filter((r) => r.variant === 'flaky' && r.file === 'state.bin.zst.0');
    expect(state.length).to.be.at.least(2);
    expect(state[0].aborted, 'the first state response was cut').to.equal(true);
    expect(/^bytes=[1-9]\d*-$/.test(state[1].range ?? ''), `retry asked for the rest: ${state[1].range}`).to.equal(true);
    await el.stop();
  });
});

describe('start, progress, ready, run, stop', () => {
  it('poster → downloading → ready, then run() and stop()', async () => {
    const el = await fixture(html`<docker-terminal screen-reader src=${bundle('slow')}></docker-terminal>`);
    await waitUntil(() => /downloads/.test(text(el)));
    const progress = [];
    el.addEventListener('docker-terminal-progress', (e) => progress.push(e.detail));
    const ready = startAndWaitReady(el);
    await waitUntil(() => el.state === 'loading' && progress.length > 2, 'downloading', { timeout: 60_000 });
    await el.updateComplete;
    const bar = part(el, 'progress-bar');
    expect(Number(bar.getAttribute('value'))).to.be.greaterThan(0);
    expect(text(el)).to.match(/Downloading [\d.]+ (kB|MB) of [\d.]+ MB/);
    await expect(el).to.be.accessible();

    const { detail } = await ready;
    expect(detail.restored).to.equal(true);
    expect(el.state).to.equal('ready');
    expect(el.getAttribute('state')).to.equal('ready');
    const downloads = progress.filter((p) => p.stage === 'download');
    for (let i = 1; i < downloads.length; i++) expect(downloads[i].loaded).to.be.at.least(downloads[i - 1].loaded);
    expect(downloads.at(-1).loaded).to.equal(downloads.at(-1).total);
    expect(progress.at(-1)).to.include({ stage: 'ready' });

    const result = await el.run('echo hello from $(uname -m)');
    expect(result).to.deep.equal({ exitCode: 0, output: 'hello from i686' });
    const failing = await el.run('ls /nonexistent');
    expect(failing.exitCode).to.equal(2);
    expect(failing.output).to.contain('No such file or directory');
    // screen-reader: xterm keeps an accessible text tree of the screen.
    expect(el.shadowRoot.querySelector('.xterm-accessibility')).to.exist;
    await expect(el).to.be.accessible();

    const exit = oneEvent(el, 'docker-terminal-exit');
    await el.stop();
    expect((await exit).detail.reason).to.equal('stop');
    expect(el.state).to.equal('stopped');
    expect(part(el, 'terminal').children.length).to.equal(0);
    expect(part(el, 'start-button').textContent.trim()).to.equal('Start again');
    await expect(el).to.be.accessible();
  });

  it('after ready, fetches the disk chunks the first commands read, in the background and once each', async () => {
    const manifest = await (await fetch(`${bundle('good')}manifest.json`)).json();
    const list = manifest.files.disk.prefetch.firstCommands;
    expect(list.length, 'the bundle lists the chunks of the first commands').to.be.above(50);
    // Counted by resource timing, not the server's log: in a full run the browser's HTTP cache
    // answers for chunks earlier tests fetched, and the server never sees those requests.
    performance.clearResourceTimings();
    performance.setResourceTimingBufferSize(100_000);
    const chunkOf = (url) => Number(/\/disk\/disk-(\d+)-/.exec(url)[1]) / manifest.files.disk.chunkSize;
    const chunksRequested = () => diskRequests('good').map(chunkOf);
    const el = await fixture(html`<docker-terminal src=${bundle('good')}></docker-terminal>`);
    await startAndWaitReady(el);
    const atReady = chunksRequested();
    expect(atReady.filter((c) => list.includes(c)).length, 'few of them before ready').to.be.below(list.length / 4);
    // Nothing typed: the element fetches them by itself.
    let missing = list;
    await waitUntil(
      () => {
        const got = new Set(chunksRequested());
        missing = list.filter((c) => !got.has(c));
        return missing.length === 0;
      },
      'every listed chunk fetched',
      { timeout: 120_000, interval: 1000 },
    ).catch((e) => {
      throw new Error(`${e.message}: ${missing.length} of ${list.length} listed chunks were not fetched: ${missing.slice(0, 20).join(',')}`);
    });
    // Each once: the prefetch holds what it fetched until the guest reads it. (Later, a chunk read
    // long ago may be fetched again, from the browser's cache: the disk keeps only the last 32 MiB
    // it read, as the guest's own page cache holds the rest.)
    const fetched = chunksRequested();
    const twice = list.filter((c) => fetched.filter((x) => x === c).length > 1);
    expect(twice, 'listed chunks fetched twice').to.deep.equal([]);
    const r = await el.run('docker run --rm busybox echo hi');
    expect(r).to.deep.equal({ exitCode: 0, output: 'hi' });
    await el.stop();
  });

  /** The warm-up's log once it has ended (each command typed here would stop it): its rounds and last line. */
  async function warmLog(el) {
    let log;
    for (let i = 0; i < 60; i++) {
      log = (await el.run('cat /var/log/dt-warm.log 2>/dev/null')).output;
      if (/^(stopped|done)/m.test(log)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    return { log, rounds: (log.match(/^round \d+$/gm) ?? []).length, last: log.split('\n').pop() };
  }

  /** No container in Docker and no warm-up process left. */
  async function expectNothingLeftByWarmUp(el) {
    const r = await el.run('docker ps -aq | wc -l; pgrep -c -f "[d]t-warm"');
    expect(r.output).to.equal('0\n0');
  }

  it('after ready, the guest warms up for a first docker run, stops at once when the reader types, and leaves nothing Docker lists', async () => {
    const el = await fixture(html`<docker-terminal src=${bundle('good')}></docker-terminal>`);
    await startAndWaitReady(el);
    // Nothing typed for a while: the element asks the guest (guest/rootfs/usr/local/sbin/dt-warm),
    // whose rounds take about a second each in an idle tab. The first command typed stops them.
    await new Promise((r) => setTimeout(r, 4000));
    const { log, rounds, last } = await warmLog(el);
    expect(rounds, `rounds before the first key: ${log}`).to.be.within(1, 7);
    expect(last).to.equal(`stopped rounds=${rounds}`);
    await expectNothingLeftByWarmUp(el);
    await el.stop();
  });

  it('a command typed at once after ready stops the warm-up before or in its first round, and it says so', async () => {
    const el = await fixture(html`<docker-terminal src=${bundle('good')}></docker-terminal>`);
    await startAndWaitReady(el);
    // (typed as the ready event comes: warm and warm-stop reach the guest one right behind the other)
    const { log, rounds, last } = await warmLog(el);
    expect(rounds, log).to.be.at.most(1);
    expect(last).to.equal(`stopped rounds=${rounds}`);
    await expectNothingLeftByWarmUp(el);
    await el.stop();
  });

  it('with the browser set to save data, neither fetches ahead nor warms up after ready', async () => {
    const manifest = await (await fetch(`${bundle('good')}manifest.json`)).json();
    const list = manifest.files.disk.prefetch.firstCommands;
    // A small fake: the reader's "save data" setting, which headless Chromium has no switch for.
    Object.defineProperty(navigator, 'connection', { value: { saveData: true }, configurable: true });
    try {
      performance.clearResourceTimings();
      performance.setResourceTimingBufferSize(100_000);
      const el = await fixture(html`<docker-terminal src=${bundle('good')}></docker-terminal>`);
      await startAndWaitReady(el);
      const atReady = diskRequests('good').length;
      const r = await el.run('sleep 5; ls /var/log/dt-warm.log /run/dt-warm 2>&1 | grep -c "No such file"');
      expect(r.output, 'no warm-up log and no warm-up mark').to.equal('2');
      expect(diskRequests('good').length - atReady, 'chunks fetched after ready').to.be.below(list.length / 4);
      await el.stop();
    } finally {
      delete navigator.connection;
    }
  });

  it('shows the boot stages and the boot log on a cold boot (memory differs from the state)', async () => {
    const el = await fixture(html`<docker-terminal memory="384" src=${bundle('good')}></docker-terminal>`);
    const stages = [];
    el.addEventListener('docker-terminal-progress', (e) => e.detail.stage !== 'download' && stages.push(e.detail.stage));
    const ready = startAndWaitReady(el);
    await waitUntil(() => stages.includes('kernel'), 'kernel stage', { timeout: 300_000 });
    await el.updateComplete;
    expect(el.state).to.equal('booting');
    expect(text(el)).to.contain('differs from the 512 MiB the saved state was taken with, so the machine boots from scratch');
    expect(part(el, 'stages').querySelectorAll('li').length).to.equal(4);
    const toggle = [...el.shadowRoot.querySelectorAll('button')].find((b) => /boot log/.test(b.textContent));
    toggle.click();
    await el.updateComplete;
    expect(part(el, 'boot-log').textContent).to.contain('DT:STAGE kernel');
    await expect(el).to.be.accessible();
    await ready;
    expect(stages).to.deep.equal(['kernel', 'containerd', 'dockerd', 'ready']);
    const r = await el.run('free -m | awk "/Mem:/{print \\$2}"');
    expect(Number(r.output)).to.be.within(300, 384);
    await el.stop();
  });
});

describe('files from the page', () => {
  it('child scripts, the files property and writeFile() land in ~/work before the prompt; readFile() reads what the reader made', async () => {
    const el = await fixture(html`<docker-terminal src=${bundle('good')}>
      <script type="text/plain" data-path="Dockerfile">
        FROM busybox
        COPY app/ /app/
      </script>
      <script type="text/plain" data-path="app/index.html"><h1>hello</h1></script>
      <script type="text/plain" data-path="run.sh" data-mode="0755">echo ran as $(id -un)</script>
    </docker-terminal>`);
    el.files = { 'notes/readme.txt': 'from the property\n', 'bin.dat': { data: new Uint8Array([0, 1, 255]), mode: 0o600 } };
    await el.writeFile('early.txt', 'written before start\n');
    expect(el.state, 'writeFile before start does not start the machine').to.equal('idle');
    await startAndWaitReady(el);
    expect((await el.run('pwd')).output).to.equal('/root/work');
    expect((await el.run('cat Dockerfile')).output).to.equal('FROM busybox\nCOPY app/ /app/');
    expect((await el.run('cat app/index.html notes/readme.txt early.txt')).output).to.equal('<h1>hello</h1>\nfrom the property\nwritten before start');
    expect((await el.run('stat -c "%a %s %n" run.sh bin.dat Dockerfile')).output).to.equal('755 22 run.sh\n600 3 bin.dat\n644 29 Dockerfile');
    expect((await el.run('./run.sh')).output).to.equal('ran as root');

    // On a running machine: replaced in place, and new folders made.
    await el.writeFile('early.txt', 'replaced\n');
    await el.writeFile('deep/er/new.txt', 'new\n');
    expect((await el.run('cat early.txt deep/er/new.txt; ls | wc -l')).output).to.equal('replaced\nnew\n7');
    el.files = { 'notes/readme.txt': 'changed by the property' };
    await waitUntil(async () => (await el.run('cat notes/readme.txt')).output === 'changed by the property', 'the property was written again');

    await el.run('printf "made by the reader\\n" > out.txt; mkdir -p made && echo x > made/y');
    expect(await el.readFile('out.txt', { encoding: 'utf8' })).to.equal('made by the reader\n');
    expect([...(await el.readFile('bin.dat'))]).to.deep.equal([0, 1, 255]);
    expect(await el.readFile('made/y', { encoding: 'utf8' })).to.equal('x\n');

    const refused = async (p) => p.then(() => 'no error', (e) => `${e.code}: ${e.message}`);
    expect(await refused(el.readFile('nothing-here'))).to.match(/^file-not-found: There is no "nothing-here" in the working directory/);
    expect(await refused(el.writeFile('../escape', 'x'))).to.match(/^invalid-file: .*leaves the working directory/);
    expect(await refused(el.writeFile('app', 'x'))).to.match(/^invalid-file: Cannot write "app": it is a folder/);
    expect(await refused(el.writeFile('big', new Uint8Array(65 * 1024 * 1024)))).to.match(/^invalid-file: "big" is 65 MiB/);
    expect((await el.run('ls ../escape big 2>&1; true')).output).to.contain('No such file');
    await el.stop();
  });
});

describe('share: terminals on one machine', () => {
  it('a terminal that shares another\'s machine gets a shell of its own on it, and no download', async () => {
    // (Earlier tests filled the page's resource timing buffer: start from an empty, large one.)
    performance.clearResourceTimings();
    performance.setResourceTimingBufferSize(100_000);
    const statesBefore = 0;
    const wrapper = await fixture(html`<div>
      <docker-terminal id="main" src=${bundle('good')}></docker-terminal>
      <docker-terminal id="second" share="main"></docker-terminal>
      <docker-terminal id="third" share="main"></docker-terminal>
    </div>`);
    const [a, b, c] = wrapper.querySelectorAll('docker-terminal');
    await waitUntil(() => /shares the machine of “main”/.test(text(b)), 'the poster says it shares');
    await expect(b).to.be.accessible();
    // Starting the sharing terminal starts the machine it shares.
    await startAndWaitReady(b);
    expect(a.state).to.equal('ready');
    // One machine: one fetch of the saved state, whose first part stands for it (resource timing
    // counts it even from the HTTP cache).
    expect(resources().filter((u) => /state\.bin\.zst(\.0)?$/.test(u)).length - statesBefore, 'one saved state fetched').to.equal(1);
    // One machine: the same files and Docker; separate shells that do not wait for each other.
    await a.run('echo from-main > shared.txt');
    expect((await b.run('cat shared.txt; tty')).output).to.equal('from-main\n/dev/ttyS2');
    expect((await a.run('tty')).output).to.equal('/dev/ttyS0');
    const long = a.run('sleep 4; echo main-done');
    await waitUntil(() => a.busy, 'main is busy');
    expect((await b.run('echo meanwhile')).output).to.equal('meanwhile');
    expect(a.busy).to.equal(true);
    expect((await long).output).to.equal('main-done');
    expect((await b.run('docker run --rm busybox echo in-second')).output).to.equal('in-second');
    await b.writeFile('from-second.txt', 'page file\n');
    expect((await a.run('cat from-second.txt')).output).to.equal('page file');
    const rows = b.shadowRoot.querySelectorAll('.xterm-rows > div').length;
    expect((await b.run('stty size')).output).to.match(new RegExp(`^${rows} \\d+$`));
    // A third finds no free shell and says what to do.
    part(c, 'start-button').click();
    const full = await oneEvent(c, 'docker-terminal-error');
    expect(full.detail.code).to.equal('engine-in-use');
    expect(full.detail.message).to.match(/at most two terminals.*Stop one of them, or remove share/);
    // Stopping a sharing terminal frees its shell and leaves the machine running.
    await b.stop();
    expect(a.state).to.equal('ready');
    part(c, 'retry-button').click();
    await oneEvent(c, 'docker-terminal-ready');
    expect((await c.run('cat shared.txt; tty')).output).to.equal('from-main\n/dev/ttyS2');
    // Stopping the machine's own terminal stops the one that shares it.
    const exit = oneEvent(c, 'docker-terminal-exit');
    await a.stop();
    await exit;
    await waitUntil(() => c.state === 'stopped', 'the sharing terminal stopped');
    await expect(c).to.be.accessible();
  });
});

describe('image attribute', () => {
  it('starts the reader in the image; exiting it returns to the host shell', async () => {
    const el = await fixture(html`<docker-terminal image="busybox" src=${bundle('good')}></docker-terminal>`);
    await startAndWaitReady(el);
    const screen = () => [...el.shadowRoot.querySelectorAll('.xterm-rows > div')].map((r) => r.textContent).join('\n');
    await waitUntil(() => /docker run --rm -it busybox/.test(screen()), 'the docker run command was typed', { timeout: 30_000 });
    await waitUntil(() => /^\/ # /m.test(screen()), 'a busybox shell prompt', { timeout: 300_000, interval: 500 });
    await el.send('exit\r');
    const r = await el.run('echo back in $(hostname)');
    expect(r).to.deep.equal({ exitCode: 0, output: 'back in docker' });
    await el.stop();
  });
});

describe('cleanup and independence', () => {
  it('removing the element mid-download aborts the download and stops everything', async () => {
    const el = await fixture(html`<docker-terminal src=${bundle('slow')}></docker-terminal>`);
    const progress = oneEvent(el, 'docker-terminal-progress');
    part(el, 'start-button').click();
    await progress;
    const exit = oneEvent(el, 'docker-terminal-exit');
    el.remove();
    expect((await exit).detail.reason).to.equal('disconnect');
    await waitUntil(async () => (await requests()).some((r) => r.variant === 'slow' && r.file.startsWith('state') && r.aborted), 'the state download was aborted', { timeout: 10_000 });
    // (the state comes in parts: every part's transfer has ended, cut or done)
    await waitUntil(async () => (await requests()).filter((r) => r.variant === 'slow' && r.file.startsWith('state')).every((r) => r.aborted || r.complete), 'every part ended', { timeout: 10_000 });
    const count = resources().length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(resources().length, 'nothing was fetched after removal').to.equal(count);
  });

  it('removing the element mid-boot stops the emulator', async () => {
    const el = await fixture(html`<docker-terminal memory="384" src=${bundle('good')}></docker-terminal>`);
    const kernel = new Promise((resolve) => el.addEventListener('docker-terminal-progress', (e) => e.detail.stage === 'kernel' && resolve()));
    part(el, 'start-button').click();
    await kernel;
    const exit = oneEvent(el, 'docker-terminal-exit');
    el.remove();
    expect((await exit).detail.reason).to.equal('disconnect');
    // A running guest keeps reading disk chunks; a stopped one reads none.
    await new Promise((r) => setTimeout(r, 1000));
    const count = (await requests()).length;
    await new Promise((r) => setTimeout(r, 5000));
    expect((await requests()).length).to.equal(count);
  });

  it('two elements on one page run independent machines', async () => {
    const wrapper = await fixture(html`<div>
      <docker-terminal id="a" src=${bundle('good')}></docker-terminal>
      <docker-terminal id="b" src=${bundle('good')}></docker-terminal>
    </div>`);
    const [a, b] = wrapper.querySelectorAll('docker-terminal');
    await Promise.all([startAndWaitReady(a), startAndWaitReady(b)]);
    await a.run('echo only-in-a > /root/mark');
    const inA = await a.run('cat /root/mark');
    const inB = await b.run('cat /root/mark 2>&1; true');
    expect(inA.output).to.equal('only-in-a');
    expect(inB.output).to.contain('No such file');
    await a.stop();
    expect(a.state).to.equal('stopped');
    const still = await b.run('docker run --rm busybox echo b-still-runs');
    expect(still).to.deep.equal({ exitCode: 0, output: 'b-still-runs' });
    await b.stop();
  });
});
