import { TerminalError } from '../boot/errors.js';
import type { Manifest } from '../boot/manifest.js';
import { ENGINES, ENGINE_LIMITS, type EngineName } from '../engines/index.js';
import { V86_VERSION } from '../engines/v86/version.js';

export type LoadMode = 'click' | 'visible' | 'eager';
export const LOAD_MODES: readonly LoadMode[] = ['click', 'visible', 'eager'];

/** The attributes as the page wrote them (strings or null). */
export interface RawSettings {
  engine: string | null;
  cores: string | null;
  memory: string | null;
  image: string | null;
  containerdTimeout: string | null;
  network?: string | null;
  registry?: string | null;
}

export interface Settings {
  engine: EngineName;
  cores: number;
  memory: number;
  image: string | null;
  containerdTimeout: number;
  /** A Wisp relay's WebSocket URL (ws: or wss:), or undefined: nothing leaves the tab. */
  network?: string;
  /** A read-only registry on a static host (docs/static-registry.md), or undefined. */
  registry?: URL;
  /**
   * Restore the bundle's saved machine (a v86 state, a qemu snapshot), or boot from scratch: only a
   * machine of the size it was saved with restores. Decided here, once, for the engines and the poster.
   */
  restore: boolean;
  /** Things the reader should know that do not stop the machine. */
  notes: string[];
}

export const DEFAULT_CONTAINERD_TIMEOUT = 600;

const bad = (message: string) => new TerminalError('invalid-attribute', message);

function number(raw: string, name: string, what: string): number {
  const value = Number(raw.trim());
  // (decimal only: Number() would also take "0x200" and "5.12e2")
  if (!/^[+-]?\d+(\.\d+)?$/.test(raw.trim()) || !Number.isFinite(value)) throw bad(`${name}="${raw}" is not a number: ${what}.`);
  return value;
}

export function checkLoadMode(raw: string | null): LoadMode {
  if (raw === null || raw === '') return 'click';
  if ((LOAD_MODES as readonly string[]).includes(raw)) return raw as LoadMode;
  throw bad(`load="${raw}" is not one of ${LOAD_MODES.join(', ')}.`);
}

export function checkEngine(raw: string | null, fallback: EngineName): EngineName {
  if (raw === null || raw === '') return fallback;
  if ((ENGINES as readonly string[]).includes(raw)) return raw as EngineName;
  throw new TerminalError('unknown-engine', `engine="${raw}" is not an engine this element knows; use ${ENGINES.join(' or ')}.`);
}

