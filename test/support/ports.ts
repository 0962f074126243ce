// Free ports for tests that run side by side: bind port 0, read the number back, release it.
import dgram from 'node:dgram';
import net from 'node:net';

function tcpPort(port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: p } = server.address() as net.AddressInfo;
      server.close(() => resolve(p));
    });
  });
}

function udpPort(port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    sock.once('error', reject);
    sock.bind(port, '127.0.0.1', () => {
      const p = sock.address().port;
      sock.close(() => resolve(p));
    });
  });
}

/** A port free on 127.0.0.1 for UDP, TCP, or both at once (what a SIP endpoint needs). */
export async function freePort(kind: 'udp' | 'tcp' | 'both' = 'both'): Promise<number> {
  if (kind === 'tcp') return tcpPort();
  if (kind === 'udp') return udpPort();
  for (let i = 0; i < 50; i++) {
    const p = await udpPort();
    try {
      return await tcpPort(p);
    } catch {
      // taken on TCP; try another
    }
  }
  throw new Error('no port free on both UDP and TCP');
}

/** Every listener of `chakushin start` on a free loopback port of its own (RTP ports as the OS hands them out). */
export async function serviceListenEnv(): Promise<Record<string, string>> {
  return {
    HTTP_LISTEN: `127.0.0.1:${await freePort('tcp')}`,
    SITE_LISTEN: `127.0.0.1:${await freePort('tcp')}`,
    SIP_LISTEN: `127.0.0.1:${await freePort()}`,
    ENGINE_ADMIN: `127.0.0.1:${await freePort('tcp')}`,
    SMTP_CATCHER_LISTEN: `127.0.0.1:${await freePort('tcp')}`,
    RTP_PORT_RANGE: '0-0',
  };
}
