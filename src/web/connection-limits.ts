// Caps and deadlines of an HTTP listener (the settings site, the operations port), so that no client
// holds descriptors the SIP engine's reserve counts on: a total connection cap (node's maxConnections)
// and an optional per-address cap, both closing the socket at accept, and the
// deadlines for a request head, a whole request and an idle keep-alive connection. Each listener has
// its own caps: a flood of the site never makes /healthz unanswerable.
import type http from 'node:http';
import type { Socket } from 'node:net';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface HttpLimits {
  /** Connections open at once; beyond, a new one is closed at accept. */
  maxConnections: number;
  /** Connections from one address at once; beyond, a new one is closed at accept. Unset: no per-address cap. */
  maxConnectionsPerAddress?: number;
  /** The request head must arrive within this from the connection's (or the request's) start: slow-loris guard. */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (node 20.20 waits a second more than it advertises). */
  keepAliveTimeoutMs: number;
}

export type Listener = 'site' | 'http';

/**
 * http.createServer options carrying the deadlines. Node checks them only every
 * connectionsCheckingInterval (30 s by default), so it is set to a quarter of the head deadline, at
 * most a second: a slow client is cut close to the deadline, not up to 30 s after it.
 */
export function deadlineOptions(limits: HttpLimits): http.ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

interface Metrics {
  refused: Counter<'listener' | 'limit'>;
  timedOut: Counter<'listener'>;
  open: Gauge<'listener'>;
  readers: Map<Listener, () => number>;
}

/** One set of metrics per registry, shared by both listeners (labelled by listener). */
const metricsByRegistry = new WeakMap<Registry, Metrics>();

function metricsOf(registry: Registry): Metrics {
  let m = metricsByRegistry.get(registry);
  if (m) return m;
  const readers = new Map<Listener, () => number>();
  const registers = [registry];
  m = {
    readers,
    refused: new Counter({
      name: 'chakushin_http_connections_refused_total', help: 'HTTP connections closed at accept: a connection cap (total or per address) was reached',
      labelNames: ['listener', 'limit'], registers,
    }),
    timedOut: new Counter({
      name: 'chakushin_http_requests_timed_out_total', help: 'HTTP connections cut for not sending a request head or a whole request in time',
      labelNames: ['listener'], registers,
    }),
    open: new Gauge({
      name: 'chakushin_http_connections', help: 'Open HTTP connections', labelNames: ['listener'], registers,
      collect() { for (const [listener, read] of readers) this.set({ listener }, read()); },
    }),
  };
  metricsByRegistry.set(registry, m);
  return m;
}

/**
 * Puts the caps on a server before it listens (the deadlines come with deadlineOptions at creation).
 * `exempt`: addresses the per-address cap does not apply to (the site's trusted reverse proxies,
 * whose one address carries every client).
 */
export function limitConnections(server: http.Server, opts: {
  listener: Listener;
  limits: HttpLimits;
  exempt?: (address: string) => boolean;
  registry?: Registry;
}): void {
  const { limits, listener } = opts;
  const metrics = opts.registry ? metricsOf(opts.registry) : undefined;
  let open = 0;
  const perAddress = new Map<string, number>();
  metrics?.readers.set(listener, () => open);

  server.maxConnections = limits.maxConnections;
  server.on('drop', () => metrics?.refused.inc({ listener, limit: 'total' }));
  server.on('clientError', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') metrics?.timedOut.inc({ listener });
  });
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const perAddressCap = limits.maxConnectionsPerAddress;
    if (perAddressCap !== undefined && (perAddress.get(address) ?? 0) >= perAddressCap && !opts.exempt?.(address)) {
      metrics?.refused.inc({ listener, limit: 'per_address' });
      // Before a byte is read: no request of this connection ever reaches a handler. (A 503 written
      // now could not be relied on: closing with the request unread resets the connection.)
      socket.destroy();
      return;
    }
    open++;
    perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
    socket.once('close', () => {
      open--;
      const n = (perAddress.get(address) ?? 1) - 1;
      if (n > 0) perAddress.set(address, n);
      else perAddress.delete(address);
    });
  });
}
