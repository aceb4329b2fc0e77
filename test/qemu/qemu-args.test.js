// The qemu engine's pure parts: QEMU's command line from a c2w arg-module.js with cores, memory
// and the snapshot decision; the /pack/info text; where bundle files are looked up. In Chromium
// against the built modules (dist/esm).
import { expect } from '@open-wc/testing';
import { parseArgModule, planArguments, describeArgs, parseMemory } from '../../dist/esm/engines/qemu/args.js';
import { packInfoText, guestPackInfo } from '../../dist/esm/engines/qemu/pack-info.js';
import { makeLocateFile, mainScriptUrl, qemuFiles } from '../../dist/esm/engines/qemu/bundle.js';
import { startBytes } from '../../dist/esm/boot/manifest.js';

// As c2w writes it for VM_MEMORY_SIZE_MB=1024 VM_CORE_NUMS=4 with QEMU_MIGRATION (a snapshot).
const C2W_ARG_MODULE = `Module['arguments'] =
[
    "-incoming", "file:/pack/vm.state",
    "-nographic", "-m", "1024M", "-accel", "tcg,tb-size=500,thread=multi", "-smp", "4,sockets=4",
    "-L", "/pack/",
    "-drive", "if=virtio,format=raw,file=/pack/rootfs.bin",
    "-kernel", "/pack/bzImage",
    "-append", "console=ttyS0,115200n8 root=/dev/vda rootwait ro QEMU_MODE=1 init=/sbin/tini -- /sbin/init"
]
;
`;
const SNAPSHOT = parseArgModule(C2W_ARG_MODULE);
const NO_SNAPSHOT = SNAPSHOT.slice(2);
const value = (args, flag) => args[args.indexOf(flag) + 1];

describe('arg-module.js', () => {
  it('reads the argument list c2w writes, without running it', () => {
    expect(SNAPSHOT.slice(0, 5)).to.deep.equal(['-incoming', 'file:/pack/vm.state', '-nographic', '-m', '1024M']);
    expect(describeArgs(SNAPSHOT)).to.deep.equal({ memory: 1024, cores: 4, snapshot: true });
    expect(describeArgs(NO_SNAPSHOT).snapshot).to.equal(false);
    expect(describeArgs([])).to.deep.equal({ memory: 128, cores: 1, snapshot: false });
  });

  it('reads -m in QEMU\'s forms', () => {
    expect(parseMemory('1024M')).to.equal(1024);
    expect(parseMemory('2G')).to.equal(2048);
    expect(parseMemory('512')).to.equal(512);
    expect(parseMemory('size=768M,slots=2')).to.equal(768);
    expect(parseMemory('lots')).to.equal(undefined);
  });

  it('rejects a file that is not an argument list, saying what it should be', () => {
    for (const text of ['alert(1)', "Module['arguments'] = {};", "Module['arguments'] = [1, 2];", "Module['arguments'] = [\"-m\", "]) {
      let error;
      try {
        parseArgModule(text, 'https://host/b/arg-module.js');
      } catch (e) {
        error = e;
      }
      expect(error?.code, text).to.equal('bundle-invalid');
      expect(error.message).to.match(/https:\/\/host\/b\/arg-module\.js.*c2w --to-js/);
    }
  });
});

describe('QEMU command line for cores and memory', () => {
  it('keeps a snapshot bundle\'s arguments as they are when cores and memory match it', () => {
    const plan = planArguments(SNAPSHOT, { cores: 4, memory: 1024, restore: true });
    expect(plan).to.deep.equal({ args: SNAPSHOT, fromSnapshot: true });
  });

  it('drops -incoming and cold-boots with the reader\'s memory when it differs, saying it takes minutes', () => {
    const plan = planArguments(SNAPSHOT, { cores: 4, memory: 2048, restore: false });
    expect(plan.fromSnapshot).to.equal(false);
    expect(plan.args).to.not.include('-incoming');
    expect(plan.args).to.not.include('file:/pack/vm.state');
    expect(value(plan.args, '-m')).to.equal('2048M');
    expect(plan.args.filter((a) => a === '-m')).to.have.length(1);
    expect(plan.coldBoot).to.match(/1024 MiB and 4 cores.*memory 2048 MiB instead of 1024.*boots from scratch.*minutes/);
    // Everything else stays.
    expect(value(plan.args, '-kernel')).to.equal('/pack/bzImage');
    expect(value(plan.args, '-append')).to.equal(value(SNAPSHOT, '-append'));
  });

  it('drops -incoming when the cores differ, and gives -smp N,sockets=N with multi-threaded TCG', () => {
    const plan = planArguments(SNAPSHOT, { cores: 2, memory: 1024, restore: false });
    expect(plan.args).to.not.include('-incoming');
    expect(value(plan.args, '-smp')).to.equal('2,sockets=2');
    expect(value(plan.args, '-accel')).to.equal('tcg,tb-size=500,thread=multi');
    expect(plan.coldBoot).to.match(/2 cores instead of 4/);
  });

  it('sets cores and memory on a bundle without a snapshot, with no cold-boot notice', () => {
    const plan = planArguments(NO_SNAPSHOT, { cores: 8, memory: 3072, restore: false });
    expect(plan.coldBoot).to.equal(undefined);
    expect(value(plan.args, '-smp')).to.equal('8,sockets=8');
    expect(value(plan.args, '-m')).to.equal('3072M');
    expect(plan.args.length).to.equal(NO_SNAPSHOT.length);
  });

  it('adds -smp, -m and -accel tcg,thread=multi where the bundle has none, and turns thread=single into multi', () => {
    const plan = planArguments(['-nographic', '-kernel', '/pack/bzImage'], { cores: 2, memory: 512, restore: false });
    expect(plan.args).to.deep.equal(['-nographic', '-kernel', '/pack/bzImage', '-m', '512M', '-smp', '2,sockets=2', '-accel', 'tcg,thread=multi']);
    const single = planArguments(['-accel', 'tcg,thread=single'], { cores: 2, memory: 512, restore: false });
    expect(value(single.args, '-accel')).to.equal('tcg,thread=multi');
  });

  it('refuses an accelerator QEMU-wasm does not have', () => {
    expect(() => planArguments(['-accel', 'kvm'], { cores: 1, memory: 512, restore: false })).to.throw(/only has tcg/);
  });
});

