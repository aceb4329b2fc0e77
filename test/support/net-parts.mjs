// The real network parts an end-to-end test starts around a browser tab whose emulated machine
// pulls images, all on this machine's loopback:
//   startRelay()       the real Wisp server (@mercuryworkshop/wisp-js) the tab's network speaks to;
//                      it lets through only the test's own names (*.test -> 127.0.0.1)
//   startRegistry()    Debian's docker-registry (distribution 2.8), TLS with a throwaway CA
//   seedRegistry()     pushes an image archive into it with Debian's skopeo
//   startStaticServer() a plain static host on another origin (CORS *, nothing registry-like)
// Nothing here goes to the network: the relay never asks a real resolver and never connects
// anywhere but 127.0.0.1; the registry, the static server and the relay listen on 127.0.0.1.
import { spawn, execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { server as wisp, logging as wispLogging } from '@mercuryworkshop/wisp-js/server';

const run = promisify(execFile);

// wisp-js keeps its transport in ./server/net.mjs and does not export it. ServerConnection takes
// a `TCPSocket` class per connection (routeRequest passes its 4th argument through): that is the
// package's own hook for custom transports, and the one place where each allowed CONNECT's
// (hostname, port) and its socket pass by. The file is loaded by the URL the package's own
// entry point imports it by, so it is the same module instance, not a copy.
const { NodeTCPSocket } = await import(new URL('../server/net.mjs', import.meta.resolve('@mercuryworkshop/wisp-js/server')).href);

// wisp-js logs every connection and stream at INFO on the console. NET_PARTS_LOG=debug|info|warn
// shows them; by default only its errors.
const LOG_LEVELS = { debug: wispLogging.DEBUG, info: wispLogging.INFO, warn: wispLogging.WARN, error: wispLogging.ERROR, none: wispLogging.NONE };
wispLogging.set_level(LOG_LEVELS[process.env.NET_PARTS_LOG?.toLowerCase()] ?? wispLogging.ERROR);

// Everything started here is stopped at process exit too, should a test forget (children killed,
// temp dirs removed), also on SIGINT/SIGTERM/SIGHUP; and should this process be killed outright,
// each docker-registry has a watchdog (a shell reading a pipe from here) that stops it.
const children = new Set();
const tempDirs = new Set();
function cleanUpNow() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {}
  }
  children.clear();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}
