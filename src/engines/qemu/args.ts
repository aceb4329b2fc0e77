import { TerminalError } from '../../boot/errors.js';

/**
 * QEMU's command line for a container2wasm bundle. `c2w --to-js` writes it into `arg-module.js` as
 * `Module['arguments'] = [ ...JSON array... ];` (from config/qemu/args-x86_64.json.template):
 * `-m 1024M`, `-accel tcg,tb-size=500,thread=multi`, `-smp 4,sockets=4`, and, for a bundle with a
 * pre-boot snapshot, `-incoming file:/pack/vm.state` first.
 */

/** Reads the argument list out of arg-module.js without running it. */
export function parseArgModule(text: string, where = 'arg-module.js'): string[] {
  const bad = (what: string) =>
    new TerminalError('bundle-invalid', `${where} is not the arg-module.js that \`c2w --to-js\` writes: ${what}. Copy the whole c2w output folder beside manifest.json.`);
  const m = /^\s*Module\s*\[\s*['"]arguments['"]\s*\]\s*=([\s\S]*?);?\s*$/.exec(text);
  if (!m) throw bad("it does not start with Module['arguments'] =");
  let args: unknown;
  try {
    args = JSON.parse(m[1]);
  } catch {
    throw bad('the value is not a JSON array');
  }
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) throw bad('the value is not a list of strings');
  return args as string[];
}

/** What the bundle's own command line fixes about the machine. */
export interface BundleMachine {
  /** MiB given with -m (QEMU's default, 128, when absent). */
  memory: number;
  /** CPUs given with -smp (1 when absent). */
  cores: number;
  /** The bundle restores a pre-boot snapshot (`-incoming file:...`). */
  snapshot: boolean;
}

const valueOf = (args: readonly string[], flag: string) => {
  const i = args.indexOf(flag);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : undefined;
};

/** `-m 1024M`, `-m 1G`, `-m size=1024M,slots=2`, `-m 512` (MiB). */
export function parseMemory(value: string): number | undefined {
  const m = /^(?:size=)?(\d+(?:\.\d+)?)([KMGT]?)i?B?(?:,|$)/i.exec(value.trim());
  if (!m) return undefined;
  const scale: Record<string, number> = { K: 1 / 1024, '': 1, M: 1, G: 1024, T: 1024 * 1024 };
  return Math.round(Number(m[1]) * scale[m[2].toUpperCase()]);
}

/** `-smp 4`, `-smp 4,sockets=4`, `-smp cpus=4,sockets=4`. */
export function parseCores(value: string): number | undefined {
  const first = value.split(',')[0];
  const m = /^(?:cpus=)?(\d+)$/.exec(first) ?? /(?:^|,)cpus=(\d+)/.exec(value);
  return m ? Number(m[1]) : undefined;
}

export function describeArgs(args: readonly string[]): BundleMachine {
  const m = valueOf(args, '-m');
  const smp = valueOf(args, '-smp');
  return {
    memory: (m && parseMemory(m)) || 128,
    cores: (smp && parseCores(smp)) || 1,
    snapshot: /^file:/.test(valueOf(args, '-incoming') ?? ''),
  };
}

export interface ArgumentPlan {
  /** The command line QEMU gets. */
  args: string[];
  /** The pre-boot snapshot is restored (the bundle has one and it fits the attributes). */
  fromSnapshot: boolean;
  /** Set when the bundle has a snapshot that cannot be used: why the machine boots from scratch. */
  coldBoot?: string;
}

/** Sets `flag value`, replacing the existing value, or appending the pair. */
function setFlag(args: string[], flag: string, value: string): void {
  const i = args.indexOf(flag);
  if (i >= 0 && i + 1 < args.length) args[i + 1] = value;
  else args.push(flag, value);
}

/**
 * The command line for `cores` and `memory`. A snapshot was taken with the bundle's -m and -smp, so
 * QEMU can only restore it with those: the element's settings decide (`restore`, from the
 * manifest, which c2w's manifest.mjs writes from these same arguments). Without it the -incoming
 * pair goes and the guest boots from scratch, which in QEMU-wasm takes minutes.
 */
export function planArguments(bundleArgs: readonly string[], want: { cores: number; memory: number; restore: boolean }): ArgumentPlan {
  const bundle = describeArgs(bundleArgs);
  const args = [...bundleArgs];
  let coldBoot: string | undefined;
  if (bundle.snapshot) {
    if (want.restore) return { args, fromSnapshot: true };
    const differs: string[] = [];
    if (want.memory !== bundle.memory) differs.push(`memory ${want.memory} MiB instead of ${bundle.memory}`);
    if (want.cores !== bundle.cores) differs.push(`${want.cores} cores instead of ${bundle.cores}`);
    const i = args.indexOf('-incoming');
    args.splice(i, 2);
    coldBoot = `This bundle's saved machine was taken with ${bundle.memory} MiB and ${bundle.cores} core${bundle.cores === 1 ? '' : 's'}; this page asks for ${differs.join(' and ') || 'a fresh boot'}, so the machine boots from scratch, which takes several minutes in QEMU-wasm.`;
  }
  setFlag(args, '-m', `${want.memory}M`);
  setFlag(args, '-smp', `${want.cores},sockets=${want.cores}`);
  // Multi-threaded TCG runs each virtual CPU on its own Web Worker; without it extra cores share one.
  const accel = args.indexOf('-accel');
  if (accel >= 0 && accel + 1 < args.length) {
    const opts = args[accel + 1].split(',').filter((o) => !o.startsWith('thread='));
    if (opts[0] !== 'tcg') throw new TerminalError('bundle-invalid', `The bundle's arguments select "-accel ${args[accel + 1]}"; QEMU-wasm only has tcg. Rebuild the bundle with c2w --to-js.`);
    args[accel + 1] = [...opts, 'thread=multi'].join(',');
  } else args.push('-accel', 'tcg,thread=multi');
  return { args, fromSnapshot: false, coldBoot };
}
