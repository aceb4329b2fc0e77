// The router's DNS (src/net/dns.ts), fed queries laid out byte by byte as resolvers send them
// (RFC 1035 §4.1), and the answers read back field by field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dnsAnswer, NamePool, parseQuery } from '../../dist/esm/net/dns.js';

const u16 = (n) => [n >> 8, n & 0xff];
const qname = (name) => [...name.split('.').flatMap((l) => [l.length, ...Buffer.from(l, 'ascii')]), 0];

/** As glibc's resolver sends it: RD set, one question, no additional records. */
const glibcQuery = (id, name, type) => new Uint8Array([...u16(id), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...qname(name), ...u16(type), 0, 1]);

/** As dig sends it: RD and AD set, an EDNS OPT record (UDP size 1232) with a client cookie. */
const digQuery = (id, name, type) =>
  new Uint8Array([
    ...u16(id), 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1,
    ...qname(name), ...u16(type), 0, 1,
    0, 0, 41, ...u16(1232), 0, 0, 0, 0, 0, 12, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
  ]);

const view = (b) => new DataView(b.buffer, b.byteOffset, b.byteLength);

test('an A query from glibc for registry-1.docker.io is answered with one A record', () => {
  const query = glibcQuery(0xbeef, 'registry-1.docker.io', 1);
  const q = parseQuery(query);
  assert.equal(q.id, 0xbeef);
  assert.equal(q.name, 'registry-1.docker.io');
  assert.equal(q.type, 1);
  assert.equal(q.class, 1);
  assert.deepEqual(Array.from(q.question), Array.from(query.subarray(12)));

  const a = dnsAnswer(q, new Uint8Array([198, 18, 0, 7]));
  const v = view(a);
  assert.equal(v.getUint16(0), 0xbeef, 'id');
  const flags = v.getUint16(2);
  assert.equal(flags >> 15, 1, 'QR: a response');
  assert.equal((flags >> 11) & 0xf, 0, 'opcode QUERY');
  assert.equal((flags >> 8) & 1, 1, 'RD copied');
  assert.equal((flags >> 7) & 1, 1, 'RA');
  assert.equal((flags >> 9) & 1, 0, 'not truncated');
  assert.equal(flags & 0xf, 0, 'NOERROR');
  assert.deepEqual([v.getUint16(4), v.getUint16(6), v.getUint16(8), v.getUint16(10)], [1, 1, 0, 0], 'QD AN NS AR counts');
  const qEnd = 12 + q.question.length;
  assert.deepEqual(Array.from(a.subarray(12, qEnd)), Array.from(query.subarray(12)), 'the question echoed');
  assert.equal(v.getUint16(qEnd), 0xc00c, 'the answer names the question by a pointer to offset 12');
  assert.equal(v.getUint16(qEnd + 2), 1, 'TYPE A');
  assert.equal(v.getUint16(qEnd + 4), 1, 'CLASS IN');
  assert.equal(v.getUint32(qEnd + 6), 60, 'TTL');
  assert.equal(v.getUint16(qEnd + 10), 4, 'RDLENGTH');
  assert.deepEqual(Array.from(a.subarray(qEnd + 12)), [198, 18, 0, 7]);
  assert.equal(a.length, qEnd + 16);
  assert.equal(v.getUint32(qEnd + 6), 60);
  assert.equal(view(dnsAnswer(q, new Uint8Array([198, 18, 0, 7]), { ttl: 5 })).getUint32(qEnd + 6), 5);
});

test('a query from dig (EDNS, mixed case) parses; AAAA and HTTPS get NOERROR with no records', () => {
  for (const type of [28, 65]) {
    const query = digQuery(0x1234, 'Registry-1.Docker.IO', type);
    const q = parseQuery(query);
    assert.equal(q.name, 'registry-1.docker.io', 'lower-case');
    assert.equal(q.type, type);
    assert.equal(q.question.length, 22 + 4, 'the question only, not the OPT record');
    const a = dnsAnswer(q, new Uint8Array([198, 18, 0, 7]));
    const v = view(a);
    assert.equal(v.getUint16(0), 0x1234);
    assert.equal(v.getUint16(2), 0x8180, 'QR RD RA, NOERROR');
    assert.deepEqual([v.getUint16(4), v.getUint16(6), v.getUint16(8), v.getUint16(10)], [1, 0, 0, 0]);
    assert.equal(a.length, 12 + q.question.length);
    assert.equal(Buffer.from(a.subarray(12, 12 + q.question.length)).toString('latin1'), '\x0aRegistry-1\x06Docker\x02IO\x00\x00' + String.fromCharCode(type) + '\x00\x01', 'the question echoed with its case');
    assert.equal(dnsAnswer(q, undefined)[3] & 0xf, 0, 'NOERROR without an address too');
  }
});

