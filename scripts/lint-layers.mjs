// npm run lint:layers (part of npm test): the import rules of src/.
//  - No import circle (type-only imports count: a circle of types is still a knot to untie).
//  - Imports go down the layers, never back up:
//      the entry (src/docker-terminal.ts) → element/ → engines/ → boot/, protocol/, terminal/, files/
//    The bottom folders do not import each other's upper neighbours: boot/, protocol/, terminal/ and
//    files/ may import only each other and themselves.
//  - engines/engine.ts holds the engine interface alone: it imports no engine.
// Usage: node scripts/lint-layers.mjs [SRC_DIR]
// Reads every `import … from '…'`, `export … from '…'` and `import('…')` of src/**/*.ts as text.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.resolve(process.argv[2] ?? path.join(repo, 'src'));
const LAYER = { entry: 0, element: 1, engines: 2, boot: 3, protocol: 3, terminal: 3, files: 3, net: 3 };

function files(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/gm;
const rel = (f) => path.relative(src, f);
const layerOf = (f) => {
  const top = rel(f).split(path.sep)[0];
  return top.endsWith('.ts') ? 'entry' : top;
};

const graph = new Map();
const problems = [];
for (const file of files(src)) {
  const text = fs.readFileSync(file, 'utf8');
  const deps = [];
  for (const m of text.matchAll(IMPORT)) {
    const target = path.resolve(path.dirname(file), (m[1] ?? m[2]).replace(/\.js$/, '.ts'));
    if (!fs.existsSync(target)) {
      problems.push(`${rel(file)} imports ${m[1] ?? m[2]}, which is not in src/`);
      continue;
    }
    deps.push(target);
    const from = layerOf(file);
    const to = layerOf(target);
    if (!(from in LAYER) || !(to in LAYER)) problems.push(`${rel(file)} → ${rel(target)}: a folder with no layer (add it to scripts/lint-layers.mjs)`);
    else if (LAYER[to] < LAYER[from]) problems.push(`${rel(file)} imports ${rel(target)}: ${from}/ is below ${to}/`);
  }
  graph.set(file, deps);
}
for (const dep of graph.get(path.join(src, 'engines/engine.ts')) ?? [])
  if (layerOf(dep) === 'engines') problems.push(`engines/engine.ts imports ${rel(dep)}: the interface imports no engine`);

// Circles: a depth-first walk; a file met again while on the path closes one.
const state = new Map();
const stack = [];
function walk(file) {
  state.set(file, 'open');
  stack.push(file);
  for (const dep of graph.get(file) ?? []) {
    if (state.get(dep) === 'open') problems.push(`import circle: ${[...stack.slice(stack.indexOf(dep)), dep].map(rel).join(' → ')}`);
    else if (!state.has(dep)) walk(dep);
  }
  stack.pop();
  state.set(file, 'done');
}
for (const file of graph.keys()) if (!state.has(file)) walk(file);

if (problems.length) {
  console.error(`lint:layers: ${problems.length} problem${problems.length > 1 ? 's' : ''}\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`lint:layers: ${graph.size} files in src/, no import circle, every import goes down the layers`);
