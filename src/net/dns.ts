/**
 * The router's DNS, answered in the tab (RFC 1035). The guest's names are not resolved here: each
 * name gets an address from a reserved range (NamePool), and a connection to that address is handed
 * on with the name, so whatever relays it resolves the name itself.
 */

export interface DnsQuery {
  id: number;
  /** Lower-case, dotted, without the root's trailing dot ('' for the root). */
  name: string;
  type: number;
  class: number;
  /** The query's flags (RD is copied into the answer). */
  flags: number;
  /** The question section as sent (name, type, class), echoed in the answer with its case. */
  question: Uint8Array;
}

export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export const CLASS_IN = 1;

const HEADER = 12;
const FLAG_QR = 0x8000;
const FLAG_RD = 0x0100;
const FLAG_RA = 0x0080;
const RCODE_NXDOMAIN = 3;

/**
 * A standard query (QR 0, opcode 0) with one question, or undefined. Additional records (the EDNS
 * OPT record dig and resolvers add) are ignored; the answer carries none, which a resolver reads as
 * "no EDNS here" and goes on. Names whose labels hold a dot, a space or a non-ASCII byte are refused:
 * the name travels on as text.
 */
export function parseQuery(payload: Uint8Array): DnsQuery | undefined {
  if (payload.length < HEADER + 5) return undefined;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const flags = view.getUint16(2);
  if (flags & FLAG_QR || (flags >> 11) & 0x0f) return undefined;
  if (view.getUint16(4) !== 1 || view.getUint16(6) !== 0 || view.getUint16(8) !== 0) return undefined;
  const labels: string[] = [];
  let at = HEADER;
  let length = 0;
  for (;;) {
    if (at >= payload.length) return undefined;
    const n = payload[at++];
    if (n === 0) break;
    // (a compression pointer or a reserved label type: never in a query's only question)
    if (n > 63 || at + n > payload.length) return undefined;
    length += n + 1;
    if (length > 254) return undefined;
    let label = '';
    for (let i = at; i < at + n; i++) {
      const c = payload[i];
      if (c <= 0x20 || c >= 0x7f || c === 0x2e) return undefined;
      label += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
    }
    labels.push(label);
    at += n;
  }
  if (at + 4 > payload.length) return undefined;
  return {
    id: view.getUint16(0),
    name: labels.join('.'),
    type: view.getUint16(at),
    class: view.getUint16(at + 2),
    flags,
    question: payload.slice(HEADER, at + 4),
  };
}

export interface DnsAnswerOptions {
  /** Seconds a resolver may keep the A record (default 60). */
  ttl?: number;
}

/**
 * The answer to q: an A (class IN) query with an address gets one A record; an A query without one
 * NXDOMAIN; any other type NOERROR with no records (AAAA, HTTPS, …: "no such record", so a resolver
 * asks for A at once instead of waiting for a timeout).
 */
export function dnsAnswer(q: DnsQuery, address: Uint8Array | undefined, opts: DnsAnswerOptions = {}): Uint8Array {
  const isA = q.type === TYPE_A && q.class === CLASS_IN;
  const record = isA && address !== undefined;
  const out = new Uint8Array(HEADER + q.question.length + (record ? 16 : 0));
  const view = new DataView(out.buffer);
  view.setUint16(0, q.id);
  view.setUint16(2, FLAG_QR | FLAG_RA | (q.flags & FLAG_RD) | (isA && !record ? RCODE_NXDOMAIN : 0));
  view.setUint16(4, 1);
  view.setUint16(6, record ? 1 : 0);
  out.set(q.question, HEADER);
  if (record && address) {
    const at = HEADER + q.question.length;
    view.setUint16(at, 0xc000 | HEADER); // the name: a pointer to the question's
    view.setUint16(at + 2, TYPE_A);
    view.setUint16(at + 4, CLASS_IN);
    view.setUint32(at + 6, opts.ttl ?? 60);
    view.setUint16(at + 10, 4);
    out.set(address.subarray(0, 4), at + 12);
  }
  return out;
}

export interface NamePoolOptions {
  /** Names held at once; past it, the least recently used name's address goes to the new name. */
  capacity?: number;
}

/** 198.18.0.0/15 (RFC 2544: for benchmarks, never a real host), as a 32-bit number. */
const POOL_BASE = ((198 << 24) | (18 << 16)) >>> 0;
const POOL_SIZE = 1 << 17;

/**
 * Addresses for names, from 198.18.0.0/15: the same name keeps its address, the address gives the
 * name back. Asking for a name or by its address counts as a use.
 */
export class NamePool {
  private readonly capacity: number;
  /** name → address as a number; in order of last use, oldest first. */
  private readonly byName = new Map<string, number>();
  private readonly byAddress = new Map<number, string>();
  private next = 1; // (198.18.0.0 itself is left out: it reads as a network's address)

  constructor(opts: NamePoolOptions = {}) {
    this.capacity = Math.max(1, Math.min(opts.capacity ?? 65536, POOL_SIZE - 2));
  }

  /** Whether ip is in the pool's range (whether or not a name has it now). */
  static contains(ip: Uint8Array | string): boolean {
    const n = toNumber(ip);
    return n !== undefined && n >>> 17 === POOL_BASE >>> 17;
  }

  /** The name's address (4 bytes, a fresh copy); a name not seen before gets one. */
  addressOf(name: string): Uint8Array {
    const key = normalize(name);
    let n = this.byName.get(key);
    if (n !== undefined) {
      this.byName.delete(key);
    } else if (this.byName.size < this.capacity) {
      n = POOL_BASE + this.next++;
    } else {
      const [oldest, reused] = this.byName.entries().next().value as [string, number];
      this.byName.delete(oldest);
      n = reused;
    }
    this.byName.set(key, n);
    this.byAddress.set(n, key);
    return toBytes(n);
  }

  /** The name that has ip now, or undefined. */
  nameOf(ip: Uint8Array | string): string | undefined {
    const n = toNumber(ip);
    if (n === undefined) return undefined;
    const name = this.byAddress.get(n);
    if (name === undefined) return undefined;
    this.byName.delete(name);
    this.byName.set(name, n);
    return name;
  }

  get size(): number {
    return this.byName.size;
  }
}

const normalize = (name: string) => name.toLowerCase().replace(/\.$/, '');

function toNumber(ip: Uint8Array | string): number | undefined {
  const parts = typeof ip === 'string' ? ip.split('.').map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN)) : Array.from(ip);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

const toBytes = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
