// Bundles the tsc output (dist/esm) into dist/docker-terminal.js: a self-contained ES module with lit
// inside and no bare imports, plus lazily loaded chunks (xterm.js, the v86 engine) and v86's wasm.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

const require = createRequire(import.meta.url);
const v86Wasm = path.join(path.dirname(require.resolve('v86')), 'v86.wasm');

/** v86 loads its wasm at run time; ship it beside the entry module. */
function copyV86Wasm() {
  return {
    name: 'copy-v86-wasm',
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'v86.wasm', source: fs.readFileSync(v86Wasm) });
    },
  };
}

// Chunk names carry content hashes: clear the old ones so dist/ holds only what this build made.
fs.rmSync('dist/chunks', { recursive: true, force: true });

export default {
  input: 'dist/esm/docker-terminal.js',
  // libv86 reaches for node:fs only when it runs under Node.
  external: ['node:fs/promises', 'node:crypto'],
  // Let the lazy chunks import shared code from the entry instead of splitting it into a third file.
  preserveEntrySignatures: 'allow-extension',
  output: {
    dir: 'dist',
    format: 'es',
    entryFileNames: 'docker-terminal.js',
    // (each engine's entry is named engine.js in its folder: name its chunk by the folder)
    chunkFileNames: (chunk) => `chunks/${/\/engines\/(\w+)\/engine\.js$/.exec(chunk.facadeModuleId ?? '')?.[1] ?? '[name]'}-[hash].js`,
    sourcemap: true,
  },
  // (licence comments stay, as the bundled packages ask; the notices file has them all too)
  plugins: [resolve({ browser: true }), terser({ format: { comments: /@license|@preserve|^!/ } }), copyV86Wasm()],
  onwarn(warning, warn) {
    if (warning.code === 'EVAL' && warning.id?.includes('v86')) return;
    warn(warning);
  },
};
