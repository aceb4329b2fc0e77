/**
 * A client of the Wisp protocol (v1: https://github.com/MercuryWorkshop/wisp-protocol): many TCP
 * streams over one WebSocket to a relay, which opens the real connections. Ours rather than v86's
 * WispNetworkAdapter because the machine needs what that one does not do: the relay is given the
 * name the guest looked up (./dns.ts's pool), a lost relay ends every stream at once (the guest's
 * programs then fail rather than wait), and a refused stream says why.
 */

const CONNECT = 1;
const DATA = 2;
const CONTINUE = 3;
const CLOSE = 4;

/** Why the relay closed a stream (the protocol's reason codes). */
export const CLOSE_REASONS: Record<number, string> = {
  0x01: 'closed by the relay',
  0x02: 'closed',
  0x03: 'the relay had a network error',
  0x41: 'the relay found the address invalid',
  0x42: 'the host is unreachable from the relay',
  0x43: 'the connection timed out at the relay',
  0x44: 'the host refused the connection',
  0x47: 'the relay timed out waiting for the host',
  0x48: 'the relay does not allow this address',
  0x49: 'the relay is throttling this client',
};

export interface WispStream {
  /** Sends bytes (queued while the relay's buffer for this stream is full). */
  send(data: Uint8Array): void;
  /** Closes the stream from this side. */
  close(): void;
}

export interface StreamHandlers {
  onData(data: Uint8Array): void;
  /** The stream ended: `reason` is one of CLOSE_REASONS' codes, or 0 when the relay itself was lost. */
  onClose(reason: number): void;
}

interface Stream extends StreamHandlers {
  credit: number;
  queue: Uint8Array[];
}

export class WispClient {
  private socket: WebSocket | undefined;
  private open: Promise<void> | undefined;
  private readonly streams = new Map<number, Stream>();
  private nextId = 1;
  /** The relay's initial buffer per stream (its CONTINUE on stream 0). */
  private initialCredit = 0;

  constructor(
    private readonly url: string,
    private readonly onTrouble: (message: string) => void = () => {},
  ) {}

  /** Opens a TCP stream to host:port through the relay. */
  connect(host: string, port: number, handlers: StreamHandlers): WispStream {
    const id = this.nextId++;
    const stream: Stream = { ...handlers, credit: 0, queue: [] };
    this.streams.set(id, stream);
    const name = new TextEncoder().encode(host);
    const frame = new Uint8Array(3 + name.length);
    frame[0] = 1; // TCP
    new DataView(frame.buffer).setUint16(1, port, true);
    frame.set(name, 3);
    this.ready().then(
      () => {
        if (!this.streams.has(id)) return;
        this.frame(CONNECT, id, frame);
        stream.credit = this.initialCredit;
        this.flush(id, stream);
      },
      () => this.end(id, 0),
    );
    return {
      send: (data) => {
        if (!this.streams.has(id)) return;
        stream.queue.push(data.slice());
        this.flush(id, stream);
      },
      close: () => {
        if (!this.streams.delete(id)) return;
        if (this.socket?.readyState === WebSocket.OPEN) this.frame(CLOSE, id, Uint8Array.of(0x02));
      },
    };
  }

  /** Closes the WebSocket and ends every stream. */
  stop(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.open = undefined;
    socket?.close();
    for (const id of [...this.streams.keys()]) this.end(id, 0);
  }

  /** The WebSocket, opened on first use and again after it was lost. */
  private ready(): Promise<void> {
    if (this.open) return this.open;
    const socket = new WebSocket(this.url);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    this.open = new Promise<void>((resolve, reject) => {
      let greeted = false;
      socket.onmessage = (event) => {
        const frame = new Uint8Array(event.data as ArrayBuffer);
        // (the relay's first frame: CONTINUE on stream 0, its buffer per stream)
        if (!greeted && frame[0] === CONTINUE && frame.length >= 9) {
          greeted = true;
          this.initialCredit = new DataView(frame.buffer).getUint32(5, true);
          resolve();
          return;
        }
        this.receive(frame);
      };
      socket.onerror = () => {};
      socket.onclose = () => {
        if (this.socket === socket) {
          this.socket = undefined;
          this.open = undefined;
        }
        if (!greeted) {
          this.onTrouble(`The network relay ${this.url} could not be reached.`);
          reject(new Error('relay unreachable'));
        } else this.onTrouble(`The connection to the network relay ${this.url} was lost: open connections were cut.`);
        for (const id of [...this.streams.keys()]) this.end(id, 0);
      };
    });
    // (callers handle it; an unreached relay must not become an unhandled rejection)
    this.open.catch(() => {});
    return this.open;
  }

  private receive(frame: Uint8Array): void {
    if (frame.length < 5) return;
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const id = view.getUint32(1, true);
    const stream = this.streams.get(id);
    if (!stream) return;
    switch (frame[0]) {
      case DATA:
        stream.onData(frame.subarray(5));
        break;
      case CONTINUE:
        if (frame.length >= 9) stream.credit = view.getUint32(5, true);
        this.flush(id, stream);
        break;
      case CLOSE:
        this.end(id, frame[5] ?? 1);
        break;
    }
  }

  private flush(id: number, stream: Stream): void {
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    while (stream.queue.length && stream.credit > 0) {
      this.frame(DATA, id, stream.queue.shift()!);
      stream.credit--;
    }
  }

  private end(id: number, reason: number): void {
    const stream = this.streams.get(id);
    if (!stream) return;
    this.streams.delete(id);
    stream.onClose(reason);
  }

  private frame(type: number, id: number, payload: Uint8Array): void {
    const frame = new Uint8Array(5 + payload.length);
    frame[0] = type;
    new DataView(frame.buffer).setUint32(1, id, true);
    frame.set(payload, 5);
    this.socket?.send(frame);
  }
}
