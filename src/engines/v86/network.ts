import { TerminalError } from '../../boot/errors.js';
import { dnsAnswer, NamePool, parseQuery } from '../../net/dns.js';
import { parseUdp, udpFrame, type UdpDatagram } from '../../net/frames.js';
import { RequestReader, requestBytes, ResponseReader, responseHead, type HttpParseError } from '../../net/http.js';
import { staticRegistry } from '../../net/static-registry.js';
import { CLOSE_REASONS, WispClient } from '../../net/wisp.js';
import { NET } from './config.js';

/**
 * The machine's network, answered in the tab. v86's "fetch" adapter is the guest's router (ARP,
 * DHCP, a TCP stack); this takes over what leaves the machine:
 *  - DNS: with a relay, every name gets an address from a reserved pool (../../net/dns.ts), and a
 *    connection to it goes to the relay with the name, so the relay resolves it (a relay inside a
 *    company network resolves that network's names; no public DNS service is asked). Without one,
 *    every name is "no such host" at once, and the reader is told how pulls get enabled.
 *  - TCP: to the router's registry port, the page's static registry (dockerd's mirror); to a pool
 *    address, the relay. Anything else is refused at once.
 *  - fetch(): the page's own HTTP requests to a server in the machine (the preview element).
 */

/** v86's TCP connection (its fake_network.js), as much of it as is used here. */
export interface TcpConnection {
  sport: number;
  send_buffer: { length: number };
  pending: boolean;
  last_received_ackn: number | undefined;
  process(packet: TcpPacket): void;
  pump(): void;
  on(event: 'data', fn: (data: Uint8Array) => void): void;
  on(event: 'connect' | 'close' | 'shutdown', fn: () => void): void;
  accept(): void;
  write(data: Uint8Array): void;
  close(): void;
}

interface TcpPacket {
  tcp: { ack: boolean; ackn: number; winsize: number };
  tcp_data: Uint8Array;
}

/**
 * v86's TCP sends one segment and waits for the ACK that takes it, and has no timer: a guest whose
 * window was full drops the segment and later only announces its window again (the same ACK
 * number), so the connection stalled for good. Such an ACK now sends the segment again.
 */
function resendOnWindowUpdate(conn: TcpConnection): void {
  const process = conn.process;
  conn.process = function (this: TcpConnection, packet: TcpPacket) {
    const update = this.pending && packet.tcp.ack && packet.tcp.winsize > 0 && packet.tcp_data.length === 0 && packet.tcp.ackn === this.last_received_ackn;
    process.call(this, packet);
    if (update && this.pending && this.send_buffer.length) {
      this.pending = false;
      this.pump();
    }
  };
}

/** v86's network adapter (FetchNetworkAdapter), as much of it as is used here. */
export interface V86Adapter {
  bus: { listeners: Record<string, { fn: unknown; this_value: unknown }[] | undefined> };
  router_mac: Uint8Array;
  send(frame: Uint8Array): void;
  receive(frame: Uint8Array): void;
  connect(port: number): TcpConnection;
  on_tcp_connection?: (conn: TcpConnection, packet: { ipv4: { dest: Uint8Array } }) => boolean | void;
}

export interface NetworkOptions {
  /** A Wisp relay (wisp://, wisps://, ws://, wss://), or none: nothing leaves the tab. */
  relay?: string;
  /** A read-only registry on a static host (docs/static-registry.md), or none. */
  registry?: URL;
  /** Something the reader should know (a name the machine cannot reach, a relay lost). */
  onNotice(error: TerminalError): void;
}

/** Bytes a registry answer may have waiting for the guest before the next chunk is read. */
const BACKLOG = 1 << 20;
/** How long a relayed connection the guest half-closed may still receive. */
const HALF_CLOSE_GRACE_MS = 30_000;
/** Seconds term.fetch() waits for a server in the machine to accept its connection. */
const CONNECT_LIMIT_S = 10;

export class MachineNetwork {
  private readonly pool = new NamePool();
  private readonly relay: WispClient | undefined;
  private readonly registry: ReturnType<typeof staticRegistry> | undefined;
  private readonly told = new Set<string>();
  /** When the page's registry last lacked an image (ms). */
  private lastMiss = 0;
  private stopped = false;

