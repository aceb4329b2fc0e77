import { TerminalError } from '../../boot/errors.js';
import type { BundleFile, Manifest } from '../../boot/manifest.js';

/**
 * The files of a `c2w --to-js` output folder, as the manifest beside it names them
 * (guest/c2w/manifest.mjs writes it):
 *   module     out.js: the Emscripten ES-module factory (QEMU built with -sEXPORT_ES6 -pthread)
 *   wasm       qemu-system-x86_64.wasm
 *   data       qemu-system-x86_64.data: kernel, root file system, BIOS and snapshot under /pack
 *   loader     load.js: Emscripten's file_packager loader for the data file
 *   arguments  arg-module.js: QEMU's command line
 *   worker     qemu-system-x86_64.worker.js: pthread worker script (Emscripten before 3.1.58 only)
 */
export const QEMU_FILES = ['module', 'wasm', 'data', 'loader', 'arguments'] as const;
export type QemuFileName = (typeof QEMU_FILES)[number] | 'worker';

export function qemuFiles(manifest: Manifest, where = 'manifest.json'): Record<QemuFileName, BundleFile | undefined> {
  const f = manifest.files;
  const missing = QEMU_FILES.filter((name) => !f[name]);
  if (missing.length)
    throw new TerminalError(
      'manifest-invalid',
      `${where} is for the qemu engine but does not list ${missing.map((m) => `files.${m}`).join(', ')}. Write it with guest/c2w/manifest.mjs beside the c2w --to-js output.`,
    );
  return { module: f.module, wasm: f.wasm, data: f.data, loader: f.loader, arguments: f.arguments, worker: f.worker };
}

const baseName = (path: string) => path.replace(/[?#].*$/, '').replace(/^.*\//, '');

/**
 * Emscripten asks `Module.locateFile(name)` for the names baked into out.js and load.js
 * (`qemu-system-x86_64.wasm`, `.worker.js`, `.data`). Left alone it resolves them against the
 * page (load.js) or against out.js, which breaks a bundle that lives on another path than the page
 * or whose files the manifest moved. Answer with the manifest's file of that name, else the name
 * in the bundle's folder.
 */
export function makeLocateFile(bundle: URL, files: Partial<Record<QemuFileName, BundleFile | undefined>>): (path: string, prefix?: string) => string {
  const byName = new Map<string, string>();
  for (const file of Object.values(files)) if (file) byName.set(baseName(file.path), new URL(file.path, bundle).href);
  return (path) => {
    if (/^(?:[a-z][a-z0-9+.-]*:|\/\/)/i.test(path)) return path; // data:, blob: or absolute already
    return byName.get(baseName(path)) ?? new URL(path, bundle).href;
  };
}

/**
 * pthread workers load the main script again; Emscripten takes its URL from
 * `Module.mainScriptUrlOrBlob` (else from a name relative to the worker, which c2w's renaming of
 * the output to out.js breaks). It must be absolute: a worker resolves relative URLs against itself.
 */
export function mainScriptUrl(bundle: URL, module: BundleFile): string {
  return new URL(module.path, bundle).href;
}
