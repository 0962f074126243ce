// The admin socket drachtio-srf apps connect to: framing, authentication, routes, ping.
// SIP-carrying messages (`sip`, `proxy`) are handed to the engine core.
// Whoever holds the secret gets the calls, so until a connection has authenticated it gets little:
// one frame of a few hundred bytes, a few seconds, and a held-back verdict after wrong secrets.
import net from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { AuthThrottle } from './auth-throttle.ts';
import { ADMIN_PREAUTH_BYTES, type EngineLimits } from './limits.ts';
import type { EngineCounters } from './metrics.ts';
import { quietWarn, type QuietWarn } from './quiet-log.ts';
import { decode, frame, MAX_FRAME_BYTES, response, WireFramer, type WireMessage } from './wire.ts';

/** Version string reported to apps; srf only pings servers that claim ≥ v0.8.2. */
export const ENGINE_VERSION = 'v0.9.4-chakushin';

/** drachtio-server's published default admin secret, which its docs and images ship with. */
export const DRACHTIO_DEFAULT_SECRET = 'cymru';

let nextAppId = 1;

/** How long a connection being closed gets to flush its last answer. */
const LINGER_MS = 1000;

export class AppConnection {
  readonly id = nextAppId++;
  authenticated = false;
  /** A wrong secret is being answered (after the hold): nothing more is read from this connection. */
  judged = false;
  readonly routes = new Set<string>();
  private corked = false;
  constructor(readonly socket: net.Socket, readonly address: string) {}

  /**
   * Frames written while the engine handles the messages of one turn of the event loop leave in one
   * write (the socket is corked until the turn's I/O is done): under load, one syscall for many calls.
   */
  send(text: string): void {
    if (this.socket.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(frame(text));
  }

  /** Sends a last answer (if any) and closes; nothing more is read either way. */
  close(text?: string): void {
    if (this.socket.destroyed) return;
    if (text === undefined) {
      this.socket.destroy();
      return;
    }
    this.socket.pause();
    this.socket.end(frame(text));
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
  }
}

export interface AppLinkHandlers {
  /** `sip` and `proxy` messages from an authenticated app. */
  message(app: AppConnection, msg: WireMessage): void;
  disconnected(app: AppConnection): void;
  /** `udp/host:port,tcp/host:port` as drachtio-server reports it. */
  hostports(): string;
}

export type AdminLimits = Pick<EngineLimits, 'adminAuthTimeoutMs' | 'adminMaxUnauthenticated' | 'adminFailureDelayMs' | 'adminFailureDelayMaxMs'>;

export class AppLink {
  private server!: net.Server;
  readonly apps = new Set<AppConnection>();
  /** Not yet authenticated, oldest first. */
  private readonly waiting = new Set<AppConnection>();
  private readonly throttle: AuthThrottle;
  private readonly warn: QuietWarn;
  private rr = 0;
  host = '';
  port = 0;

  constructor(
    private readonly secret: string,
    private readonly handlers: AppLinkHandlers,
    private readonly log: Logger,
    private readonly limits: AdminLimits,
    private readonly counters: EngineCounters,
  ) {
    this.throttle = new AuthThrottle(limits.adminFailureDelayMs, limits.adminFailureDelayMaxMs);
    this.warn = quietWarn(log);
  }

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
    const app = new AppConnection(sock, (sock.remoteAddress ?? '').replace(/^::ffff:/, ''));
    this.apps.add(app);
    this.waiting.add(app);
    if (this.waiting.size > this.limits.adminMaxUnauthenticated) {
      // Crowded out: the oldest has had the longest to authenticate; a real app does so within milliseconds.
      const oldest = this.waiting.values().next().value as AppConnection;
      this.refuse(oldest, 'too many unauthenticated connections');
    }
    const authTimer = setTimeout(() => this.refuse(app, 'no authentication in time'), this.limits.adminAuthTimeoutMs);
    authTimer.unref();
    const framer = new WireFramer(ADMIN_PREAUTH_BYTES);
    let preauthBytes = 0;
    this.log.debug({ app: app.id, remote: `${sock.remoteAddress}:${sock.remotePort}` }, 'app connected');
    sock.on('data', (chunk) => {
      if (app.judged || sock.destroyed) return;
      // The budget holds one authenticate frame and its length prefix; an app waits for the answer before sending more.
      if (!app.authenticated && (preauthBytes += chunk.length) > ADMIN_PREAUTH_BYTES + 8) {
        return this.refuse(app, 'too many bytes before authenticating');
      }
      framer.feed(chunk);
      for (;;) {
        let f: string | undefined;
        try {
          f = framer.next();
        } catch (err) {
          if (!app.authenticated) return this.refuse(app, `invalid frame before authenticating: ${(err as Error).message}`);
          this.log.warn({ app: app.id, err: (err as Error).message }, 'invalid frame from app, closing');
          sock.destroy();
          return;
        }
        if (f === undefined) return;
        try {
          if (app.authenticated) this.onFrame(app, decode(f));
          else {
            this.onFirstFrame(app, decode(f));
            // It has sent its authenticate in time; a wrong secret's answer may wait out a longer hold.
            if (app.authenticated || app.judged) clearTimeout(authTimer);
            if (!app.authenticated) return;
            framer.maxFrame = MAX_FRAME_BYTES;
          }
        } catch (err) {
          // A bug handling one app message must not take the engine down.
          this.log.error({ app: app.id, err }, 'error handling app message');
        }
      }
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      clearTimeout(authTimer);
      this.waiting.delete(app);
      this.apps.delete(app);
      this.log.debug({ app: app.id }, 'app disconnected');
      this.handlers.disconnected(app);
    });
  }

  /** Closes a connection that has not authenticated (and never will on it). */
  private refuse(app: AppConnection, why: string, answer?: string): void {
    if (app.socket.destroyed || app.authenticated) return;
    this.counters.adminUnauthenticatedClosed++;
    this.waiting.delete(app);
    this.warn({ app: app.id, remote: app.address, why }, 'admin connection closed before authenticating');
    app.close(answer);
  }

  /** Before authentication only `authenticate` is taken, once per connection. */
  private onFirstFrame(app: AppConnection, msg: WireMessage): void {
    if (msg.type !== 'authenticate') {
      return this.refuse(app, `${msg.type || 'empty'} before authenticating`, response(msg.msgId, false, ['not authenticated']));
    }
    const held = this.throttle.heldFor(app.address);
    if (held > 0) {
      // Not even checked: while an address is held back, trying again tells it nothing.
      this.counters.adminAuthFailures++;
      return this.refuse(app, `address held back ${held} ms after wrong secrets`,
        response(msg.msgId, false, [`too many failed attempts, retry in ${Math.ceil(held / 1000)} s`]));
    }
    if (!secretMatches(msg.tokens[0] ?? '', this.secret)) {
      this.counters.adminAuthFailures++;
      const delay = this.throttle.failed(app.address);
      app.judged = true;
      this.warn({ app: app.id, remote: app.address, answerInMs: delay }, 'admin connection: incorrect secret');
      setTimeout(() => this.refuse(app, 'incorrect secret', response(msg.msgId, false, ['incorrect secret'])), delay).unref();
      return;
    }
    this.throttle.succeeded(app.address);
    this.waiting.delete(app);
    app.authenticated = true;
    const hp = this.handlers.hostports();
    app.send(response(msg.msgId, true, [hp, ENGINE_VERSION, hp]));
  }

  private onFrame(app: AppConnection, msg: WireMessage): void {
    const t = msg.tokens;
    if (msg.type === 'authenticate') {
      app.send(response(msg.msgId, false, ['already authenticated']));
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
