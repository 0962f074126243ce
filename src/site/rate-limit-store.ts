// @fastify/rate-limit's store on PostgreSQL (src/store/rate-limit.ts) in place of its default
// per-process memory: instances share state only through the database, and a limit kept in each
// instance's memory would give a client behind the balancer one allowance per instance.
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor, RateLimitOptions } from '@fastify/rate-limit';
import type pg from 'pg';
import { countHit } from '../store/rate-limit.ts';

/**
 * The counter could not be reached. Fail closed: the request is refused with 503, not let through
 * uncounted. Every limited route (a login, a code send, a lookup) needs the database for its own
 * work anyway, so letting it through would buy no availability and would hand an attacker
 * unlimited attempts whenever the counter alone fails.
 */
export class RateLimitUnavailable extends Error {
  readonly statusCode = 503;
}

// What the plugin (index.js) really hands a store: the merged limit options, with the route under
// routeInfo for a route's child. Its typings call the child's argument RouteOptions; it is not.
type LimitOptions = RateLimitOptions & { routeInfo?: { method?: string | string[]; url?: string } };
type ChildArgument = Parameters<FastifyRateLimitStore['child']>[0];

export function pgRateLimitStore(pool: pg.Pool): FastifyRateLimitStoreCtor {
  class PgRateLimitStore implements FastifyRateLimitStore {
    /** `scope` keeps each route's counters apart, as the per-route stores of the default do. */
    constructor(options: LimitOptions, private readonly scope = '') {
      // Both change how a window is extended; this store keeps fixed windows only, so refuse them
      // at start rather than silently counting differently from the configuration.
      if (options.continueExceeding || options.exponentialBackoff) throw new Error('rate limit: continueExceeding and exponentialBackoff are not supported by the PostgreSQL store');
    }

    incr(key: string, cb: (err: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      countHit(pool, this.scope + key, timeWindow).then(
        (hit) => cb(null, { current: hit.hits, ttl: hit.ttlMs }),
        (err: Error) => cb(new RateLimitUnavailable(`rate-limit counter unavailable: ${err.message}`)),
      );
    }

    child(routeOptions: ChildArgument): FastifyRateLimitStore {
      const options = routeOptions as unknown as LimitOptions;
      // Routes of one group (all the logins) share one counter per client.
      if (options.groupId) return new PgRateLimitStore(options, `group:${options.groupId} `);
      const { method = '', url = '' } = options.routeInfo ?? {};
      return new PgRateLimitStore(options, `${[method].flat().join(',')} ${url} `);
    }
  }
  return PgRateLimitStore;
}

/**
 * The route options of every login POST (pattern A, the legacy site, the hand-over): one
 * per-address allowance (site.loginRateLimit) shared by all of them, so a client cannot try each
 * login page in turn for three times the attempts before the per-number lockout.
 */
export function loginRateLimit(limit: { max: number; windowSec: number }) {
  return { config: { rateLimit: { max: limit.max, timeWindow: limit.windowSec * 1000, groupId: 'login' } } };
}
