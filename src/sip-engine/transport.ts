// UDP and TCP on the same host:port. TCP messages are framed by Content-Length; responses and
// in-dialog requests go back over the connection the peer used, while it is open.
// TCP connections are capped in total and per source address, and a connection lives only while it
// completes messages: bytes that never make a message do not keep it open (slow-loris guard).
// The total cap counts untrusted sources only: however many addresses fill it, a trusted trunk peer
// (the carrier's softswitch) still gets its connections, up to the per-address cap.
import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from 'pino';
import type { TrustedPeerMatcher } from '../domain/trusted-peers.ts';
import { parseMessage, serialize, SipParseError, type SipMessage } from './message.ts';
import { DescriptorWatch, minFreeDescriptors, openFileLimit, tcpConnectionCap, type EngineLimits } from './limits.ts';
import type { EngineCounters } from './metrics.ts';
import { quietWarn, type QuietWarn } from './quiet-log.ts';
import { answerable, statelessResponse } from './stateless.ts';
import { StreamFramer, StreamFramingError } from './stream.ts';

const UDP_RECEIVE_BUFFER = 4 * 1024 * 1024;

export type Protocol = 'udp' | 'tcp';

export interface Peer {
  protocol: Protocol;
  address: string;
  port: number;
  /** The TCP connection a message arrived on (preferred for anything sent back). */
  conn?: net.Socket;
}

export interface TransportEvents {
  message(buf: Buffer, from: Peer): void;
  /** A TCP stream that could not be framed; the connection is closed (after a 400/513 when one could be built). */
  streamError(from: Peer, err: Error): void;
}

/** What the transport keeps per TCP connection. */
interface Conn {
  sock: net.Socket;
  key: string;
  address: string;
  inbound: boolean;
  /** Counted against the total cap (the peer is not a trusted trunk peer). */
  capped: boolean;
  framer: StreamFramer;
  /** Runs while a message is due: from accept to the first message, and from the first byte of each later one. */
  messageTimer?: NodeJS.Timeout;
  idleTimer: NodeJS.Timeout;
}

/** How long a closing connection gets to flush its last answer. */
const LINGER_MS = 1000;

export class Transport {
  private udp!: dgram.Socket;
  private tcp!: net.Server;
  private conns = new Map<string, Conn>();
  private perAddress = new Map<string, number>();
  /** Open connections with untrusted peers: what the total cap bounds. */
  private capped = 0;
  /** Open TCP connections with untrusted peers at once: the configured cap, lowered to keep the descriptor reserve. */
  readonly maxConnections: number;
  private readonly descriptors: DescriptorWatch;
  private readonly warn: QuietWarn;
  host = '';
  port = 0;

  constructor(
    private readonly events: TransportEvents,
    private readonly limits: EngineLimits,
    private readonly counters: EngineCounters,
    private readonly log: Logger,
    private readonly isTrustedPeer: TrustedPeerMatcher = () => false,
  ) {
    counters.tcpConnections = () => this.conns.size;
    this.warn = quietWarn(log);
    const nofile = openFileLimit();
    const { cap, lowFdLimit } = tcpConnectionCap(limits, nofile);
    this.maxConnections = cap;
    this.descriptors = new DescriptorWatch(nofile, minFreeDescriptors(limits));
    if (lowFdLimit) {
      log.warn({ nofile, fdReserve: limits.fdReserve, tcpMaxConnections: cap },
        'RLIMIT_NOFILE leaves less than the descriptor reserve: SIP TCP gets a quarter of it; raise the limit (ulimit -n)');
    }
  }