  constructor(
    private readonly adapter: V86Adapter,
    private readonly opts: NetworkOptions,
  ) {
    // (v86's adapter answers the guest's port 80 with the browser's fetch(): the guest would reach
    // the page's origin with the reader's cookies. Connections go through route() only.)
    const listeners = adapter.bus.listeners['tcp-connection'];
    if (listeners) adapter.bus.listeners['tcp-connection'] = listeners.filter((l) => l.this_value !== adapter);
    if (opts.relay) this.relay = new WispClient(opts.relay, (message) => this.tell('relay', new TerminalError('network-failed', `${message} Commands that reach the internet fail until it is back; the page's author runs the relay.`)));
    if (opts.registry) this.registry = staticRegistry(opts.registry);
    const send = adapter.send.bind(adapter);
    adapter.send = (frame) => {
      const udp = parseUdp(frame);
      if (udp && udp.dstPort === 53) this.dns(udp);
      else send(frame);
    };
    adapter.on_tcp_connection = (conn, packet) => this.route(conn, packet.ipv4.dest);
  }

  stop(): void {
    this.stopped = true;
    this.relay?.stop();
  }

  /** Tells the reader once per subject (a name, the relay) and machine. */
  private tell(subject: string, error: TerminalError): void {
    if (this.told.has(subject) || this.stopped) return;
    this.told.add(subject);
    this.opts.onNotice(error);
  }

