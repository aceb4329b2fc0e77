import { TerminalError } from '../boot/errors.js';

/**
 * Where the element's own files are: v86's wasm, and by default the machine bundle (`guest/`).
 * The entry module sets it to its own folder, which is right for a page that loads
 * docker-terminal.js from a CDN or from a copy of its folder. A bundler (Vite) moves the entry module
 * into its own output: then copy the files with `npx docker-terminal copy public/docker-terminal`
 * and call `setBasePath('/docker-terminal/')` right after the import (the elements peek at their
 * bundle in a microtask after they connect).
 */
let base: URL | undefined;
let entryFolder: URL | undefined;

/** Sets the folder (absolute, or relative to the page) that holds v86.wasm and guest/. */
export function setBasePath(url: string | URL): void {
  const next = new URL(url, globalThis.document?.baseURI);
  if (!next.pathname.endsWith('/')) next.pathname += '/';
  base = next;
}

/** The entry module's folder: the default. @internal */
export function setEntryFolder(url: URL): void {
  entryFolder = url;
}

/** The folder that holds v86.wasm and, unless `src` says otherwise, guest/. */
export function getBasePath(): URL {
  return base ?? entryFolder ?? new URL('./', import.meta.url);
}

/** The machine bundle's folder: `src` (relative to the page), or guest/ in the base path. */
export function bundleFolder(src: string | null): URL {
  const url = new URL(src ?? 'guest/', src ? document.baseURI : getBasePath());
  if (!/^(https?|file):$/.test(url.protocol))
    throw new TerminalError('invalid-attribute', `src="${src}" is not a folder this page can fetch: use an http(s) URL, or a path relative to the page.`);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}