process.on('exit', cleanUpNow);
let onSignals = false;
function cleanUpOnSignals() {
  if (onSignals) return;
  onSignals = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      cleanUpNow();
      // (then what the signal would have done, unless someone else handles it)
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

function removeDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

function listen(server, port = 0) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

/* ------------------------------------------------------------------------------------------ */
/* The relay                                                                                   */
/* ------------------------------------------------------------------------------------------ */

// wisp-js's policy lives in ONE module-global object (wisp.options), read by its filter
// (filter.mjs: is_stream_allowed) and its resolver (net.mjs: lookup_ip), not per server. The
// relays running in this process therefore share it: it is set while at least one runs (the
// union of their test names) and the previous values are put back when the last one stops. Each
// relay's own TCPSocket class checks its own names again before connecting.
const relays = new Set();
let savedOptions = null;

function applyPolicy() {
  const o = wisp.options;
  if (relays.size === 0) {
    if (savedOptions) Object.assign(o, savedOptions);
    savedOptions = null;
    return;
  }
  if (!savedOptions) {
    savedOptions = {};
    for (const k of ['hostname_whitelist', 'hostname_blacklist', 'allow_direct_ip', 'allow_private_ips', 'allow_loopback_ips', 'allow_udp_streams', 'allow_tcp_streams', 'dns_method', 'dns_ttl']) savedOptions[k] = o[k];
  }
  // The filter, in its order: the hostname whitelist first (documented: "only matches will be
  // allowed through"), so 127.0.0.1, localhost, example.com... are refused (close reason 0x48,
  // HostBlocked) before any lookup. Then raw IPs: allow_direct_ip false refuses any IP literal
  // even if a pattern would match it.
  o.hostname_whitelist = [...relays].map((r) => r.pattern);
  o.hostname_blacklist = null;
  o.allow_direct_ip = false;
  // Then the resolved address: loopback must be allowed, since the test names resolve to
  // 127.0.0.1, and only the test names get that far. Private ranges stay blocked.
  o.allow_loopback_ips = true;
  o.allow_private_ips = false;
  o.allow_tcp_streams = true;
  o.allow_udp_streams = false; // (nor is the UDP extension offered in the v2 handshake then)
  // The documented DNS hook: dns_method may be "a custom async function, which takes the
  // hostname as its only argument and returns the resolved IP address". Both the filter and the
  // socket's connect() resolve through it, so no system resolver is ever asked.
  o.dns_method = async (hostname) => {
    for (const r of relays) if (r.allows(hostname)) return '127.0.0.1';
    throw Object.assign(new Error(`net-parts relay: ${hostname} is not a test name`), { code: 'ENOTFOUND' });
  };
  // wisp-js caches lookups (errors too) per hostname in a module-global map; its TTL is compared
  // with milliseconds although documented in seconds. 0: no stale answer across relays.
  o.dns_ttl = 0;
}

function plainPattern(re) {
  if (!(re instanceof RegExp)) throw new TypeError('startRelay: testNames must be a RegExp');
  // (no g/y flag: RegExp#test would then keep state between calls)
  return new RegExp(re.source, re.flags.replace(/[gy]/g, ''));
}

/**
 * Starts the real Wisp server of @mercuryworkshop/wisp-js on ws://127.0.0.1:PORT/ (`port`: a
 * given one, e.g. a stopped relay's to start it again; by default a free one).
 * Names matching `testNames` resolve to 127.0.0.1 and may be reached (any port); every other
 * name, and every IP literal (127.0.0.1 included), is refused by the relay.
 * `connections`: one entry per CONNECT the relay received, in order:
 *   { hostname, port, type: 'tcp'|'udp', status }, status being 'pending' (being checked),
 *   'refused' (by the relay's policy, close reason 0x48 to the client), 'connecting', 'open',
 *   'failed' (nothing listening...), 'closed'.
 * stop(): closes the server and destroys at once every socket it holds, the WebSockets from
 * clients and the TCP connections to destinations (as a crash or a cut network would).
 */
export async function startRelay({ testNames = /\.test$/, port: wantedPort = 0 } = {}) {
  const pattern = plainPattern(testNames);
  const connections = [];
  const clientSockets = new Set();
  const destinations = new Set();
  let stopped = false;

  const relay = { pattern, allows: (hostname) => !stopped && pattern.test(hostname) };

  class RelayTCPSocket extends NodeTCPSocket {
    constructor(hostname, port) {
      super(hostname, port);
      // Constructed for every CONNECT, before the filter runs; connect() only if it passed.
      this.record = { hostname, port, type: 'tcp', status: 'pending' };
      connections.push(this.record);
    }
    async connect() {
      if (!relay.allows(this.hostname)) {
        this.record.status = 'refused';
        throw new Error(`net-parts relay: ${this.hostname} is not one of this relay's names`);
      }
      this.record.status = 'connecting';
      destinations.add(this);
      try {
        await super.connect();
      } catch (e) {
        this.record.status = 'failed';
        destinations.delete(this);
        throw e ?? new Error(`connecting to ${this.hostname}:${this.port} failed`);
      }
      if (stopped) this.socket?.destroy();
      this.record.status = 'open';
      this.socket?.once('close', () => {
        this.record.status = 'closed';
        destinations.delete(this);
      });
    }
    async send(data) {
      // The destination has closed but the stream's CLOSE is not out yet: wisp-js would write
      // to a null socket and log a TypeError; the data has nowhere to go either way, and the
      // client gets its CLOSE (0x02) all the same.
      if (!this.socket) return;
      return super.send(data);
    }
    async close() {
      // The filter refusing a stream closes it before connect() was ever called.
      if (this.record.status === 'pending') this.record.status = 'refused';
      return super.close();
    }
  }
  class RelayUDPSocket {
    constructor(hostname, port) {
      this.hostname = hostname;
      this.port = port;
      this.record = { hostname, port, type: 'udp', status: 'refused' };
      connections.push(this.record);
    }
    async connect() {
      throw new Error('net-parts relay: no UDP');
    }
    async close() {}
    pause() {}
    resume() {}
  }

  const server = http.createServer((req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain' });
    res.end('a Wisp relay: open a WebSocket on /\n');
  });
  server.on('connection', (socket) => {
    clientSockets.add(socket);
    socket.once('close', () => clientSockets.delete(socket));
  });
  server.on('upgrade', (req, socket, head) => {
    // Only Wisp: wisp-js serves a request URL ending in / (the raw URL, query and all) as Wisp,
    // any other as "wsproxy", a raw TCP tunnel to the host:port at the URL's end, which does not
    // go through the TCPSocket hook. The same test as wisp-js's, so none of those gets through.
    if (stopped || !req.url.endsWith('/')) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    // (routeRequest writes wisp_version into its options object: a fresh one each time)
    wisp.routeRequest(req, socket, head, { TCPSocket: RelayTCPSocket, UDPSocket: RelayUDPSocket });
  });

  const port = await listen(server, wantedPort);
  relays.add(relay);
  applyPolicy();

  let stopping = null;
  return {
    url: `ws://127.0.0.1:${port}/`,
    port,
    connections,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        const closed = new Promise((resolve) => server.close(resolve));
        for (const d of destinations) d.socket?.destroy();
        for (const s of clientSockets) s.destroy();
        server.closeAllConnections();
        await closed;
        relays.delete(relay);
        applyPolicy();
      })();
      return stopping;
    },
  };
}

