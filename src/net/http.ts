/**
 * HTTP/1.1 over a byte stream (RFC 9112), both ways: requests the guest sends to the tab (its
 * registry mirror) and responses a web server in the guest sends to the page. Bytes arrive as TCP
 * delivers them, split anywhere; nothing here waits on a socket.
 */

/** A request or response the peer sent that is not HTTP/1.1; status is the answer it deserves. */
export class HttpParseError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'HttpParseError';
  }
}

export interface HttpRequest {
  method: string;
  /** As sent: origin-form ('/v2/'), or absolute-form for a proxy. */
  target: string;
  /** 'HTTP/1.1' or 'HTTP/1.0'. */
  version: string;
  /** Lower-case names; a repeated header's values joined with ', '. */
  headers: Record<string, string>;
  /** Content-Length bytes, or a chunked body put together; empty without one. */
  body: Uint8Array;
}

export interface ReaderLimits {
  /** Bytes of request line and headers (default 64 KiB). */
  maxHeadBytes?: number;
  /** Bytes of a request body, which is held whole (default 16 MiB). */
  maxBodyBytes?: number;
}

/** Headers as a record, a Headers object or pairs. */
export type HeaderList = Record<string, string> | Iterable<[string, string]>;

type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

interface Sink {
  /** The start line and header lines of a message; 'interim' for a 1xx response that has more to come. */
  head(lines: string[]): Framing | 'interim';
  body(bytes: Uint8Array): void;
  end(): void;
}

type State = 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'close' | 'done' | 'failed';

/** Message framing: start line, headers, and a body by length, in chunks or up to the close. */
class MessageParser {
  state: State = 'head';
  /** Body bytes still to come (of the message, or of the chunk). */
  remaining = 0;
  private line: Uint8Array[] = [];
  private lineBytes = 0;
  private lines: string[] = [];
  private headBytes = 0;
  private error: Error | undefined;

  constructor(
    private readonly sink: Sink,
    private readonly maxHeadBytes: number,
    /** A request stream holds message after message; a response stream one. */
    private readonly repeat: boolean,
  ) {}

  push(bytes: Uint8Array): void {
    if (this.error) throw this.error;
    try {
      this.consume(bytes);
    } catch (e) {
      this.state = 'failed';
      this.error = e as Error;
      throw e;
    }
  }

  private consume(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      switch (this.state) {
        case 'head':
        case 'chunk-size':
        case 'chunk-end':
        case 'trailers': {
          const nl = bytes.indexOf(0x0a, at);
          const end = nl < 0 ? bytes.length : nl + 1;
          this.lineBytes += end - at;
          if (this.state === 'head' && (this.headBytes += end - at) > this.maxHeadBytes) throw new HttpParseError(`headers longer than ${this.maxHeadBytes} bytes`, 431);
          if (this.lineBytes > 8192 && this.state !== 'head') throw new HttpParseError('a chunk line longer than 8 KiB');
          this.line.push(bytes.subarray(at, end));
          at = end;
          if (nl >= 0) {
            this.lineBytes = 0;
            this.onLine(takeText(this.line));
          }
          break;
        }
        case 'body':
        case 'chunk-data': {
          const n = Math.min(this.remaining, bytes.length - at);
          this.sink.body(bytes.subarray(at, at + n));
          at += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            if (this.state === 'body') this.finish();
            else this.state = 'chunk-end';
          }
          break;
        }
        case 'close':
          this.sink.body(bytes.subarray(at));
          at = bytes.length;
          break;
        case 'done':
        case 'failed':
          return;
      }
    }
  }

  private onLine(text: string): void {
    switch (this.state) {
      case 'head': {
        if (text === '') {
          // (blank lines before a start line are tolerated, as RFC 9112 asks)
          if (this.lines.length === 0) return;
          const framing = this.sink.head(this.lines);
          this.lines = [];
          this.headBytes = 0;
          if (framing === 'interim') return;
          if (framing.kind === 'none' || (framing.kind === 'length' && framing.length === 0)) this.finish();
          else if (framing.kind === 'length') {
            this.state = 'body';
            this.remaining = framing.length;
          } else this.state = framing.kind === 'chunked' ? 'chunk-size' : 'close';
          return;
        }
        this.lines.push(text);
        return;
      }
      case 'chunk-size': {
        const m = /^([0-9a-fA-F]{1,13})[ \t]*(?:;.*)?$/.exec(text);
        if (!m) throw new HttpParseError(`a chunk size line that is not one: ${JSON.stringify(text.slice(0, 40))}`);
        this.remaining = parseInt(m[1], 16);
        this.state = this.remaining === 0 ? 'trailers' : 'chunk-data';
        return;
      }
      case 'chunk-end':
        if (text !== '') throw new HttpParseError('a chunk longer than its size');
        this.state = 'chunk-size';
        return;
      case 'trailers':
        // (trailer fields are read past, not kept)
        if (text === '') this.finish();
        return;
    }
  }

  private finish(): void {
    this.state = this.repeat ? 'head' : 'done';
    this.headBytes = 0;
    this.sink.end();
  }
}

