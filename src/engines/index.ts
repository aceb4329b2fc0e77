import type { Engine, EngineOptions } from './engine.js';

/** The engines, by the name the `engine` attribute and a bundle's manifest use. */
export type EngineName = 'v86' | 'qemu';
export const ENGINES: readonly EngineName[] = ['v86', 'qemu'];

/** Limits the element checks `cores` and `memory` against, per engine. */
export const ENGINE_LIMITS: Record<EngineName, { maxCores: number; minMemory: number; maxMemory: number }> = {
  // v86 emulates one 32-bit CPU; guest memory is a wasm32 allocation.
  v86: { maxCores: 1, minMemory: 128, maxMemory: 2048 },
  // QEMU-wasm: multi-threaded TCG; c2w's wasm32 heap is 3000 MiB including QEMU itself.
  qemu: { maxCores: 8, minMemory: 128, maxMemory: 2048 },
};

/** Loads an engine's code (its own chunk: nothing of it is in the element's entry module) and creates it. */
export async function loadEngine(name: EngineName, opts: EngineOptions): Promise<Engine> {
  if (name === 'qemu') {
    const { QemuEngine } = await import('./qemu/engine.js');
    return new QemuEngine(opts);
  }
  const { V86Engine } = await import('./v86/engine.js');
  return new V86Engine(opts);
}