/* ------------------------------------------------------------------------------------------ */
/* TLS: a throwaway CA and a certificate per registry name, made once per process              */
/* ------------------------------------------------------------------------------------------ */

let pkiDir = null;
let caReady = null;
const certs = new Map();

async function ca() {
  caReady ??= (async () => {
    pkiDir = tempDir('net-parts-pki-');
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', path.join(pkiDir, 'ca.key'), '-out', path.join(pkiDir, 'ca.crt'), '-days', '30',
      '-subj', '/CN=docker-terminal test CA (throwaway)',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    // A directory with nothing but the CA as ca.crt: what skopeo's --dest-cert-dir and Docker's
    // /etc/docker/certs.d/HOST:PORT/ take (a *.key there without its *.cert is an error to them).
    const trustDir = path.join(pkiDir, 'trust');
    fs.mkdirSync(trustDir);
    fs.copyFileSync(path.join(pkiDir, 'ca.crt'), path.join(trustDir, 'ca.crt'));
    return { dir: pkiDir, trustDir, caPem: fs.readFileSync(path.join(pkiDir, 'ca.crt'), 'utf8') };
  })();
  return caReady;
}

/** A certificate for `name` (and 127.0.0.1) signed by the process's throwaway CA. */
export async function certificateFor(name) {
  if (!/^[a-z0-9.-]+$/i.test(name)) throw new Error(`not a host name: ${name}`);
  if (!certs.has(name)) {
    certs.set(name, (async () => {
      const { dir, trustDir, caPem } = await ca();
      const key = path.join(dir, `${name}.key`), crt = path.join(dir, `${name}.crt`);
      const csr = path.join(dir, `${name}.csr`), ext = path.join(dir, `${name}.ext`);
      fs.writeFileSync(ext, [
        `subjectAltName=DNS:${name},IP:127.0.0.1`,
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        '',
      ].join('\n'));
      await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
      await run('openssl', ['x509', '-req', '-in', csr, '-CA', path.join(dir, 'ca.crt'), '-CAkey', path.join(dir, 'ca.key'),
        '-set_serial', `0x${crypto.randomBytes(8).toString('hex')}`, '-days', '30', '-sha256', '-extfile', ext, '-out', crt]);
      return { caPem, certFile: crt, keyFile: key, certPem: fs.readFileSync(crt, 'utf8'), caDir: trustDir };
    })());
  }
  return certs.get(name);
}

/* ------------------------------------------------------------------------------------------ */
/* The registry                                                                                */
/* ------------------------------------------------------------------------------------------ */

function get(url, { ca: caPem, headers } = {}) {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { ca: caPem, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`${url}: no answer in 5 s`)));
  });
}

/**
 * Starts Debian's docker-registry on 127.0.0.1:PORT (filesystem storage in a temp dir, which
 * stop() removes), with TLS by a certificate for `name` and 127.0.0.1 unless tls is false.
 * `host` is what the guest pulls from (`name:PORT`, through the relay); `url` is for this process.
 */