  async listen(host: string, port: number): Promise<void> {
    // With port 0, let UDP pick and retry until TCP can share the number.
    for (let attempt = 0; ; attempt++) {
      // A large receive buffer absorbs bursts (a softswitch failing over, a stalled event loop)
      // instead of the kernel dropping datagrams; the kernel caps it at net.core.rmem_max.
      const udp = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4', recvBufferSize: UDP_RECEIVE_BUFFER });
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, host, () => { udp.off('error', reject); resolve(); });
      });
      const actual = udp.address().port;
      const tcp = net.createServer((s) => this.accept(s));
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen(actual, host, () => { tcp.off('error', reject); resolve(); });
        });
      } catch (err) {
        udp.close();
        if (port === 0 && attempt < 20) continue;
        throw err;
      }
      this.udp = udp;
      this.tcp = tcp;
      this.host = host;
      this.port = actual;
      break;
    }
    // accept() failing (EMFILE) must not end the process; the cap keeps it from happening.
    this.tcp.on('error', (err) => this.log.error({ err: err.message }, 'SIP TCP listener error'));
    this.udp.on('message', (buf, rinfo) => this.events.message(buf, { protocol: 'udp', address: rinfo.address, port: rinfo.port }));
    this.udp.on('error', () => { /* ICMP errors on send are reported here; nothing to do */ });
  }

  /** The process is nearly out of descriptors (whoever holds them): new calls could not get an RTP socket. */
  get descriptorsLow(): boolean {
    const low = this.descriptors.low;
    if (low) this.warn({ minFree: this.descriptors.minFree }, 'nearly out of file descriptors: new requests get 503');
    return low;
  }

  private key(address: string, port: number): string {
    return `${address}:${port}`;
  }

  private accept(sock: net.Socket): void {
    const address = (sock.remoteAddress ?? '').replace(/^::ffff:/, '');
    const port = sock.remotePort ?? 0;
    const trusted = this.isTrustedPeer(address);
    const refusal = !trusted && this.capped >= this.maxConnections ? 'total'
      : (this.perAddress.get(address) ?? 0) >= this.limits.tcpMaxConnectionsPerAddress ? 'per address' : undefined;
    if (refusal) {
      // No request to answer yet: a reset tells the peer at once, and frees the descriptor now.
      this.counters.tcpRefused++;
      this.warn({ peer: `${address}:${port}`, limit: refusal, open: this.conns.size, trusted }, 'SIP TCP connection refused: at capacity');
      sock.on('error', () => {});
      sock.resetAndDestroy();
      return;
    }
    this.adopt(sock, address, port, true, trusted);
  }

  private adopt(sock: net.Socket, address: string, port: number, inbound: boolean, trusted = this.isTrustedPeer(address)): void {
    const key = this.key(address, port);
    const c: Conn = {
      sock, key, address, inbound, capped: !trusted, framer: new StreamFramer(),
      idleTimer: setTimeout(() => this.expire(c, 'idle'), this.limits.tcpIdleTimeoutMs),
    };
    c.idleTimer.unref();
    // We call out first on an outbound connection; an inbound one owes us a message from the start.
    if (inbound) this.armMessageTimer(c);
    this.conns.set(key, c);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    if (c.capped) this.capped++;
    sock.setNoDelay(true);
    const peer: Peer = { protocol: 'tcp', address, port, conn: sock };
    const onData = (chunk: Buffer) => {
      let msgs: Buffer[];
      try {
        msgs = c.framer.push(chunk);
      } catch (err) {
        sock.off('data', onData);
        this.unframeable(c, peer, err as Error);
        return;
      }
      if (msgs.length) {
        c.idleTimer.refresh();
        this.clearMessageTimer(c);
      }
      // A message begun: due within the timeout, however its bytes trickle in.
      if (c.framer.pending && !c.messageTimer) this.armMessageTimer(c);
      for (const m of msgs) this.events.message(m, peer);
    };
    sock.on('data', onData);
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      clearTimeout(c.idleTimer);
      this.clearMessageTimer(c);
      if (this.conns.get(key) === c) this.conns.delete(key);
      if (c.capped) this.capped--;
      const n = (this.perAddress.get(address) ?? 1) - 1;
      if (n > 0) this.perAddress.set(address, n);
      else this.perAddress.delete(address);
    });
  }

  private armMessageTimer(c: Conn): void {
    c.messageTimer = setTimeout(() => this.expire(c, 'no complete message'), this.limits.tcpMessageTimeoutMs);
    c.messageTimer.unref();
  }

  private clearMessageTimer(c: Conn): void {
    clearTimeout(c.messageTimer);
    c.messageTimer = undefined;
  }

  private expire(c: Conn, why: 'idle' | 'no complete message'): void {
    if (why !== 'idle') {
      this.counters.tcpTimedOut++;
      this.warn({ peer: c.key, pending: c.framer.pending }, 'SIP TCP connection closed: no complete message in time');
    }
    c.sock.destroy();
  }

  /** Answers what can still be answered on a stream that lost its framing (400/513), then closes it. */
  private unframeable(c: Conn, peer: Peer, err: Error): void {
    this.events.streamError(peer, err);
    let answer: Buffer | undefined;
    if (err instanceof StreamFramingError && err.head) {
      let req: SipMessage | undefined;
      try {
        req = parseMessage(Buffer.concat([err.head, Buffer.from('\r\n\r\n')]));
      } catch (e) {
        req = e instanceof SipParseError ? e.partial : undefined;
      }
      if (req?.kind === 'request' && answerable(req)) answer = serialize(statelessResponse(req, err.status));
    }
    this.clearMessageTimer(c);
    if (answer) {
      this.counters.messagesOut++;
      c.sock.end(answer);
      setTimeout(() => c.sock.destroy(), LINGER_MS).unref();
    } else c.sock.destroy();
  }

  /** Sends a message; over TCP uses `peer.conn` if open, else an open connection to the address, else connects. */
  send(peer: Peer, buf: Buffer): void {
    if (peer.protocol === 'udp') {
      this.udp.send(buf, peer.port, peer.address);
      return;
    }
    let sock = peer.conn && !peer.conn.destroyed ? peer.conn : this.conns.get(this.key(peer.address, peer.port))?.sock;
    if (!sock || sock.destroyed) {
      sock = net.connect({ host: peer.address, port: peer.port });
      this.adopt(sock, peer.address, peer.port, false);
    }
    this.conns.get(this.key(peer.address, peer.port))?.idleTimer.refresh();
    sock.write(buf);
  }

  async close(): Promise<void> {
    this.descriptors.stop();
    for (const c of this.conns.values()) c.sock.destroy();
    this.conns.clear();
    await Promise.all([
      new Promise<void>((r) => this.udp.close(() => r())),
      new Promise<void>((r) => this.tcp.close(() => r())),
    ]);
  }
}
