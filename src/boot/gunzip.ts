import { TerminalError } from './errors.js';

/**
 * Unpacks a gzip file of the bundle (the kernel: 15 MB flat, 7 MB as gzip) with the browser's own
 * DecompressionStream, so no decoder is downloaded.
 */
export async function gunzip(data: ArrayBuffer, url: URL | string): Promise<ArrayBuffer> {
  if (typeof DecompressionStream === 'undefined')
    throw new TerminalError(
      'engine-unavailable',
      `This browser cannot unpack ${url} (it has no DecompressionStream), which a cold boot needs. Use a current browser, or leave the memory attribute unset to start from the saved state.`,
    );
  try {
    return await new Response(new Blob([data]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
  } catch (e) {
    throw new TerminalError(
      'bundle-invalid',
      `${url} is not the gzip file the bundle's manifest says it is (${(e as Error).message}). Rebuild the bundle with \`npm run build:guest\`, or check that the server sends the file unchanged.`,
    );
  }
}