export async function startRegistry({ tls = true, name = 'registry.test' } = {}) {
  const dir = tempDir('net-parts-registry-');
  const pki = tls ? await certificateFor(name) : null;
  const config = [
    'version: 0.1',
    'log:',
    '  level: info', // ("listening on ADDR" is how the port it took is learnt)
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(path.join(dir, 'storage'))}`,
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    '  addr: 127.0.0.1:0',
    `  secret: ${crypto.randomBytes(16).toString('hex')}`,
    '  headers:',
    '    X-Content-Type-Options: [nosniff]',
    ...(tls ? ['  tls:', `    certificate: ${JSON.stringify(pki.certFile)}`, `    key: ${JSON.stringify(pki.keyFile)}`] : []),
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'config.yml'), config);

  // (a clean environment: REGISTRY_* variables would override the config file)
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TMPDIR: os.tmpdir() };
  cleanUpOnSignals();
  const child = spawn('/usr/bin/docker-registry', ['serve', path.join(dir, 'config.yml')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  // The watchdog: its stdin is a pipe from this process, so it reads EOF when this process dies,
  // however it dies, and then stops the registry. stop() kills it first (before it could read).
  const watchdog = spawn('/bin/sh', ['-c', 'read _; kill -TERM "$0" 2>/dev/null', String(child.pid)], { stdio: ['pipe', 'ignore', 'ignore'] });
  watchdog.on('error', () => {});
  watchdog.stdin.on('error', () => {});
  children.add(watchdog);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    children.delete(child);
    watchdog.kill('SIGKILL');
    children.delete(watchdog);
    resolve({ code, signal });
  }));
  let log = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`docker-registry did not say where it listens in 10 s:\n${log}`)), 10_000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s) => {
      log = (log + s).slice(-20_000);
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`docker-registry exited (${code ?? signal}):\n${log}`));
    });
  }).catch((e) => {
    child.kill('SIGKILL');
    removeDir(dir);
    throw e;
  });

  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  let stopping = null;
  const registry = {
    host: `${name}:${port}`,
    name,
    port,
    tls,
    url,
    caPem: pki?.caPem ?? null,
    certPem: pki?.certPem ?? null,
    /** a directory with the CA as ca.crt (skopeo's --*-cert-dir; Docker's certs.d/HOST:PORT) */
    certDir: pki?.caDir ?? null,
    dir,
    pid: child.pid,
    get log() {
      return log;
    },
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
          await exited;
          clearTimeout(killer);
        }
        removeDir(dir);
      })();
      return stopping;
    },
  };

  // Ready when /v2/ answers (200: no auth configured).
  const deadline = Date.now() + 10_000;
  for (;;) {
    let why;
    try {
      const res = await get(`${url}/v2/`, { ca: registry.caPem ?? undefined });
      if (res.status === 200) break;
      why = `HTTP ${res.status}`;
    } catch (e) {
      why = e.message;
    }
    if (Date.now() > deadline) {
      await registry.stop();
      throw new Error(`docker-registry on ${url} did not answer /v2/: ${why}\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  // From now on a registry a test forgets to stop does not hold this process up (it is stopped
  // at exit).
  for (const h of [child, child.stderr, watchdog, watchdog.stdin]) h.unref();
  return registry;
}

/**
 * Pushes an image archive into a registry started by startRegistry, with Debian's skopeo:
 * `skopeo copy [--all] <format>:archivePath docker://127.0.0.1:PORT/ref`. `ref` is
 * "repo[:tag]" (e.g. "library/hello:1"). Returns { digest } (the pushed manifest's or index's).
 */
