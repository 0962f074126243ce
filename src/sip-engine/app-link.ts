// The admin socket drachtio-srf apps connect to: framing, authentication, routes, ping.
// SIP-carrying messages (`sip`, `proxy`) are handed to the engine core.
import net from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { decode, frame, response, WireFramer, type WireMessage } from './wire.ts';

/** Version string reported to apps; srf only pings servers that claim ≥ v0.8.2. */
export const ENGINE_VERSION = 'v0.9.4-chakushin';

let nextAppId = 1;

export class AppConnection {
  readonly id = nextAppId++;
  authenticated = false;
  readonly routes = new Set<string>();
  constructor(readonly socket: net.Socket) {}

  send(text: string): void {
    if (!this.socket.destroyed) this.socket.write(frame(text));
  }
}

export interface AppLinkHandlers {
  /** `sip` and `proxy` messages from an authenticated app. */
  message(app: AppConnection, msg: WireMessage): void;
  disconnected(app: AppConnection): void;
  /** `udp/host:port,tcp/host:port` as drachtio-server reports it. */
  hostports(): string;
}

export class AppLink {
  private server!: net.Server;
  readonly apps = new Set<AppConnection>();
  private rr = 0;
  host = '';
  port = 0;

  constructor(private readonly secret: string, private readonly handlers: AppLinkHandlers, private readonly log: Logger) {}

  async listen(host: string, port: number): Promise<void> {
    this.server = net.createServer((s) => this.accept(s));
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => { this.server.off('error', reject); resolve(); });
    });
    const addr = this.server.address() as net.AddressInfo;
    this.host = host;
    this.port = addr.port;
  }

  get authenticatedCount(): number {
    let n = 0;
    for (const a of this.apps) if (a.authenticated) n++;
    return n;
  }

  /** Round-robin over authenticated apps that registered a route for this method. */
  pick(method: string): AppConnection | undefined {
    const candidates = [...this.apps].filter((a) => a.authenticated && a.routes.has(method.toLowerCase()));
    if (!candidates.length) return undefined;
    return candidates[this.rr++ % candidates.length];
  }

  private accept(sock: net.Socket): void {
    sock.setNoDelay(true);
    const app = new AppConnection(sock);
    this.apps.add(app);
    const framer = new WireFramer();
    this.log.debug({ app: app.id, remote: `${sock.remoteAddress}:${sock.remotePort}` }, 'app connected');
    sock.on('data', (chunk) => {
      let frames: string[];
      try {
        frames = framer.push(chunk);
      } catch (err) {
        this.log.warn({ app: app.id, err: (err as Error).message }, 'invalid frame from app, closing');
        sock.destroy();
        return;
      }
      for (const f of frames) {
        try {
          this.onFrame(app, decode(f));
        } catch (err) {
          // A bug handling one app message must not take the engine down.
          this.log.error({ app: app.id, err }, 'error handling app message');
        }
      }
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      this.apps.delete(app);
      this.log.debug({ app: app.id }, 'app disconnected');
      this.handlers.disconnected(app);
    });
  }

  private onFrame(app: AppConnection, msg: WireMessage): void {
    const t = msg.tokens;
    if (msg.type === 'authenticate') {
      if (!secretMatches(t[0] ?? '', this.secret)) {
        app.send(response(msg.msgId, false, ['incorrect secret']));
        return;
      }
      app.authenticated = true;
      const hp = this.handlers.hostports();
      app.send(response(msg.msgId, true, [hp, ENGINE_VERSION, hp]));
      return;
    }
    if (!app.authenticated) {
      app.send(response(msg.msgId, false, ['not authenticated']));
      return;
    }
    switch (msg.type) {
      case 'ping':
        app.send(response(msg.msgId, true, ['pong']));
        return;
      case 'route':
        // cdr:* routes are accepted but the engine emits no CDRs.
        app.routes.add((t[0] ?? '').toLowerCase());
        app.send(response(msg.msgId, true));
        return;
      case 'remove_route':
        app.routes.delete((t[0] ?? '').toLowerCase());
        app.send(response(msg.msgId, true));
        return;
      case 'sip':
      case 'proxy':
        this.handlers.message(app, msg);
        return;
      default:
        app.send(response(msg.msgId, false, ['Unknown message type']));
    }
  }

  async close(): Promise<void> {
    for (const a of this.apps) a.socket.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function secretMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
