// HTTP/1.1 over a byte stream (src/net/http.ts): requests as dockerd sends them to the tab, and
// responses as a web server in the guest sends them to the page, cut at every byte boundary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpParseError, RequestReader, requestBytes, ResponseReader, responseHead } from '../../dist/esm/net/http.js';

const bytes = (s) => new Uint8Array(Buffer.from(s, 'latin1'));
const text = (b) => Buffer.from(b).toString('latin1');

const PIPELINE =
  'GET /v2/ HTTP/1.1\r\nHost: 192.168.86.1:5000\r\nUser-Agent: docker/27.5.1 go/go1.22.11\r\nACCEPT: a\r\naccept: b\r\nX-Folded: one\r\n\ttwo\r\n\r\n' +
  'POST /upload?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world' +
  'PUT /chunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n' +
  '\r\nHEAD /v2/library/nginx/manifests/alpine HTTP/1.1\nHost: h\n\n' +
  'DELETE /x HTTP/1.0\r\nHost: h\r\nContent-Length: 0\r\n\r\n';

function expected() {
  return [
    { method: 'GET', target: '/v2/', version: 'HTTP/1.1', headers: { host: '192.168.86.1:5000', 'user-agent': 'docker/27.5.1 go/go1.22.11', accept: 'a, b', 'x-folded': 'one two' }, body: '' },
    { method: 'POST', target: '/upload?x=1', version: 'HTTP/1.1', headers: { host: 'h', 'content-length': '11' }, body: 'hello world' },
    { method: 'PUT', target: '/chunked', version: 'HTTP/1.1', headers: { host: 'h', 'transfer-encoding': 'chunked' }, body: 'hello world' },
    { method: 'HEAD', target: '/v2/library/nginx/manifests/alpine', version: 'HTTP/1.1', headers: { host: 'h' }, body: '' },
    { method: 'DELETE', target: '/x', version: 'HTTP/1.0', headers: { host: 'h', 'content-length': '0' }, body: '' },
  ];
}

function readAll(pieces) {
  const seen = [];
  const reader = new RequestReader((r) => seen.push({ ...r, body: text(r.body) }));
  for (const piece of pieces) reader.push(piece);
  return { seen, reader };
}

test('pipelined requests, in one piece: each with its headers and body', () => {
  const { seen, reader } = readAll([bytes(PIPELINE)]);
  assert.deepEqual(seen, expected());
  assert.ok(reader.idle);
});

test('the same requests cut at every byte boundary, and a byte at a time', () => {
  const all = bytes(PIPELINE);
  for (let i = 1; i < all.length; i++) {
    const { seen } = readAll([all.slice(0, i), all.slice(i)]);
    assert.deepEqual(seen, expected(), `cut at ${i}`);
  }
  for (let i = 1; i + 7 < all.length; i += 13) {
    const { seen } = readAll([all.slice(0, i), all.slice(i, i + 7), all.slice(i + 7)]);
    assert.deepEqual(seen, expected(), `cut at ${i} and ${i + 7}`);
  }
  const { seen, reader } = readAll(Array.from(all, (b) => new Uint8Array([b])));
  assert.deepEqual(seen, expected());
  assert.ok(reader.idle);
});

test('a request is passed on only once its body is in; the reader copies what it keeps', () => {
  const seen = [];
  const reader = new RequestReader((r) => seen.push(r));
  const chunk = bytes('POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab');
  reader.push(chunk);
  assert.equal(seen.length, 0);
  assert.ok(!reader.idle);
  chunk.fill(0); // (the caller's buffer, reused)
  reader.push(bytes('cd'));
  assert.equal(text(seen[0].body), 'abcd');
});