  private dns(query: UdpDatagram): void {
    const q = parseQuery(query.payload);
    if (!q) return;
    let address: Uint8Array | undefined;
    if (q.type === 1 && this.relay) address = this.pool.addressOf(q.name);
    // (after the page's registry said it lacks an image, dockerd asks Docker Hub next: that notice says more)
    if (q.type === 1 && !this.relay && Date.now() - this.lastMiss > 10_000)
      this.tell(
        q.name,
        new TerminalError(
          'network-off',
          `This terminal has no network, so ${q.name} cannot be reached${this.registry ? `; docker pull finds only the images of the page's registry (${this.opts.registry})` : ': docker pull works only for images already in the machine'}. The page's author can enable pulls with the network attribute (a Wisp relay) or the registry attribute (images on their own site).`,
        ),
      );
    this.adapter.receive(
      udpFrame({ srcMac: this.adapter.router_mac, dstMac: query.srcMac, srcIp: query.dstIp, dstIp: query.srcIp, srcPort: 53, dstPort: query.srcPort, payload: dnsAnswer(q, address) }),
    );
  }

  /** Takes a connection the guest opens, or leaves it to v86, which refuses it (RST). */
  private route(conn: TcpConnection, dest: Uint8Array): boolean {
    if (this.stopped) return false;
    const to = Array.from(dest).join('.');
    if (to === NET.router && conn.sport === NET.registryPort) {
      if (!this.registry) return false;
      conn.accept();
      resendOnWindowUpdate(conn);
      this.serveRegistry(conn, this.registry);
      return true;
    }
    if (!this.relay) return false;
    const name = this.pool.nameOf(dest) ?? to;
    conn.accept();
    resendOnWindowUpdate(conn);
    let halfClosed: ReturnType<typeof setTimeout> | undefined;
    const stream = this.relay.connect(name, conn.sport, {
      onData: (data) => conn.write(data),
      onClose: (reason) => {
        clearTimeout(halfClosed);
        if (reason !== 0x02 && reason !== 0) console.info(`docker-terminal: ${name}:${conn.sport}: ${CLOSE_REASONS[reason] ?? `closed (${reason})`}`);
        conn.close();
      },
    });
    conn.on('data', (data) => stream.send(data));
    // Wisp v1 has no half-close. A client that sends its request and then its FIN (socat, nc)
    // still waits for the answer: the stream ends when the far side closes, or a while after.
    conn.on('shutdown', () => (halfClosed = setTimeout(() => stream.close(), HALF_CLOSE_GRACE_MS)));
    conn.on('close', () => stream.close());
    return true;
  }

  /** HTTP/1.1 on one connection from dockerd, answered by the page's static registry. */
  private serveRegistry(conn: TcpConnection, registry: NonNullable<MachineNetwork['registry']>): void {
    let closed = false;
    let queue = Promise.resolve();
    conn.on('close', () => (closed = true));
    // (a client that half-closes after its request still gets the answers to what it sent)
    conn.on('shutdown', () => {
      queue = queue.then(() => {
        closed = true;
        conn.close();
      });
    });
    const reader = new RequestReader((req) => {
      queue = queue.then(async () => {
        if (closed) return;
        const res = await registry(req).catch((e: Error) => ({
          status: 503,
          headers: { 'content-type': 'application/json' } as Record<string, string>,
          body: new TextEncoder().encode(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: e.message }] })) as Uint8Array | ReadableStream<Uint8Array> | undefined,
        }));
        if (res.status === 404 && /\/manifests\/[^/]+$/.test(req.target) && !this.relay) {
          this.lastMiss = Date.now();
          this.tell(`registry ${req.target}`, new TerminalError('image-missing', `The page's registry (${this.opts.registry}) has no ${imageName(req.target)}, and this terminal has no network to look further: Docker reports the name it could not look up. Use an image the page names.`));
        }
        const headers = { ...res.headers };
        const body = req.method === 'HEAD' ? undefined : res.body;
        const chunked = body instanceof ReadableStream && headers['content-length'] === undefined;
        if (chunked) headers['transfer-encoding'] = 'chunked';
        if (body instanceof Uint8Array) headers['content-length'] = String(body.length);
        if (!body && req.method !== 'HEAD') headers['content-length'] = '0';
        conn.write(responseHead(res.status, undefined, headers));
        if (body instanceof Uint8Array) conn.write(body);
        else if (body) await this.pipe(body, conn, chunked, () => closed);
      });
    });
    conn.on('data', (data) => {
      try {
        reader.push(data);
      } catch (e) {
        // (not HTTP a registry client sends: answer as a server would, and hang up)
        const status = (e as HttpParseError).status ?? 400;
        conn.write(responseHead(status, undefined, { 'content-length': '0', connection: 'close' }));
        closed = true;
        conn.close();
      }
    });
  }

  /** Streams a body to the guest, reading on only as the guest takes what was sent. */
  private async pipe(body: ReadableStream<Uint8Array>, conn: TcpConnection, chunked: boolean, closed: () => boolean): Promise<void> {
    const reader = body.getReader();
    try {
      for (;;) {
        while (conn.send_buffer.length > BACKLOG && !closed()) await new Promise((r) => setTimeout(r, 5));
        if (closed()) return;
        const { done, value } = await reader.read();
        if (done) break;
        if (chunked) conn.write(new TextEncoder().encode(`${value.length.toString(16)}\r\n`));
        conn.write(value);
        if (chunked) conn.write(new TextEncoder().encode('\r\n'));
      }
      if (chunked) conn.write(new TextEncoder().encode('0\r\n\r\n'));
    } catch {
      // (the host failed mid-body: the guest sees the connection end short, and Docker retries)
      conn.close();
    } finally {
      reader.releaseLock();
      if (closed()) void body.cancel().catch(() => {});
    }
  }

  /**
   * The page's HTTP request to a server in the machine: http://localhost:PORT/… (the guest's own
   * address works too). A new connection per request (Connection: close).
   */
  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const url = new URL(input, 'http://localhost/');
    if (url.protocol !== 'http:' || !['localhost', '127.0.0.1', NET.guest].includes(url.hostname))
      throw new TypeError(`fetch() reaches the machine's own servers, at http://localhost:PORT/…; ${url.href} is not one.`);
    const port = Number(url.port || 80);
    const method = (init.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => (headers[k] = v));
    const body = init.body == null ? undefined : new Uint8Array(await new Response(init.body).arrayBuffer());
    const conn = this.adapter.connect(port);
    resendOnWindowUpdate(conn);
    const reader = new ResponseReader({ method });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => (conn.close(), reject(new TypeError(`Nothing in the machine accepted a connection on port ${port} within ${CONNECT_LIMIT_S} s.`))), CONNECT_LIMIT_S * 1000);
      conn.on('connect', () => (clearTimeout(timer), resolve()));
      conn.on('close', () => (clearTimeout(timer), reader.end(), reject(new TypeError(`Nothing in the machine listens on port ${port}: start a server there first (say, docker run -d -p ${port}:80 nginx).`))));
      init.signal?.addEventListener('abort', () => (clearTimeout(timer), conn.close(), reject(init.signal!.reason)), { once: true });
    });
    conn.on('data', (data) => reader.push(data));
    conn.on('shutdown', () => {
      reader.end();
      conn.close();
    });
    conn.write(requestBytes(method, url, { 'user-agent': 'docker-terminal', ...headers }, body));
    const res = await reader.response;
    const nullBody = method === 'HEAD' || [101, 204, 205, 304].includes(res.status);
    return new Response(nullBody ? null : res.body, { status: res.status < 200 || res.status > 599 ? 502 : res.status, statusText: res.statusText, headers: res.headers });
  }
}

/** `library/nginx:alpine` from a manifest request's path. */
function imageName(target: string): string {
  const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(target.split('?')[0]);
  return m ? `${m[1].replace(/^library\//, '')}:${m[2]}` : target;
}
