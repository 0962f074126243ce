// RTP port pool (media.rtpPortMin..rtpPortMax). Only even ports carry RTP, leaving the odd
// neighbour free for a caller that sends RTCP to port+1. A range of 0..0 binds an
// ephemeral port (tests). A port another process holds is skipped, not fatal.
import dgram from 'node:dgram';
import { PortsExhaustedError } from './port.ts';

function bind(socket: dgram.Socket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

export class PortPool {
  private readonly inUse = new Set<number>();
  private readonly first: number;
  private readonly slots: number;
  private cursor = 0;

  constructor(
    readonly min: number,
    readonly max: number,
  ) {
    this.first = min % 2 === 0 ? min : min + 1;
    this.slots = min === 0 && max === 0 ? 0 : Math.max(0, Math.floor((max - this.first) / 2) + 1);
  }

  /** A UDP socket bound on host to a free port of the pool. */
  async open(host: string): Promise<dgram.Socket> {
    if (this.slots === 0) {
      const socket = dgram.createSocket('udp4');
      await bind(socket, host, 0);
      return socket;
    }
    for (let tried = 0; tried < this.slots; tried++) {
      const port = this.first + 2 * ((this.cursor + tried) % this.slots);
      if (this.inUse.has(port)) continue;
      this.inUse.add(port);
      const socket = dgram.createSocket('udp4');
      try {
        await bind(socket, host, port);
        this.cursor = (this.cursor + tried + 1) % this.slots;
        return socket;
      } catch (err) {
        this.inUse.delete(port);
        socket.close();
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
    throw new PortsExhaustedError(this.min, this.max);
  }

  release(port: number): void {
    this.inUse.delete(port);
  }
}
