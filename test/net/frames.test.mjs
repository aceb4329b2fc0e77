// Ethernet/IPv4/UDP frames (src/net/frames.ts): built, parsed, and checked against checksums
// computed here independently (RFC 1071 with a 32-bit accumulator).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseUdp, udpFrame } from '../../dist/esm/net/frames.js';

const mac = (...b) => new Uint8Array(b);
const datagram = (payload) => ({
  srcMac: mac(0x52, 0x54, 0, 1, 2, 3),
  dstMac: mac(0x00, 0x22, 0x15, 0xaa, 0xbb, 0xcc),
  srcIp: new Uint8Array([192, 168, 86, 1]),
  dstIp: new Uint8Array([192, 168, 86, 100]),
  srcPort: 53,
  dstPort: 40123,
  payload,
});

/** The 16-bit one's complement sum of the words of the buffers, folded. */
function sum16(...buffers) {
  let s = 0;
  for (const b of buffers) for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) + (i + 1 < b.length ? b[i + 1] : 0);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return s;
}

test('a built frame has a valid IPv4 header and UDP checksum, and parses back to what was put in', () => {
  for (const size of [0, 1, 5, 64, 511]) {
    const payload = Uint8Array.from({ length: size }, (_, i) => (i * 37 + 11) & 0xff);
    const d = datagram(payload);
    const frame = udpFrame(d);
    assert.equal(frame.length, 14 + 20 + 8 + size);
    assert.deepEqual([frame[12], frame[13]], [0x08, 0x00]);
    const ip = frame.subarray(14, 34);
    assert.equal(ip[0], 0x45);
    assert.equal(ip[8], 64, 'TTL');
    assert.equal(ip[9], 17);
    assert.equal((ip[2] << 8) | ip[3], 28 + size);
    assert.equal(sum16(ip), 0xffff, 'the IPv4 header sums to all ones');
    const udp = frame.subarray(34);
    assert.equal((udp[4] << 8) | udp[5], 8 + size);
    assert.notEqual((udp[6] << 8) | udp[7], 0, 'a checksum is computed');
    const pseudo = new Uint8Array([...d.srcIp, ...d.dstIp, 0, 17, (8 + size) >> 8, (8 + size) & 0xff]);
    assert.equal(sum16(pseudo, udp), 0xffff, 'the UDP checksum covers the pseudo-header');
    assert.deepEqual(parseUdp(frame), d);
  }
});

test('a UDP checksum that computes to 0 is sent as 0xffff (0 means none)', () => {
  // The payload word that brings the sum to all ones: the checksum of the frame with a zero word.
  const probe = udpFrame(datagram(new Uint8Array(2)));
  const d = datagram(probe.subarray(40, 42).slice());
  const frame = udpFrame(d);
  assert.deepEqual([frame[40], frame[41]], [0xff, 0xff]);
  const pseudo = new Uint8Array([...d.srcIp, ...d.dstIp, 0, 17, 0, 10]);
  assert.equal(sum16(pseudo, frame.subarray(34)), 0xffff);
});

test('parsing honours the header length, drops Ethernet padding, and copies', () => {
  const frame = udpFrame(datagram(new Uint8Array([1, 2, 3])));
  // The same packet with 8 bytes of IP options (IHL 7) and padded to Ethernet's minimum plus junk.
  const withOptions = new Uint8Array(frame.length + 8 + 30).fill(0xee);
  withOptions.set(frame.subarray(0, 34), 0);
  withOptions[14] = 0x47;
  withOptions.set([1, 1, 1, 1, 1, 1, 1, 0], 34); // NOP options, end of list
  withOptions.set(frame.subarray(34), 42);
  const total = 20 + 8 + 8 + 3;
  withOptions[16] = total >> 8;
  withOptions[17] = total & 0xff;
  const d = parseUdp(withOptions);
  assert.ok(d);
  assert.deepEqual(Array.from(d.payload), [1, 2, 3]);
  assert.equal(d.srcPort, 53);
  withOptions.fill(0);
  assert.deepEqual(Array.from(d.payload), [1, 2, 3], 'the payload does not change with the frame');
  assert.deepEqual(Array.from(d.srcIp), [192, 168, 86, 1]);
});

test('a frame that is no whole IPv4/UDP datagram is left alone', () => {
  const good = udpFrame(datagram(new Uint8Array([9, 9, 9, 9])));
  assert.ok(parseUdp(good));
  const variant = (edit) => {
    const f = good.slice();
    edit(f);
    return parseUdp(f);
  };
  assert.equal(variant((f) => (f[23] = 6)), undefined, 'TCP');
  assert.equal(variant((f) => ((f[12] = 0x08), (f[13] = 0x06))), undefined, 'ARP');
  assert.equal(variant((f) => ((f[12] = 0x86), (f[13] = 0xdd))), undefined, 'IPv6');
  assert.equal(variant((f) => (f[20] |= 0x20)), undefined, 'more fragments');
  assert.equal(variant((f) => (f[21] = 0x10)), undefined, 'a later fragment');
  assert.equal(variant((f) => (f[14] = 0x44)), undefined, 'IHL below 5');
  assert.equal(variant((f) => (f[17] += 50)), undefined, 'total length past the frame');
  assert.equal(variant((f) => (f[39] = 200)), undefined, 'UDP length past the packet');
  assert.equal(parseUdp(good.subarray(0, 40)), undefined, 'truncated');
  assert.equal(parseUdp(new Uint8Array(0)), undefined);
  assert.ok(variant((f) => (f[20] = 0x40)), 'don\'t-fragment alone is fine');
});
