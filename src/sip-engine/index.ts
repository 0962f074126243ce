// Public entry point of the built-in SIP engine: a drachtio-server stand-in that drachtio-srf apps connect to.
import pino, { type Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { TrustedPeerMatcher } from '../domain/trusted-peers.ts';
import { EngineCore } from './core.ts';
import { DEFAULT_LIMITS, type EngineLimits } from './limits.ts';
import { registerEngineMetrics, type EngineCounters } from './metrics.ts';
import type { SipTimers } from './transactions.ts';

export interface EngineOptions {
  sip: { host: string; port: number };
  admin: { host: string; port: number };
  secret: string;
  logger?: Logger;
  /** RFC 3261 T1/T2/T4 and timer C in ms; only tests shorten them, all by one factor so every edge keeps its place. */
  timers?: Partial<SipTimers>;
  /** Connection, transaction and admin-socket limits; unset entries take DEFAULT_LIMITS. */
  limits?: Partial<EngineLimits>;
  /** The carrier's softswitch addresses: always let in over TCP, whoever fills the total cap (only their per-address cap holds them). */
  isTrustedPeer?: TrustedPeerMatcher;
}

export interface Engine {
  sipAddress: { host: string; port: number };
  adminAddress: { host: string; port: number };
  registerMetrics(registry: Registry): void;
  /** Live counters (also what registerMetrics exposes). */
  counters: EngineCounters;
  close(): Promise<void>;
}

export async function startEngine(opts: EngineOptions): Promise<Engine> {
  const log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'sip-engine' });
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const core = new EngineCore({
    secret: opts.secret, log, limits, ...(opts.timers ? { timers: opts.timers } : {}), ...(opts.isTrustedPeer ? { isTrustedPeer: opts.isTrustedPeer } : {}),
  });
  await core.start(opts.sip, opts.admin);
  let closed: Promise<void> | undefined;
  return {
    sipAddress: { host: opts.sip.host, port: core.transport.port },
    adminAddress: { host: opts.admin.host, port: core.apps.port },
    counters: core.counters,
    registerMetrics: (registry) => registerEngineMetrics(core.counters, registry),
    close: () => (closed ??= core.close()),
  };
}

export type { EngineCounters } from './metrics.ts';
export { DEFAULT_LIMITS, type EngineLimits } from './limits.ts';
export { DRACHTIO_DEFAULT_SECRET } from './app-link.ts';
