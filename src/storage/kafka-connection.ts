/**
 * One socket to one Kafka broker, speaking the request/response framing every Kafka API
 * shares (request header v1: api key, version, correlation id, client id; response header
 * v0: the correlation id), for tapedeck's own Fetch (kafka-fetch.ts) and Produce
 * (kafka-produce.ts). Requests may be several in flight: the broker answers them in the
 * order they were sent. Opened at the first request and again after the broker closed it
 * (connections.max.idle.ms, a restart); no time limit applies between requests. A request
 * that fails or goes unanswered fails with `fail`'s error, as do all the others in flight.
 */
import net from 'node:net';

/** Kafka's error codes tapedeck's fetches and produces may meet, by number (kafka.common.protocol.Errors). */
const ERRORS: Record<number, string> = {
  1: 'OFFSET_OUT_OF_RANGE', 2: 'CORRUPT_MESSAGE', 3: 'UNKNOWN_TOPIC_OR_PARTITION', 5: 'LEADER_NOT_AVAILABLE', 6: 'NOT_LEADER_OR_FOLLOWER',
  7: 'REQUEST_TIMED_OUT', 10: 'MESSAGE_TOO_LARGE', 14: 'COORDINATOR_LOAD_IN_PROGRESS', 15: 'COORDINATOR_NOT_AVAILABLE', 18: 'RECORD_LIST_TOO_LARGE', 19: 'NOT_ENOUGH_REPLICAS', 20: 'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  29: 'TOPIC_AUTHORIZATION_FAILED', 45: 'OUT_OF_ORDER_SEQUENCE_NUMBER', 46: 'DUPLICATE_SEQUENCE_NUMBER', 47: 'INVALID_PRODUCER_EPOCH',
  59: 'UNKNOWN_PRODUCER_ID', 74: 'FENCED_LEADER_EPOCH', 75: 'UNKNOWN_LEADER_EPOCH', 87: 'INVALID_RECORD', 90: 'PRODUCER_FENCED',
};

export function kafkaErrorName(code: number): string {
  return ERRORS[code] ?? `error code ${code}`;
}

/**
 * Walks the topics array of a response at `at` (each topic: its name, then its partitions'
 * entries): `entry(at, mine)` reads the partition entry at `at` (`mine`: one of `topic`'s)
 * and returns where it ends.
 */
export function eachPartition(body: Buffer, at: number, topic: string, entry: (at: number, mine: boolean) => number): void {
  const topics = body.readInt32BE(at);
  at += 4;
  for (let t = 0; t < topics; t++) {
    const nameLength = body.readInt16BE(at);
    const mine = body.toString('utf8', at + 2, at + 2 + nameLength) === topic;
    at += 2 + nameLength;
    const parts = body.readInt32BE(at);
    at += 4;
    for (let i = 0; i < parts; i++) at = entry(at, mine);
  }
}

/** A broker's address as metadata gives it (`host:port`; the host may hold colons, the port does not). */
export function brokerAddress(broker: string): { host: string; port: number } {
  const colon = broker.lastIndexOf(':');
  return { host: broker.slice(0, colon), port: Number(broker.slice(colon + 1)) };
}

interface Waiter {
  readonly id: number;
  readonly resolve: (body: Buffer) => void;
  readonly reject: (err: Error) => void;
}

export class KafkaConnection {
  private socket: net.Socket | undefined;
  private opening: Promise<net.Socket> | undefined;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private correlation = 0;
  private readonly waiting: Waiter[] = [];
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly clientId: string,
    private readonly fail: (message: string) => Error,
    private readonly timeoutMs = 10_000,
  ) {}

  get where(): string {
    return `Kafka at ${this.host}:${this.port}`;
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.waiting.length;
  }

  private connect(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
      const failed = (err: Error): void => reject(this.fail(`${this.where}: ${err.message}`));
      socket.once('error', failed);
      socket.once('connect', () => {
        socket.off('error', failed);
        this.chunks = [];
        this.buffered = 0;
        socket.on('data', (d: Buffer) => this.onData(socket, d));
        socket.on('timeout', () => this.drop(socket, this.fail(`${this.where} answered nothing for ${this.timeoutMs / 1000} s`)));
        socket.on('error', (err) => this.drop(socket, this.fail(`${this.where}: ${err.message}`)));
        socket.on('close', () => this.drop(socket, this.fail(`${this.where} closed the connection`)));
        resolve(socket);
      });
    });
  }

  /** A socket gone: the requests on it fail with `err`; the next request opens another. */
  private drop(socket: net.Socket, err: Error): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    socket.destroy();
    for (const w of this.waiting.splice(0)) w.reject(err);
  }

  private onData(socket: net.Socket, d: Buffer): void {
    this.chunks.push(d);
    this.buffered += d.length;
    for (;;) {
      if (this.buffered < 4) return;
      if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks)];
      const size = this.chunks[0]!.readInt32BE(0);
      if (this.buffered < 4 + size) return;
      // Joined once the whole response is here (a fetch arrives in many socket reads).
      if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
      const all = this.chunks[0]!;
      const frame = all.subarray(4, 4 + size);
      const rest = all.subarray(4 + size);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      const w = this.waiting[0];
      if (w === undefined || frame.readInt32BE(0) !== w.id) {
        this.drop(socket, this.fail(`${this.where} answered a request it was not asked`));
        return;
      }
      this.waiting.shift();
      if (this.waiting.length === 0) socket.setTimeout(0);
      w.resolve(frame.subarray(4));
    }
  }

  private async open(): Promise<net.Socket> {
    if (this.closed) throw this.fail(`${this.where}: the connection is closed`);
    if (this.socket !== undefined) return this.socket;
    this.opening ??= this.connect().finally(() => (this.opening = undefined));
    const opened = await this.opening;
    if (this.closed) {
      opened.destroy();
      throw this.fail(`${this.where}: the connection is closed`);
    }
    if (this.socket === undefined) this.socket = opened;
    return this.socket;
  }

  /**
   * Sends request `apiKey` v`version` with `body` (what follows the header) and resolves
   * with the response's body (what follows its correlation id). `waitMs`: how long the
   * broker may hold the answer back on purpose, on top of the time limit.
   */
  async request(apiKey: number, version: number, body: Buffer, waitMs = 0): Promise<Buffer> {
    const socket = await this.open();
    const client = Buffer.from(this.clientId, 'utf8');
    const head = Buffer.alloc(4 + 2 + 2 + 4 + 2 + client.length);
    const id = (this.correlation = (this.correlation + 1) | 0);
    head.writeInt32BE(head.length - 4 + body.length, 0);
    head.writeInt16BE(apiKey, 4);
    head.writeInt16BE(version, 6);
    head.writeInt32BE(id, 8);
    head.writeInt16BE(client.length, 12);
    client.copy(head, 14);
    return new Promise<Buffer>((resolve, reject) => {
      this.waiting.push({ id, resolve, reject });
      socket.setTimeout(this.timeoutMs + waitMs);
      socket.cork();
      socket.write(head);
      socket.write(body);
      socket.uncork();
    });
  }

  close(): void {
    this.closed = true;
    if (this.socket !== undefined) this.drop(this.socket, this.fail(`${this.where}: the connection is closed`));
  }
}