/** A line's bytes as text (Latin-1, as header bytes are), without its CR LF. */
function takeText(parts: Uint8Array[]): string {
  let text = '';
  for (const part of parts) for (let i = 0; i < part.length; i++) text += String.fromCharCode(part[i]);
  parts.length = 0;
  return text.replace(/\r?\n$/, '');
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Header lines as [lower-case name, value] pairs; a line folded onto the last (obsolete) is joined with a space. */
function parseFields(lines: string[]): [string, string][] {
  const fields: [string, string][] = [];
  for (const line of lines) {
    if ((line[0] === ' ' || line[0] === '\t') && fields.length) {
      fields[fields.length - 1][1] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) throw new HttpParseError(`a header line that is not one: ${JSON.stringify(line.slice(0, 60))}`);
    fields.push([name.toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return fields;
}

function toRecord(fields: [string, string][]): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [name, value] of fields) record[name] = name in record ? `${record[name]}, ${value}` : value;
  return record;
}

/** The body's framing from Transfer-Encoding and Content-Length; undefined when neither is there. */
function framingOf(headers: Record<string, string>, isRequest: boolean): Framing | undefined {
  const te = headers['transfer-encoding'];
  if (te !== undefined) {
    // (Transfer-Encoding overrides Content-Length; it must end in chunked, or only a close ends the body)
    if (te.split(',').pop()?.trim().toLowerCase() === 'chunked') return { kind: 'chunked' };
    if (isRequest) throw new HttpParseError(`a request body in Transfer-Encoding ${te}, which ends in no chunked`, 501);
    return { kind: 'close' };
  }
  const cl = headers['content-length'];
  if (cl === undefined) return undefined;
  const values = new Set(cl.split(',').map((v) => v.trim()));
  const [value] = values;
  if (values.size !== 1 || !/^\d{1,15}$/.test(value)) throw new HttpParseError(`Content-Length: ${cl}`);
  return { kind: 'length', length: Number(value) };
}

/**
 * Reads requests from the bytes a client sends, pipelined ones too; onRequest has each once its body
 * is in. push() throws an HttpParseError for bytes that are no request (answer its status and
 * close: the stream has lost its framing), and keeps throwing it.
 */
export class RequestReader {
  private readonly parser: MessageParser;
  private current: Omit<HttpRequest, 'body'> | undefined;
  private body: Uint8Array[] = [];
  private bodyBytes = 0;

  constructor(
    private readonly onRequest: (request: HttpRequest) => void,
    limits: ReaderLimits = {},
  ) {
    const maxBody = limits.maxBodyBytes ?? 16 << 20;
    this.parser = new MessageParser(
      {
        head: (lines) => {
          const m = /^([^ ]+) ([^ ]+) (HTTP\/1\.[01])$/.exec(lines[0]);
          if (!m || !TOKEN.test(m[1])) throw new HttpParseError(`not an HTTP/1.1 request line: ${JSON.stringify(lines[0].slice(0, 80))}`);
          const headers = toRecord(parseFields(lines.slice(1)));
          const framing = framingOf(headers, true) ?? { kind: 'none' };
          if (framing.kind === 'length' && framing.length > maxBody) throw new HttpParseError(`a request body of ${framing.length} bytes`, 413);
          this.current = { method: m[1], target: m[2], version: m[3], headers };
          return framing;
        },
        body: (bytes) => {
          this.bodyBytes += bytes.length;
          if (this.bodyBytes > maxBody) throw new HttpParseError(`a request body over ${maxBody} bytes`, 413);
          this.body.push(bytes.slice());
        },
        end: () => {
          const request = { ...this.current!, body: concat(this.body, this.bodyBytes) };
          this.current = undefined;
          this.body = [];
          this.bodyBytes = 0;
          this.onRequest(request);
        },
      },
      limits.maxHeadBytes ?? 64 << 10,
      true,
    );
  }

  push(bytes: Uint8Array): void {
    this.parser.push(bytes);
  }

  /** Whether the bytes so far end between requests (so closing now cuts none short). */
  get idle(): boolean {
    return this.parser.state === 'head' && this.current === undefined && this.bodyBytes === 0;
  }
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  206: 'Partial Content',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  416: 'Range Not Satisfiable',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The status line and headers of a response, up to and with the blank line. */
export function responseHead(status: number, headers?: HeaderList): Uint8Array;
export function responseHead(status: number, reason: string | undefined, headers?: HeaderList): Uint8Array;
export function responseHead(status: number, reasonOrHeaders?: string | HeaderList, headers: HeaderList = {}): Uint8Array {
  if (typeof reasonOrHeaders === 'object') return responseHead(status, undefined, reasonOrHeaders);
  if (!Number.isInteger(status) || status < 100 || status > 999) throw new RangeError(`HTTP status ${status}`);
  const reason = reasonOrHeaders ?? REASONS[status] ?? '';
  if (/[\r\n]/.test(reason)) throw new TypeError('a reason phrase with a line break');
  return latin1(`HTTP/1.1 ${status} ${reason}\r\n${fieldLines(entries(headers))}\r\n`);
}

/**
 * An HTTP/1.1 request for url: Host from the URL (unless headers give one), `Connection: close` (one
 * request per connection: the end of the response is the close, whatever its framing), and
 * Content-Length when there is a body.
 */
export function requestBytes(method: string, url: URL | string, headers: HeaderList = {}, body?: Uint8Array): Uint8Array {
  if (!TOKEN.test(method)) throw new TypeError(`not an HTTP method: ${method}`);
  const u = new URL(url);
  const own = entries(headers).filter(([name]) => !/^(connection|content-length|transfer-encoding|keep-alive)$/i.test(name));
  const fields: [string, string][] = [];
  if (!own.some(([name]) => name.toLowerCase() === 'host')) fields.push(['Host', u.host]);
  fields.push(...own, ['Connection', 'close']);
  if (body !== undefined || /^(POST|PUT|PATCH)$/i.test(method)) fields.push(['Content-Length', String(body?.length ?? 0)]);
  const head = latin1(`${method} ${u.pathname}${u.search} HTTP/1.1\r\n${fieldLines(fields)}\r\n`);
  return body?.length ? concat([head, body], head.length + body.length) : head;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  headers: Headers;
  /** The body as it arrives; errors if the connection ends before the body does. */
  body: ReadableStream<Uint8Array>;
}

export interface ResponseReaderOptions {
  /** The request's method: the response to HEAD has no body, whatever its headers say. */
  method?: string;
  /** The reader of the body cancelled it: the connection can be closed. */
  onCancel?: () => void;
}

/**
 * Reads one response from the bytes a server sends: `response` settles once the headers are in,
 * its body streams the rest (by Content-Length, chunked, or up to the close). 1xx responses other
 * than 101 are read past. push() after the body's end is ignored (the request said Connection:
 * close); bytes that are no HTTP reject `response` or error the body.
 */
export class ResponseReader {
  readonly response: Promise<HttpResponse>;
  private readonly parser: MessageParser;
  private resolve!: (r: HttpResponse) => void;
  private reject!: (e: Error) => void;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private cancelled = false;
  private received = 0;
  private expected: number | undefined;

  constructor(opts: ResponseReaderOptions = {}) {
    this.response = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // (a failure before anyone awaits is not an unhandled rejection; awaiting still sees it)
    this.response.catch(() => undefined);
    const head = (opts.method ?? 'GET').toUpperCase() === 'HEAD';
    this.parser = new MessageParser(
      {
        head: (lines) => {
          const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]);
          if (!m) throw new HttpParseError(`not an HTTP/1.1 status line: ${JSON.stringify(lines[0].slice(0, 80))}`, 502);
          const status = Number(m[1]);
          const fields = parseFields(lines.slice(1));
          if (status >= 100 && status < 200 && status !== 101) return 'interim';
          const noBody = head || status < 200 || status === 204 || status === 304;
          const framing: Framing = noBody ? { kind: 'none' } : (framingOf(toRecord(fields), false) ?? { kind: 'close' });
          this.expected = framing.kind === 'length' ? framing.length : undefined;
          const headers = new Headers();
          for (const [name, value] of fields) {
            try {
              headers.append(name, value);
            } catch {
              // (a value Headers refuses, such as one with a NUL: left out)
            }
          }
          const body = new ReadableStream<Uint8Array>({
            start: (controller) => {
              this.controller = controller;
            },
            cancel: () => {
              this.cancelled = true;
              opts.onCancel?.();
            },
          });
          this.resolve({ status, statusText: m[2] ?? '', headers, body });
          return framing;
        },
        body: (bytes) => {
          this.received += bytes.length;
          // (a copy: the caller's buffer may be reused once push returns)
          if (!this.cancelled) this.controller?.enqueue(bytes.slice());
        },
        end: () => {
          if (!this.cancelled) this.controller?.close();
        },
      },
      64 << 10,
      false,
    );
  }

  push(bytes: Uint8Array): void {
    try {
      this.parser.push(bytes);
    } catch (e) {
      this.settle(e as Error);
    }
  }

  /** The server closed the connection. */
  end(): void {
    const state = this.parser.state;
    if (state === 'close') {
      this.parser.state = 'done';
      if (!this.cancelled) this.controller?.close();
    } else if (state === 'head') this.fail(new HttpParseError('the connection closed before a response', 502));
    else if (state !== 'done' && state !== 'failed') {
      const what = this.expected !== undefined ? `after ${this.received} of ${this.expected} bytes` : 'in the middle of a chunked body';
      this.fail(new HttpParseError(`the connection closed ${what}`, 502));
    }
  }

  /** The connection failed (reset, timeout): the response or its body ends with error. */
  fail(error: Error): void {
    if (this.parser.state === 'done' || this.parser.state === 'failed') return;
    this.parser.state = 'failed';
    this.settle(error);
  }

  private settle(error: Error): void {
    if (!this.controller) this.reject(error);
    else if (!this.cancelled) this.controller.error(error);
  }
}

function entries(headers: HeaderList): [string, string][] {
  const list: [string, string][] = Symbol.iterator in headers ? [...(headers as Iterable<[string, string]>)] : Object.entries(headers);
  for (const [name, value] of list) {
    if (!TOKEN.test(name)) throw new TypeError(`not a header name: ${JSON.stringify(name)}`);
    if (/[\r\n\0]/.test(String(value))) throw new TypeError(`the value of ${name} has a line break`);
  }
  return list;
}

const fieldLines = (fields: [string, string][]) => fields.map(([name, value]) => `${name}: ${value}\r\n`).join('');

function latin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new TypeError(`a character HTTP headers cannot carry: ${JSON.stringify(text[i])}`);
    bytes[i] = c;
  }
  return bytes;
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
