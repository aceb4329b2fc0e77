// gunzip of bundle files (the kernel) with the browser's DecompressionStream.
import { expect } from '@open-wc/testing';
import { gunzip } from '../../dist/esm/boot/gunzip.js';

const gzip = async (bytes) => new Response(new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer();

describe('gunzip of bundle files', () => {
  it('gives back the bytes that were compressed', async () => {
    const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
    const out = new Uint8Array(await gunzip(await gzip(bytes), 'vmlinuz.gz'));
    expect(out.length).to.equal(bytes.length);
    expect(out.every((b, i) => b === bytes[i])).to.be.true;
  });

  it('says which file is not gzip, and how to fix it', async () => {
    const error = await gunzip(new Uint8Array([1, 2, 3, 4]).buffer, 'https://example.test/g/vmlinuz.gz').catch((e) => e);
    expect(error.code).to.equal('bundle-invalid');
    expect(error.message).to.match(/^https:\/\/example\.test\/g\/vmlinuz\.gz is not the gzip file the bundle's manifest says it is .*npm run build:guest/);
  });

  it('says what is missing in a browser without DecompressionStream', async () => {
    const saved = globalThis.DecompressionStream;
    try {
      globalThis.DecompressionStream = undefined;
      const error = await gunzip(await gzip(new Uint8Array(8)), 'vmlinuz.gz').catch((e) => e);
      expect(error.code).to.equal('engine-unavailable');
      expect(error.message).to.match(/cannot unpack vmlinuz\.gz \(it has no DecompressionStream\).*leave the memory attribute unset/);
    } finally {
      globalThis.DecompressionStream = saved;
    }
  });
});
