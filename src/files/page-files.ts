import { TerminalError } from '../boot/errors.js';

/**
 * Files the page puts in the reader's working directory (`~/work` in the guest): from child
 * `<script type="text/plain" data-path="…">` elements, the `files` property or writeFile().
 */
export interface PageFile {
  /** Relative to the working directory, `/`-separated, already checked. */
  path: string;
  data: Uint8Array;
  /** Permission bits, such as 0o755. */
  mode: number;
}

/** What `files` and writeFile() accept for a file's contents. */
export type FileData = string | Uint8Array | ArrayBuffer;
/** A value of the `files` property: the contents, or the contents and permission bits. */
export type FileEntry = FileData | { data: FileData; mode?: number | string };

export const WORKDIR = '~/work';
/** The emulator keeps files in the tab's memory: one file may take this much, all of them together MAX_TOTAL. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
export const MAX_TOTAL_BYTES = 256 * 1024 * 1024;
const DEFAULT_MODE = 0o644;

function invalid(message: string): TerminalError {
  return new TerminalError('invalid-file', message);
}

/** Checks a path given by the page and returns it normalised (no leading `./`). */
export function checkPath(path: unknown): string {
  if (typeof path !== 'string' || !path.trim()) throw invalid(`A file needs a path relative to the working directory (${WORKDIR}), such as "Dockerfile" or "app/index.html".`);
  if (path.startsWith('/') || path.startsWith('~'))
    throw invalid(`The file path "${path}" is absolute; give it relative to the working directory (${WORKDIR}), such as "${path.replace(/^[~/]+/, '').split('/').pop() || 'Dockerfile'}".`);
  const parts = path.replace(/^(\.\/)+/, '').split('/');
  if (parts.includes('..')) throw invalid(`The file path "${path}" leaves the working directory (${WORKDIR}) with "..": files from the page stay inside it.`);
  if (parts.some((p) => p === '' || p === '.')) throw invalid(`The file path "${path}" has an empty or "." part; write it like "app/index.html".`);
  if (/[\0\\]/.test(path)) throw invalid(`The file path "${path}" contains a backslash or NUL; use "/" between folders.`);
  if (parts.some((p) => new TextEncoder().encode(p).length > 255) || path.length > 1024) throw invalid(`The file path "${path.slice(0, 80)}…" is too long (at most 255 bytes a name, 1024 in all).`);
  return parts.join('/');
}

/** Permission bits from `data-mode="0755"`, a number, or nothing (0644). */
export function checkMode(mode: unknown, path: string): number {
  if (mode === undefined || mode === null || mode === '') return DEFAULT_MODE;
  if (typeof mode === 'number' && Number.isInteger(mode) && mode >= 0 && mode <= 0o777) return mode;
  if (typeof mode === 'string' && /^0?[0-7]{3}$/.test(mode.trim())) return parseInt(mode.trim(), 8);
  throw invalid(`The mode "${String(mode)}" of "${path}" is not a file mode: use octal permission bits such as "0644" or "0755".`);
}

export function toBytes(data: unknown, path: string): Uint8Array {
  let bytes: Uint8Array;
  if (typeof data === 'string') bytes = new TextEncoder().encode(data);
  else if (data instanceof Uint8Array) bytes = data;
  else if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
  else throw invalid(`The contents of "${path}" must be a string, a Uint8Array or an ArrayBuffer.`);
  if (bytes.byteLength > MAX_FILE_BYTES)
    throw invalid(`"${path}" is ${(bytes.byteLength / 2 ** 20).toFixed(0)} MiB; files from the page may be at most ${MAX_FILE_BYTES / 2 ** 20} MiB (they live in the tab's memory). Let the reader download big files inside the machine instead.`);
  return bytes;
}

export function pageFile(path: unknown, data: unknown, mode?: unknown): PageFile {
  const p = checkPath(path);
  return { path: p, data: toBytes(data, p), mode: checkMode(mode, p) };
}

/** Files from the `files` property: `{ "Dockerfile": "FROM busybox\n", "run.sh": { data, mode: 0o755 } }`. */
export function filesFromRecord(record: Record<string, FileEntry> | null | undefined): PageFile[] {
  if (record === null || record === undefined) return [];
  if (typeof record !== 'object' || Array.isArray(record)) throw invalid('The files property takes an object mapping paths to contents, such as { "Dockerfile": "FROM busybox\\n" }.');
  return Object.entries(record).map(([path, entry]) => {
    const isPlain = typeof entry === 'object' && entry !== null && !(entry instanceof Uint8Array) && !(entry instanceof ArrayBuffer);
    return isPlain ? pageFile(path, (entry as { data: FileData }).data, (entry as { mode?: unknown }).mode) : pageFile(path, entry);
  });
}

const RUNNABLE_TYPES = /^(|text\/javascript|module|application\/javascript|importmap|speculationrules)$/i;

/**
 * Files from the element's child `<script data-path>` elements. Their text is taken as written,
 * less the first line break and the indentation common to all lines, so they can be indented in HTML.
 */
export function filesFromScripts(host: Element): PageFile[] {
  return [...host.querySelectorAll<HTMLScriptElement>(':scope > script[data-path]')].map((script) => {
    const path = script.dataset.path ?? '';
    if (RUNNABLE_TYPES.test((script.getAttribute('type') ?? '').trim()))
      throw invalid(`The <script data-path="${path}"> would run as JavaScript: give it type="text/plain" so the browser leaves its text alone.`);
    return pageFile(path, dedent(script.textContent ?? ''), script.dataset.mode);
  });
}

export function dedent(text: string): string {
  const lines = text.replace(/^[ \t]*\r?\n/, '').replace(/\s+$/, '').split(/\r?\n/);
  const indents = lines.filter((l) => l.trim()).map((l) => /^[ \t]*/.exec(l)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  const body = lines.map((l) => l.slice(cut)).join('\n');
  return body ? body + '\n' : '';
}

/** The last of several entries for one path wins; all together must fit in MAX_TOTAL_BYTES. */
export function mergeFiles(...lists: PageFile[][]): PageFile[] {
  const byPath = new Map<string, PageFile>();
  for (const f of lists.flat()) byPath.set(f.path, f);
  const files = [...byPath.values()];
  const total = files.reduce((n, f) => n + f.data.byteLength, 0);
  if (total > MAX_TOTAL_BYTES) throw invalid(`The page's files add up to ${(total / 2 ** 20).toFixed(0)} MiB; at most ${MAX_TOTAL_BYTES / 2 ** 20} MiB fit in the tab's memory.`);
  return files;
}