/** Checks every attribute against the engine and the bundle; throws a TerminalError that says what to write instead. */
export function resolveSettings(raw: RawSettings, manifest: Manifest): Settings {
  const engine = checkEngine(raw.engine, manifest.engine);
  if (engine !== manifest.engine)
    throw new TerminalError('unknown-engine', `engine="${engine}" cannot run this bundle, which was built for the ${manifest.engine} engine. Remove the engine attribute or point src at a ${engine} bundle.`);
  const limits = ENGINE_LIMITS[engine];
  const notes: string[] = [];

  // A qemu bundle's snapshot was taken with its own core count: keep it unless the page says otherwise.
  let cores = engine === 'qemu' ? Math.min(manifest.cores ?? 1, limits.maxCores) : 1;
  if (raw.cores !== null) {
    const range = limits.maxCores === 1 ? `the ${engine} engine runs exactly 1 core` : `the ${engine} engine runs 1 to ${limits.maxCores}`;
    cores = number(raw.cores, 'cores', `write a whole number (${range})`);
    if (!Number.isInteger(cores) || cores < 1)
      throw bad(`cores="${raw.cores}" must be a whole number of at least 1 (${range}).`);
    if (cores > limits.maxCores) {
      if (engine === 'v86') notes.push(`cores="${raw.cores}": the v86 engine emulates a single CPU, so this machine runs with 1 core.`);
      else throw bad(`cores="${raw.cores}" is more than the ${engine} engine runs; use 1 to ${limits.maxCores}.`);
      cores = limits.maxCores;
    }
  }

  let memory = manifest.memory;
  if (raw.memory !== null) {
    const range = `${limits.minMemory} to ${limits.maxMemory} MiB for the ${engine} engine`;
    memory = number(raw.memory, 'memory', `write the guest memory in MiB, ${range}`);
    if (!Number.isInteger(memory) || memory < limits.minMemory || memory > limits.maxMemory)
      throw bad(`memory="${raw.memory}" is out of range: use a whole number of MiB, ${range} (the saved state needs ${manifest.memory}).`);
    if (memory !== manifest.memory)
      notes.push(`memory="${memory}" differs from the ${manifest.memory} MiB the saved state was taken with, so the machine boots from scratch: this takes ${engine === 'qemu' ? 'several minutes' : 'about a minute'}.`);
  }

  let containerdTimeout = DEFAULT_CONTAINERD_TIMEOUT;
  if (raw.containerdTimeout !== null) {
    containerdTimeout = number(raw.containerdTimeout, 'containerd-timeout', 'write the seconds the guest waits for containerd, e.g. 600');
    if (!(containerdTimeout >= 1) || !Number.isInteger(containerdTimeout))
      throw bad(`containerd-timeout="${raw.containerdTimeout}" must be a whole number of seconds, at least 1.`);
  }

  const network = checkNetwork(raw.network ?? null);
  const registry = checkRegistry(raw.registry ?? null);
  const image = raw.image?.trim() || null;
  if (image !== null) {
    const bare = image.replace(/:latest$/, '');
    if (!/^[a-z0-9][a-z0-9._\/:@-]*$/.test(image) || /\s/.test(image))
      throw new TerminalError('unknown-image', `image="${image}" is not an image name: write one like nginx:alpine.`);
    // (an image the bundle lacks comes from the page's registry or through the relay: docker run pulls it, with progress)
    if (!manifest.images.includes(bare) && !network && !registry)
      throw new TerminalError('unknown-image', `image="${image}" is not in this machine bundle, and this terminal has no way to pull it: add a registry attribute (images on your site) or a network attribute (a Wisp relay). Images in the bundle: ${manifest.images.join(', ') || 'none'}.`);
  }
  const restore = restores(manifest, memory, cores);
  if (restore && engine === 'v86' && manifest.v86 !== undefined && manifest.v86 !== V86_VERSION)
    throw new TerminalError(
      'bundle-invalid',
      `This machine bundle's saved state was made with v86 ${manifest.v86}, and this docker-terminal runs v86 ${V86_VERSION}, which cannot restore it. Load the docker-terminal and docker-terminal-guest packages of one version (or rebuild the bundle with this element's npm run build:guest).`,
    );
  return { engine, cores, memory, image, containerdTimeout, restore, notes, network, registry };
}

const RELAY_SCHEMES: Record<string, string> = { 'wisp:': 'ws:', 'wisps:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' };

/** The network attribute: a Wisp relay's address, as the WebSocket URL to open. */
export function checkNetwork(raw: string | null): string | undefined {
  const text = raw?.trim();
  if (!text) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  const scheme = url && RELAY_SCHEMES[url.protocol];
  if (!url || !scheme)
    throw bad(`network="${raw}" is not a Wisp relay's address: write wisps://relay.example/ (or wss://, and wisp:// or ws:// for a relay on this machine).`);
  return scheme + text.slice(url.protocol.length);
}

/** The registry attribute: the folder of a static registry, relative to the page, ending with a slash. */
export function checkRegistry(raw: string | null): URL | undefined {
  const text = raw?.trim();
  if (!text) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(text, globalThis.document?.baseURI);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:'))
    throw bad(`registry="${raw}" is not the address of a folder on a web site: write one like https://blog.example/registry/ (made with npx docker-terminal images add).`);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  url.search = '';
  url.hash = '';
  return url;
}

/** Whether a machine of this size restores the bundle's saved one. */
export function restores(manifest: Manifest, memory: number, cores: number): boolean {
  if (manifest.engine === 'qemu') return !!manifest.snapshot && memory === manifest.memory && cores === (manifest.cores ?? 1);
  return !!manifest.files.state && memory === manifest.memory;
}
