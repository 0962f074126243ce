// UDP and TCP on the same host:port. TCP messages are framed by Content-Length; responses and
// in-dialog requests go back over the connection the peer used, while it is open.
import dgram from 'node:dgram';
import net from 'node:net';
import { StreamFramer } from './stream.ts';

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
  /** A TCP stream that could not be framed; the connection is closed. */
  streamError(from: Peer, err: Error): void;
}

const IDLE_TCP_MS = 5 * 60_000;

export class Transport {
  private udp!: dgram.Socket;
  private tcp!: net.Server;
  private conns = new Map<string, net.Socket>();
  host = '';
  port = 0;

  constructor(private readonly events: TransportEvents) {}

  async listen(host: string, port: number): Promise<void> {
    // With port 0, let UDP pick and retry until TCP can share the number.
    for (let attempt = 0; ; attempt++) {
      const udp = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
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
    this.udp.on('message', (buf, rinfo) => this.events.message(buf, { protocol: 'udp', address: rinfo.address, port: rinfo.port }));
    this.udp.on('error', () => { /* ICMP errors on send are reported here; nothing to do */ });
  }

  private key(address: string, port: number): string {
    return `${address}:${port}`;
  }

  private accept(sock: net.Socket): void {
    const address = (sock.remoteAddress ?? '').replace(/^::ffff:/, '');
    const port = sock.remotePort ?? 0;
    this.adopt(sock, address, port);
  }

  private adopt(sock: net.Socket, address: string, port: number): void {
    const key = this.key(address, port);
    this.conns.set(key, sock);
    sock.setNoDelay(true);
    sock.setTimeout(IDLE_TCP_MS, () => sock.destroy());
    const framer = new StreamFramer();
    const peer: Peer = { protocol: 'tcp', address, port, conn: sock };
    sock.on('data', (chunk) => {
      let msgs: Buffer[];
      try {
        msgs = framer.push(chunk);
      } catch (err) {
        this.events.streamError(peer, err as Error);
        sock.destroy();
        return;
      }
      for (const m of msgs) this.events.message(m, peer);
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => { if (this.conns.get(key) === sock) this.conns.delete(key); });
  }

  /** Sends a message; over TCP uses `peer.conn` if open, else an open connection to the address, else connects. */
  send(peer: Peer, buf: Buffer): void {
    if (peer.protocol === 'udp') {
      this.udp.send(buf, peer.port, peer.address);
      return;
    }
    let sock = peer.conn && !peer.conn.destroyed ? peer.conn : this.conns.get(this.key(peer.address, peer.port));
    if (!sock || sock.destroyed) {
      sock = net.connect({ host: peer.address, port: peer.port });
      this.adopt(sock, peer.address, peer.port);
    }
    sock.write(buf);
  }

  async close(): Promise<void> {
    for (const s of this.conns.values()) s.destroy();
    this.conns.clear();
    await Promise.all([
      new Promise<void>((r) => this.udp.close(() => r())),
      new Promise<void>((r) => this.tcp.close(() => r())),
    ]);
  }
}
