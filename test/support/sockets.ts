// A raw TCP connection from a chosen loopback address (127.0.0.2 … stand in for other hosts), for
// tests of connection caps and deadlines: what arrived, and when it closed.
import net from 'node:net';

export interface TestConnection {
  sock: net.Socket;
  /** Resolves at the close with the ms since connect. */
  closed: Promise<number>;
  isClosed(): boolean;
  data(): string;
}

/** Resolves once connected, or once closed: a refusal at accept can reset it before 'connect'. */
export async function openConnection(port: number, localAddress = '127.0.0.1'): Promise<TestConnection> {
  const sock = net.connect({ host: '127.0.0.1', port, localAddress });
  sock.on('error', () => {});
  let done = false;
  let data = '';
  let t0 = Date.now();
  sock.on('data', (d) => { data += d.toString(); });
  const closed = new Promise<number>((r) => sock.once('close', () => { done = true; r(Date.now() - t0); }));
  await Promise.race([new Promise<void>((r) => sock.once('connect', () => { t0 = Date.now(); r(); })), closed]);
  return { sock, closed, isClosed: () => done, data: () => data };
}
