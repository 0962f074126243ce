// The engine's own address as it writes it into Via, Contact and the app's `@localhost` URIs.
import net from 'node:net';
import os from 'node:os';
import { randomToken } from './random.ts';
import type { Protocol } from './transport.ts';

export const newBranch = (): string => 'z9hG4bK' + randomToken(9, 'base64url');
export const newTag = (): string => randomToken(6, 'hex');

export class LocalAddress {
  /** The bind address, or a real interface for 0.0.0.0 / ::. */
  host = '';
  port = 0;

  bind(host: string, port: number): void {
    this.host = advertisedAddress(host);
    this.port = port;
  }

  hostport(): string {
    return `${net.isIPv6(this.host) ? `[${this.host}]` : this.host}:${this.port}`;
  }

  via(proto: Protocol): string {
    return `SIP/2.0/${proto.toUpperCase()} ${this.hostport()};rport;branch=${newBranch()}`;
  }

  contact(proto: Protocol): string {
    return `<sip:${this.hostport()}${proto === 'tcp' ? ';transport=tcp' : ''}>`;
  }

  /** drachtio-srf writes `user@localhost` when it does not know the server's address. */
  localize(value: string, contactProto?: Protocol): string {
    if (!value.includes('@localhost')) return value;
    const tp = contactProto === 'tcp' ? ';transport=tcp' : '';
    return value.replace(/@localhost(?::\d+)?(?=[>;?\s]|$)/g, `@${this.hostport()}${tp}`);
  }
}

function advertisedAddress(bind: string): string {
  if (bind !== '0.0.0.0' && bind !== '::') return bind;
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