describe('/pack/info', () => {
  it('writes one setting per line in the format container2wasm\'s init reads', () => {
    const text = packInfoText({ time: 1764400000.7, env: { DT_CONTAINERD_TIMEOUT: '600', A: 'x y' }, mounts: ['/work'], entrypoint: '/usr/local/sbin/dt-c2w-init', command: ['docker', 'run', '--rm', 'busybox'] });
    expect(text).to.equal('t:1764400000\nenv:DT_CONTAINERD_TIMEOUT=600\nenv:A=x y\nm:/work\ne:/usr/local/sbin/dt-c2w-init\nc:docker run --rm busybox\n');
  });

  it('escapes spaces inside command words and newlines inside values as init expects', () => {
    expect(packInfoText({ command: ['sh', '-c', 'echo a b'] })).to.equal('c:sh -c echo\\ a\\ b\n');
    expect(packInfoText({ env: { MOTD: 'one\ntwo' } })).to.equal('env:MOTD=one\\\ntwo\n');
  });

  it('refuses what init would read differently', () => {
    expect(() => packInfoText({ env: { 'BAD NAME': '1' } })).to.throw(/not a valid environment variable name/);
    expect(() => packInfoText({ env: { A: 'ends in \\' } })).to.throw(/backslash/);
    expect(() => packInfoText({ command: ['a', ''] })).to.throw(/empty word/);
    expect(() => packInfoText({ entrypoint: ' ' })).to.throw(/entrypoint is empty/);
  });

  it('tells docker-terminal\'s guest the clock, the containerd timeout and the image', () => {
    expect(guestPackInfo({ now: 1764400000123, containerdTimeout: 42 })).to.deep.equal({ time: 1764400000.123, env: { DT_CONTAINERD_TIMEOUT: '42' } });
    const withImage = guestPackInfo({ now: 0, containerdTimeout: 600, image: 'busybox' });
    expect(packInfoText(withImage)).to.equal('t:0\nenv:DT_CONTAINERD_TIMEOUT=600\nc:busybox\n');
    const withEntrypoint = guestPackInfo({ now: 0, containerdTimeout: 600, image: 'busybox', entrypoint: '/init' });
    expect(packInfoText(withEntrypoint)).to.contain('e:/init\nc:busybox\n');
  });
});

describe('bundle files', () => {
  const files = {
    module: { path: 'out.js', size: 1 },
    wasm: { path: 'qemu-system-x86_64.wasm', size: 1 },
    data: { path: 'data/qemu-system-x86_64.data', size: 1 },
    loader: { path: 'load.js', size: 1 },
    arguments: { path: 'arg-module.js', size: 1 },
  };

  it('locateFile answers with the bundle\'s files, not the page\'s folder, wherever the bundle is', () => {
    const bundle = new URL('https://cdn.example/machines/x86/');
    const locate = makeLocateFile(bundle, files);
    expect(locate('qemu-system-x86_64.wasm', '')).to.equal('https://cdn.example/machines/x86/qemu-system-x86_64.wasm');
    expect(locate('qemu-system-x86_64.worker.js', 'https://page.example/')).to.equal('https://cdn.example/machines/x86/qemu-system-x86_64.worker.js');
    // A file the manifest moved is found by its name.
    expect(locate('qemu-system-x86_64.data', '')).to.equal('https://cdn.example/machines/x86/data/qemu-system-x86_64.data');
    expect(locate('blob:https://page.example/1234')).to.equal('blob:https://page.example/1234');
  });

  it('mainScriptUrlOrBlob is the absolute URL of out.js', () => {
    expect(mainScriptUrl(new URL('/b/c/', location.href), files.module)).to.equal(new URL('/b/c/out.js', location.href).href);
  });

  it('a qemu manifest must list the c2w output files', () => {
    expect(qemuFiles({ files }).module.path).to.equal('out.js');
    let error;
    try {
      qemuFiles({ files: { wasm: files.wasm } }, 'https://x/manifest.json');
    } catch (e) {
      error = e;
    }
    expect(error.code).to.equal('manifest-invalid');
    expect(error.message).to.match(/files\.module, files\.data, files\.loader, files\.arguments.*guest\/c2w\/manifest\.mjs/);
  });

  it('the poster counts every file of a qemu bundle as the start-up download', () => {
    expect(startBytes({ engine: 'qemu', files: { a: { path: 'a', size: 5 }, b: { path: 'b', size: 7 } } }, true)).to.equal(12);
  });
});
