// Controls for qemu-engine.test.js: the STAND-IN (test/qemu/standin, not QEMU) started by hand the
// way a c2w page starts QEMU-wasm, minus one part of the contract at a time, to show it really
// depends on what the engine sets up, so the engine's tests could fail.
import { expect, waitUntil } from '@open-wc/testing';

const requests = async () => (await fetch('/__qemu-requests', { cache: 'no-store' })).json();

/** Starts the stand-in from `bundle` with Module set up as `module`, like c2w's example page. */
async function startByHand(bundle, module) {
  const { openpty } = await import('xterm-pty');
  const { master, slave } = openpty();
  let output = '';
  master.activate({
    write: (data, done) => {
      output += typeof data === 'string' ? data : new TextDecoder().decode(data);
      done?.();
    },
    onData: () => ({ dispose() {} }),
    onBinary: () => ({ dispose() {} }),
    onResize: () => ({ dispose() {} }),
  });
  globalThis.Module = { pty: slave, preRun: [(mod) => mod.FS.writeFile('/pack/info', 't:1\n')], ...module };
  await new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = `${bundle}load.js`;
    s.onload = resolve;
    s.onerror = reject;
    document.head.append(s);
  });
  const argsText = await (await fetch(`${bundle}arg-module.js`)).text();
  globalThis.Module.arguments = JSON.parse(argsText.replace(/^[^=]*=/, '').replace(/;\s*$/, ''));
  const factory = (await import(`${bundle}out.js`)).default;
  const instance = factory(globalThis.Module);
  return { output: () => output, instance };
}

describe('the stand-in honours the c2w contract (controls)', () => {
  afterEach(() => delete globalThis.Module);

  it('with locateFile and mainScriptUrlOrBlob set, it starts and its cores come online', async () => {
    const bundle = new URL(`/__qemu/standin/control-${Date.now()}/`, location.href).href;
    const run = await startByHand(bundle, { locateFile: (p) => bundle + p, mainScriptUrlOrBlob: `${bundle}out.js` });
    await waitUntil(() => /STANDIN:CPU 1 online/.test(run.output()), 'cores online', { timeout: 20_000 });
    expect(run.output()).to.contain('STANDIN:FILE kernel /pack/bzImage 16');
  });

  it('without mainScriptUrlOrBlob its pthread worker asks for qemu-system-x86_64.js, which a c2w bundle does not have', async () => {
    const bundle = new URL(`/__qemu/standin/no-main-${Date.now()}/`, location.href).href;
    const run = await startByHand(bundle, { locateFile: (p) => bundle + p });
    const path = new URL(bundle).pathname;
    await waitUntil(async () => (await requests()).some((r) => r.path === `${path}qemu-system-x86_64.js`), 'the worker looks for the wrong script', { timeout: 20_000 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(run.output()).to.not.contain('STANDIN:CPU');
  });

  it('without locateFile load.js fetches the data file from the page\'s folder, not the bundle', async () => {
    const bundle = new URL(`/__qemu/standin/no-locate-${Date.now()}/`, location.href).href;
    const before = (await requests()).length;
    // load.js throws from its XHR callback when the data file is not found: expected here.
    const onerror = window.onerror;
    const thrown = [];
    window.onerror = (message) => thrown.push(String(message)) && true;
    try {
      await startByHand(bundle, { mainScriptUrlOrBlob: `${bundle}out.js` });
      await waitUntil(async () => (await requests()).slice(before).some((r) => r.path === '/qemu-system-x86_64.data'), 'data file asked for beside the page', { timeout: 20_000 });
      await waitUntil(() => thrown.length > 0, 'load.js gives up');
    } finally {
      window.onerror = onerror;
    }
    expect(thrown[0]).to.match(/Not Found.*\/qemu-system-x86_64\.data/);
  });
});