test('an A query without an address is NXDOMAIN', () => {
  const q = parseQuery(glibcQuery(7, 'nowhere.example', 1));
  const a = dnsAnswer(q, undefined);
  const v = view(a);
  assert.equal(v.getUint16(0), 7);
  assert.equal(v.getUint16(2) & 0xf, 3, 'rcode NXDOMAIN');
  assert.equal(v.getUint16(2) >> 15, 1);
  assert.equal(v.getUint16(6), 0, 'no answers');
  const noRd = glibcQuery(8, 'nowhere.example', 1);
  noRd[2] = 0;
  assert.equal((view(dnsAnswer(parseQuery(noRd), undefined)).getUint16(2) >> 8) & 1, 0, 'RD is copied, not set');
});

test('what is no standard one-question query is refused', () => {
  const good = glibcQuery(1, 'a.b', 1);
  assert.ok(parseQuery(good));
  const variant = (edit) => {
    const b = good.slice();
    edit(b);
    return parseQuery(b);
  };
  assert.equal(variant((b) => (b[2] |= 0x80)), undefined, 'a response');
  assert.equal(variant((b) => (b[2] |= 0x28)), undefined, 'opcode 5 (UPDATE)');
  assert.equal(variant((b) => (b[5] = 2)), undefined, 'two questions');
  assert.equal(variant((b) => (b[7] = 1)), undefined, 'an answer in a query');
  assert.equal(variant((b) => (b[9] = 1)), undefined, 'an authority record in a query');
  assert.ok(variant((b) => (b[11] = 1)), 'an additional record (EDNS) is fine');
  assert.equal(variant((b) => (b[12] = 0xc0)), undefined, 'a compression pointer');
  assert.equal(variant((b) => (b[13] = 0x2e)), undefined, 'a dot inside a label');
  assert.equal(parseQuery(good.subarray(0, good.length - 2)), undefined, 'truncated');
  assert.equal(parseQuery(glibcQuery(1, 'x'.repeat(64), 1)), undefined, 'a label over 63 bytes');
  assert.equal(parseQuery(glibcQuery(1, Array(5).fill('x'.repeat(60)).join('.'), 1)), undefined, 'a name over 255 bytes');
});

test('the pool gives each name a stable address in 198.18.0.0/15, and the name back', () => {
  const pool = new NamePool();
  const a = pool.addressOf('registry-1.docker.io');
  const b = pool.addressOf('auth.docker.io');
  assert.deepEqual(Array.from(a), [198, 18, 0, 1]);
  assert.notDeepEqual(Array.from(a), Array.from(b));
  assert.deepEqual(pool.addressOf('Registry-1.Docker.io.'), a, 'case and the root dot do not matter');
  assert.equal(pool.nameOf(a), 'registry-1.docker.io');
  assert.equal(pool.nameOf(Array.from(b).join('.')), 'auth.docker.io', 'by dotted text too');
  assert.equal(pool.nameOf('198.18.7.7'), undefined);
  assert.equal(pool.nameOf('10.0.2.2'), undefined);
  assert.equal(pool.nameOf('not an ip'), undefined);
  a[3] = 99;
  assert.equal(pool.addressOf('registry-1.docker.io')[3], 1, 'the caller has a copy');
  assert.equal(pool.size, 2);
  assert.ok(NamePool.contains('198.19.255.254'));
  assert.ok(NamePool.contains(new Uint8Array([198, 18, 3, 4])));
  assert.ok(!NamePool.contains('198.20.0.1'));
  assert.ok(!NamePool.contains('198.17.255.255'));
});

test('past its capacity, the pool gives the least recently used name\'s address to the new one', () => {
  const pool = new NamePool({ capacity: 3 });
  const one = pool.addressOf('one');
  const two = pool.addressOf('two');
  const three = pool.addressOf('three');
  pool.addressOf('one'); // used again: now two is the oldest
  const four = pool.addressOf('four');
  assert.deepEqual(four, two);
  assert.equal(pool.nameOf(two), 'four');
  assert.equal(pool.size, 3);
  pool.nameOf(three); // a connection to three counts as a use: one is the oldest now
  const five = pool.addressOf('five');
  assert.deepEqual(five, one);
  assert.equal(pool.nameOf(three), 'three');
  const twoAgain = pool.addressOf('two'); // four is the oldest now (then three, five)
  assert.deepEqual(twoAgain, four);
  assert.equal(pool.nameOf(four), 'two');
  assert.deepEqual(pool.addressOf('three'), three, 'three kept its address');
  // And the default holds 65536 names at once, each with its own address.
  const big = new NamePool();
  const seen = new Set();
  for (let i = 0; i < 65536; i++) seen.add(Array.from(big.addressOf(`host-${i}.example`)).join('.'));
  assert.equal(seen.size, 65536);
  assert.ok([...seen].every((ip) => NamePool.contains(ip)));
  assert.equal(big.nameOf(Array.from(big.addressOf('host-0.example')).join('.')), 'host-0.example');
  assert.deepEqual(big.addressOf('one-more'), new Uint8Array([198, 18, 0, 2]), 'the oldest (host-1) gave up its address');
});
