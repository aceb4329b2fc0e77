import { TerminalError } from '../../boot/errors.js';

/**
 * Unpacks the saved state (zstd) in a worker of its own that ends afterwards, and hands v86 the raw
 * state. Left to v86, the unpacking happens inside the emulator's own wasm memory: the packed state
 * (34 MB) and zstd's window (64 MiB) are written there, and since a wasm memory never gives pages
 * back, they stay in the tab for the machine's whole life, about 100 MB per terminal. The worker
 * runs v86's own wasm, only for its zstd functions, so the format is the one v86 reads.
 */

/** The worker's whole program (it runs from a blob: a worker from another origin, the CDN, is refused). */
function stateWorker(): void {
  type Zstd = {
    memory: WebAssembly.Memory;
    zstd_create_ctx(length: number): number;
    zstd_get_src_ptr(ctx: number): number;
    zstd_read(ctx: number, length: number): number;
    zstd_read_free(ptr: number, length: number): void;
    zstd_free_ctx(ctx: number): void;
  };
  onmessage = async (e: MessageEvent<{ wasm: ArrayBuffer; packed: ArrayBuffer; rawSize: number }>) => {
    const { wasm, packed, rawSize } = e.data;
    try {
      const module = await WebAssembly.compile(wasm);
      // Every import of the emulator's wasm, as stubs: unpacking calls none of them.
      const env: WebAssembly.ModuleImports = {};
      for (const i of WebAssembly.Module.imports(module))
        env[i.name] =
          i.kind === 'table'
            ? new WebAssembly.Table({ element: 'anyfunc', initial: 1024 })
            : () => {
                throw new Error(`the emulator's ${i.name} was called while unpacking`);
              };
      const x = (await WebAssembly.instantiate(module, { env })).exports as unknown as Zstd;
      const ctx = x.zstd_create_ctx(packed.byteLength);
      new Uint8Array(x.memory.buffer).set(new Uint8Array(packed), x.zstd_get_src_ptr(ctx) >>> 0);
      const raw = new Uint8Array(rawSize);
      // (in MiB pieces, as v86 reads it: the worker's memory stays near the packed size plus the window)
      for (let have = 0; have < rawSize; ) {
        const n = Math.min(rawSize - have, 1 << 20);
        const ptr = x.zstd_read(ctx, n) >>> 0;
        raw.set(new Uint8Array(x.memory.buffer, ptr, n), have);
        x.zstd_read_free(ptr, n);
        have += n;
      }
      x.zstd_free_ctx(ctx);
      postMessage({ raw: raw.buffer }, { transfer: [raw.buffer] });
    } catch (err) {
      // (the packed state goes back: v86 unpacks it then)
      postMessage({ error: (err as Error)?.message ?? String(err), packed }, { transfer: [packed] });
    }
  };
}

/**
 * The state for v86: raw, or, if the worker could not unpack it, `packed` as it came (v86 unpacks
 * it then, at the memory cost above). `packed` is handed over: use only what this returns.
 */
export async function unpackState(wasm: ArrayBuffer, packed: ArrayBuffer, rawSize: number, signal: AbortSignal): Promise<ArrayBuffer> {
  const url = URL.createObjectURL(new Blob([`(${stateWorker.toString()})()`], { type: 'text/javascript' }));
  const worker = new Worker(url);
  URL.revokeObjectURL(url);
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<ArrayBuffer>((resolve, reject) => {
      // (taken off again below: the boot's signal outlives the start, and would keep this closure)
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      // (a page whose Content-Security-Policy refuses blob: workers; v86's disk needs them as well)
      worker.onerror = () =>
        reject(new TerminalError('engine-failed', "The browser did not start the worker that unpacks the machine's state. If the page sets a Content-Security-Policy, allow blob: in worker-src, then press Retry."));
      worker.onmessage = (e: MessageEvent<{ raw?: ArrayBuffer; error?: string; packed?: ArrayBuffer }>) => {
        if (e.data.raw) return resolve(e.data.raw);
        console.info(`docker-terminal: the saved state is unpacked by v86 itself (${e.data.error}), which keeps some 100 MB more memory`);
        resolve(e.data.packed!);
      };
      worker.postMessage({ wasm: wasm.slice(0), packed, rawSize }, [packed]);
    });
  } finally {
    worker.terminate();
    signal.removeEventListener('abort', onAbort!);
  }
}
