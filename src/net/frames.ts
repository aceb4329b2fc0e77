/**
 * Ethernet II frames carrying IPv4/UDP, as the guest's network card sends and takes them: enough
 * to answer the guest's DNS in the tab. (v86's fake router handles ARP, DHCP and TCP itself.)
 */

export interface UdpDatagram {
  /** 6 bytes each. */
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  /** 4 bytes each. */
  srcIp: Uint8Array;
  dstIp: Uint8Array;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

const ETH_HEADER = 14;
const ETHERTYPE_IPV4 = 0x0800;
const PROTO_UDP = 17;
const UDP_HEADER = 8;

/**
 * The UDP datagram in an Ethernet II frame, or undefined for anything else: another ethertype or
 * protocol, an IP fragment (DNS over UDP fits in one frame; a fragment alone cannot be answered), a
 * truncated or malformed header. Every field is a copy: v86 may reuse the frame's buffer.
 */
export function parseUdp(frame: Uint8Array): UdpDatagram | undefined {
  if (frame.length < ETH_HEADER + 20) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint16(12) !== ETHERTYPE_IPV4) return undefined;
  const ip = ETH_HEADER;
  if (frame[ip] >> 4 !== 4) return undefined;
  const ihl = (frame[ip] & 0x0f) * 4;
  const total = view.getUint16(ip + 2);
  // (total, not the frame's length: a short frame is padded to Ethernet's 60 bytes)
  if (ihl < 20 || total < ihl + UDP_HEADER || ip + total > frame.length) return undefined;
  const fragment = view.getUint16(ip + 6);
  if (fragment & 0x2000 || fragment & 0x1fff) return undefined; // more fragments, or an offset
  if (frame[ip + 9] !== PROTO_UDP) return undefined;
  const udp = ip + ihl;
  const udpLength = view.getUint16(udp + 4);
  if (udpLength < UDP_HEADER || udpLength > total - ihl) return undefined;
  return {
    dstMac: frame.slice(0, 6),
    srcMac: frame.slice(6, 12),
    srcIp: frame.slice(ip + 12, ip + 16),
    dstIp: frame.slice(ip + 16, ip + 20),
    srcPort: view.getUint16(udp),
    dstPort: view.getUint16(udp + 2),
    payload: frame.slice(udp + UDP_HEADER, udp + udpLength),
  };
}

/**
 * An Ethernet II frame carrying d: IPv4 header of 20 bytes (don't-fragment, TTL 64, checksum),
 * UDP with its checksum over the pseudo-header. The payload must fit one frame (1472 bytes for an
 * MTU of 1500): nothing here fragments.
 */
export function udpFrame(d: UdpDatagram): Uint8Array {
  const udpLength = UDP_HEADER + d.payload.length;
  const total = 20 + udpLength;
  if (total > 0xffff) throw new RangeError(`a UDP payload of ${d.payload.length} bytes does not fit an IPv4 packet`);
  const frame = new Uint8Array(ETH_HEADER + total);
  const view = new DataView(frame.buffer);
  frame.set(d.dstMac.subarray(0, 6), 0);
  frame.set(d.srcMac.subarray(0, 6), 6);
  view.setUint16(12, ETHERTYPE_IPV4);

  const ip = ETH_HEADER;
  frame[ip] = 0x45; // version 4, 5 words of header
  view.setUint16(ip + 2, total);
  // (identification 0 with don't-fragment: RFC 6864 allows it for a datagram never fragmented)
  view.setUint16(ip + 6, 0x4000);
  frame[ip + 8] = 64;
  frame[ip + 9] = PROTO_UDP;
  frame.set(d.srcIp.subarray(0, 4), ip + 12);
  frame.set(d.dstIp.subarray(0, 4), ip + 16);
  view.setUint16(ip + 10, internetChecksum(frame.subarray(ip, ip + 20)));

  const udp = ip + 20;
  view.setUint16(udp, d.srcPort);
  view.setUint16(udp + 2, d.dstPort);
  view.setUint16(udp + 4, udpLength);
  frame.set(d.payload, udp + UDP_HEADER);
  const pseudo = new Uint8Array(12);
  pseudo.set(frame.subarray(ip + 12, ip + 20), 0);
  pseudo[9] = PROTO_UDP;
  new DataView(pseudo.buffer).setUint16(10, udpLength);
  const sum = internetChecksum(frame.subarray(udp, udp + udpLength), onesSum(pseudo));
  // (0 means "no checksum" in UDP over IPv4: a computed 0 is sent as its other form, 0xffff)
  view.setUint16(udp + 6, sum === 0 ? 0xffff : sum);
  return frame;
}

/** RFC 1071: the one's complement of the one's complement sum of the 16-bit words. */
export function internetChecksum(bytes: Uint8Array, initial = 0): number {
  return ~onesSum(bytes, initial) & 0xffff;
}

function onesSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (bytes.length & 1) sum += bytes[bytes.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}