export async function seedRegistry(registry, archivePath, ref, { format = 'docker-archive', all = false } = {}) {
  if (format !== 'docker-archive' && format !== 'oci-archive') throw new Error(`seedRegistry: format must be docker-archive or oci-archive, not ${format}`);
  const archive = path.resolve(archivePath);
  if (archive.includes(':')) throw new Error(`seedRegistry: skopeo cannot take a path with ":" (${archive})`);
  const work = tempDir('net-parts-skopeo-');
  try {
    const digestFile = path.join(work, 'digest');
    const args = [
      '--insecure-policy', // (no trust policy to consult: the archive is the test's own)
      '--tmpdir', work,
      'copy', '--quiet', '--retry-times', '0', '--dest-no-creds', '--digestfile', digestFile,
      ...(all ? ['--all'] : []),
      ...(registry.tls ? ['--dest-cert-dir', registry.certDir, '--dest-tls-verify=true'] : ['--dest-tls-verify=false']),
      `${format}:${archive}`,
      `docker://127.0.0.1:${registry.port}/${ref}`,
    ];
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, XDG_RUNTIME_DIR: work, TMPDIR: work };
    try {
      await run('skopeo', args, { env, maxBuffer: 16 << 20 });
    } catch (e) {
      throw new Error(`skopeo ${args.join(' ')} failed: ${e.stderr || e.message}`);
    }
    return { digest: fs.readFileSync(digestFile, 'utf8').trim() };
  } finally {
    removeDir(work);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* A static host                                                                               */
/* ------------------------------------------------------------------------------------------ */

const TYPES = {
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.tar': 'application/x-tar',
  '.gz': 'application/gzip',
  '.tgz': 'application/gzip',
  '.zst': 'application/zstd',
};

/**
 * A plain static file server on http://127.0.0.1:PORT/ serving `dir`, as an author's static host
 * on another origin: GET and HEAD, `Access-Control-Allow-Origin: *` (and preflights answered),
 * Content-Length, no Range, no directory listing (a directory is a 404), 404 for missing files,
 * nothing outside `dir` (not by "..", encoded or not, nor by a symbolic link).
 * `requests`: the path (with its query) of each request, in order; `log`: the same requests as
 * { method, path, status }.
 */
export async function startStaticServer(dir) {
  const root = await fsp.realpath(path.resolve(dir));
  const requests = [];
  const log = [];
  const cors = { 'Access-Control-Allow-Origin': '*' };

  async function fileFor(urlPath) {
    let rel;
    try {
      rel = decodeURIComponent(urlPath);
    } catch {
      return null;
    }
    if (rel.includes('\0') || rel.includes('\\')) return null;
    if (rel.split('/').some((seg) => seg === '..')) return null;
    const file = path.resolve(root, `.${path.posix.normalize(`/${rel}`)}`);
    if (file !== root && !file.startsWith(root + path.sep)) return null;
    try {
      const real = await fsp.realpath(file);
      if (!real.startsWith(root + path.sep)) return null;
      const stat = await fsp.stat(real);
      return stat.isFile() ? { file: real, size: stat.size } : null;
    } catch {
      return null;
    }
  }

  const server = http.createServer(async (req, res) => {
    const entry = { method: req.method, path: req.url, status: 0 };
    requests.push(req.url);
    log.push(entry);
    const send = (status, headers, body) => {
      entry.status = status;
      res.writeHead(status, { ...cors, ...headers });
      res.end(body);
    };
    try {
      if (req.method === 'OPTIONS') {
        return send(204, {
          'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
          'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] || '*',
          'Access-Control-Max-Age': '600',
          'Content-Length': '0',
        });
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return send(405, { Allow: 'GET, HEAD, OPTIONS', 'Content-Type': 'text/plain', 'Content-Length': '19' }, 'method not allowed\n');
      }
      const urlPath = req.url.split(/[?#]/)[0];
      const found = urlPath.startsWith('/') ? await fileFor(urlPath) : null;
      if (!found) return send(404, { 'Content-Type': 'text/plain', 'Content-Length': '10' }, 'not found\n');
      entry.status = 200;
      res.writeHead(200, {
        ...cors,
        'Content-Type': TYPES[path.extname(found.file).toLowerCase()] ?? 'application/octet-stream',
        'Content-Length': String(found.size),
      });
      if (req.method === 'HEAD') return res.end();
      const stream = fs.createReadStream(found.file);
      stream.on('error', () => res.destroy());
      stream.pipe(res);
    } catch {
      if (!res.headersSent) send(500, { 'Content-Length': '0' });
      else res.destroy();
    }
  });
  const port = await listen(server);
  let stopping = null;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    root,
    requests,
    log,
    stop() {
      stopping ??= new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
