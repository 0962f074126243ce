// Operations endpoints on the HTTP port: /healthz for the load balancer and /metrics for
// Prometheus. The settings site (設定サイト) has a listener of its own (src/site/foundation.ts).
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import { deadlineOptions, limitConnections, type HttpLimits } from './connection-limits.ts';

export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

/** What /metrics serves, when it is more than the registry (a node adds its workers' metrics). */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

export interface WebServer {
  port: number;
  close(): Promise<void>;
}

export async function startWebServer(opts: {
  host: string;
  port: number;
  /** The port's own metrics go here; /metrics serves it unless `exposition` is given. */
  registry: Registry;
  exposition?: MetricsSource;
  health: HealthCheck[];
  /** More checks at once, each 'ok' or what is wrong (a node's workers). */
  moreHealth?: () => Promise<Record<string, string>>;
  logger: Logger;
  /** Its own caps, apart from the site's: a flooded site leaves /healthz answerable. */
  limits: HttpLimits;
}): Promise<WebServer> {
  const server = http.createServer(deadlineOptions(opts.limits), (req, res) => {
    handle(req, res).catch((err) => {
      opts.logger.error({ err: (err as Error).message, url: req.url }, 'http handler failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });

  limitConnections(server, { listener: 'http', limits: opts.limits, registry: opts.registry });
  // With a 'clientError' listener (the timeout counter) node no longer answers by itself: as it would.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writable && socket.bytesWritten === 0) socket.write(`HTTP/1.1 ${clientErrorStatus(err)}\r\nConnection: close\r\n\r\n`);
    socket.destroy();
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (url.pathname === '/healthz') {
      const results: (readonly [string, string])[] = await Promise.all(
        opts.health.map(async (h) => {
          try {
            await h.check();
            return [h.name, 'ok'] as const;
          } catch (err) {
            return [h.name, (err as Error).message] as const;
          }
        }),
      );
      if (opts.moreHealth) results.push(...Object.entries(await opts.moreHealth()));
      const ok = results.every(([, r]) => r === 'ok');
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: ok ? 'ok' : 'degraded', checks: Object.fromEntries(results) }) + '\n');
      return;
    }
    if (url.pathname === '/metrics') {
      const source = opts.exposition ?? opts.registry;
      res.writeHead(200, { 'content-type': source.contentType });
      res.end(await source.metrics());
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function clientErrorStatus(err: NodeJS.ErrnoException): string {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
  if (err.code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  return '400 Bad Request';
}