test('bytes that are no request throw an HttpParseError with the status to answer, and keep throwing', () => {
  const cases = [
    ['GET /\r\n\r\n', 400],
    ['GET / HTTP/2.0\r\n\r\n', 400],
    ['G(T / HTTP/1.1\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nno colon here\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nBad Name: x\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nContent-Length: 4, 5\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
    ['POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
    ['POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n', 400],
    ['POST / HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n', 413],
    ['GET / HTTP/1.1\r\nX: ' + 'a'.repeat(70000), 431],
  ];
  for (const [input, status] of cases) {
    const reader = new RequestReader(() => assert.fail(`no request in ${JSON.stringify(input.slice(0, 40))}`));
    assert.throws(() => reader.push(bytes(input)), (e) => e instanceof HttpParseError && e.status === status, input.slice(0, 40));
    assert.throws(() => reader.push(bytes('GET / HTTP/1.1\r\n\r\n')), HttpParseError);
  }
  // A chunked body's size over the limit is caught as it arrives.
  const reader = new RequestReader(() => assert.fail('too big'), { maxBodyBytes: 8 });
  assert.throws(() => reader.push(bytes('PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n123456789\r\n0\r\n\r\n')), (e) => e.status === 413);
});

test('responseHead: the status line, the headers, the blank line', () => {
  assert.equal(text(responseHead(200, undefined, { 'content-type': 'application/json', 'content-length': '2' })), 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n');
  assert.equal(text(responseHead(404, { a: 'b' })), 'HTTP/1.1 404 Not Found\r\na: b\r\n\r\n');
  assert.equal(text(responseHead(599, 'Odd')), 'HTTP/1.1 599 Odd\r\n\r\n');
  assert.equal(text(responseHead(299)), 'HTTP/1.1 299 \r\n\r\n');
  assert.throws(() => responseHead(200, undefined, { x: 'a\r\nSet-Cookie: y' }), TypeError);
  assert.throws(() => responseHead(200, undefined, { 'x y': 'a' }), TypeError);
  assert.throws(() => responseHead(42), RangeError);
});

test('requestBytes: Host from the URL, Connection: close, Content-Length with a body', () => {
  assert.equal(text(requestBytes('GET', 'http://localhost:8080/a/b?c=1#frag', { accept: 'text/html' })), 'GET /a/b?c=1 HTTP/1.1\r\nHost: localhost:8080\r\naccept: text/html\r\nConnection: close\r\n\r\n');
  assert.equal(text(requestBytes('GET', new URL('http://localhost/'))), 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  assert.equal(
    text(requestBytes('POST', 'http://10.0.2.15:3000/api', { 'content-type': 'text/plain', connection: 'keep-alive', 'Content-Length': '99', host: 'app.test' }, bytes('hi'))),
    'POST /api HTTP/1.1\r\ncontent-type: text/plain\r\nhost: app.test\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi',
  );
  assert.equal(text(requestBytes('PUT', 'http://h/x')), 'PUT /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  assert.throws(() => requestBytes('GET /evil', 'http://h/'), TypeError);
  assert.throws(() => requestBytes('GET', 'http://h/', { x: 'a\nb' }), TypeError);
});

/** Feeds a response in pieces and reads it whole: status, headers, body text. */
async function respond(pieces, { method, close = true } = {}) {
  const reader = new ResponseReader({ method });
  for (const p of pieces) reader.push(p);
  if (close) reader.end();
  const res = await reader.response;
  return { status: res.status, statusText: res.statusText, headers: res.headers, body: await new Response(res.body).text() };
}

const cuts = (s) => {
  const all = bytes(s);
  return [[all], ...Array.from({ length: all.length - 1 }, (_, i) => [all.slice(0, i + 1), all.slice(i + 1)]), Array.from(all, (b) => new Uint8Array([b]))];
};

test('a response by Content-Length, cut anywhere; bytes after it are not its body', async () => {
  for (const pieces of cuts('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello')) {
    const r = await respond(pieces, { close: false });
    assert.equal(r.status, 200);
    assert.equal(r.statusText, 'OK');
    assert.equal(r.headers.get('content-type'), 'text/plain');
    assert.equal(r.body, 'hello');
  }
  assert.equal((await respond([bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA')])).body, 'ok');
});

test('a chunked response, with extensions and trailers, cut anywhere', async () => {
  const wire = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n4;name=x\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n';
  for (const pieces of cuts(wire)) {
    const r = await respond(pieces, { close: false });
    assert.equal(r.body, 'Wikipedia in \r\n\r\nchunks.');
  }
  const r = await respond([bytes(wire)]);
  assert.deepEqual(r.headers.getSetCookie(), ['a=1', 'b=2']);
});

test('a response with neither length nor chunks ends at the close', async () => {
  for (const pieces of cuts('HTTP/1.0 200 OK\r\nServer: busybox\r\n\r\nuntil the end\n')) {
    const reader = new ResponseReader();
    for (const p of pieces) reader.push(p);
    const res = await reader.response;
    const body = new Response(res.body).text();
    let settled = false;
    body.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 1));
    assert.equal(settled, false, 'the body waits for the close');
    reader.end();
    assert.equal(await body, 'until the end\n');
  }
});

test('HEAD, 204 and 304 have no body whatever their headers say; 100 Continue is read past', async () => {
  const head = new ResponseReader({ method: 'head' });
  head.push(bytes('HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n'));
  const res = await head.response;
  assert.equal(res.headers.get('content-length'), '1234');
  assert.equal(await new Response(res.body).text(), '', 'ends without waiting for 1234 bytes or the close');
  for (const status of [204, 304]) {
    const reader = new ResponseReader();
    reader.push(bytes(`HTTP/1.1 ${status} X\r\nContent-Length: 10\r\n\r\n`));
    assert.equal(await new Response((await reader.response).body).text(), '');
  }
  const r = await respond([bytes('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok')], { close: false });
  assert.equal(r.status, 201);
  assert.equal(r.body, 'ok');
});

test('a connection that ends early: the response rejects, or its body errors', async () => {
  const none = new ResponseReader();
  none.push(bytes('HTTP/1.1 200 OK\r\nContent-Len'));
  none.end();
  await assert.rejects(none.response, /closed before a response/);

  const short = new ResponseReader();
  short.push(bytes('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  short.end();
  await assert.rejects(new Response((await short.response).body).text(), /after 3 of 10 bytes/);

  const chunked = new ResponseReader();
  chunked.push(bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n'));
  chunked.end();
  await assert.rejects(new Response((await chunked.response).body).text(), /chunked/);

  const garbage = new ResponseReader();
  garbage.push(bytes('SSH-2.0-OpenSSH_9.2\r\n\r\n'));
  await assert.rejects(garbage.response, /not an HTTP\/1.1 status line/);

  const reset = new ResponseReader();
  reset.push(bytes('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab'));
  const body = new Response((await reset.response).body).text();
  reset.fail(new Error('connection reset'));
  await assert.rejects(body, /connection reset/);
});

test('the body streams as it arrives, and cancelling it says so', async () => {
  let cancelled = 0;
  const reader = new ResponseReader({ onCancel: () => cancelled++ });
  reader.push(bytes('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nfirst'));
  const stream = (await reader.response).body.getReader();
  assert.equal(text((await stream.read()).value), 'first');
  const piece = bytes('second');
  reader.push(piece);
  piece.fill(0);
  assert.equal(text((await stream.read()).value), 'second', 'a copy, not the caller\'s buffer');
  await stream.cancel();
  assert.equal(cancelled, 1);
  reader.push(bytes('more')); // (ignored)
  reader.end();
});
