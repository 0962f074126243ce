// One typed configuration for the whole service. Sources, later wins:
// built-in defaults < JSON file (CHAKUSHIN_CONFIG or --config) < environment variables.
// Every external part (SIP engine, PostgreSQL, SMTP, media) has an embedded default,
// so an empty environment runs the whole service on a bare machine.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import { ConfigError } from './config-error.ts';
import { NATIONAL_NUMBER } from './domain/phone-number.ts';
import { isNextHopUri } from './domain/next-hop.ts';
import { DEFAULT_RING_SECONDS, DEFAULT_SELECT_LIST_MAX, RING_SECONDS } from './domain/voice-warp.ts';
import { ABSENT_REASONS } from './domain/incoming-call.ts';
import { ABSENT_REASON_MATCHES, DEFAULT_ABSENT_REASON_RULES } from './domain/caller-id.ts';
import { lineInfoConfigSchema } from './config-line-info.ts';

const hostPort = z.object({ host: z.string().min(1), port: z.number().int().min(0).max(65535) });
/** One of the built-in engine's limits; unset ones take the engine's own table (src/sip-engine/limits.ts). */
const engineLimit = (min = 1) => z.number().int().min(min).optional();
/** Deadlines of an HTTP listener (src/web/connection-limits.ts). */
const httpDeadlines = (d: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number }) => ({
  /** The request head must arrive within this (slow-loris guard); at most requestTimeoutMs. */
  headersTimeoutMs: z.number().int().min(1).default(d.headersTimeoutMs),
  /** The whole request, body included. */
  requestTimeoutMs: z.number().int().min(1).default(d.requestTimeoutMs),
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: z.number().int().min(1).default(d.keepAliveTimeoutMs),
});
const nationalNumber = z.string().regex(NATIONAL_NUMBER, 'a national number: 0 and 9–10 digits, no hyphens');

/** Footer of the 着信お知らせメール: differs by region and by settings pattern (A current site, B legacy site). */
const mailFooter = z.object({
  brand: z.string(),
  siteName: z.string(),
  siteUrl: z.string(),
  from: z.string(),
});

/**
 * One app worker per core. bench:scale on 2 cores also runs one worker: it costs less CPU per call
 * (fewer processes, fuller batches) but sends mail from one outbox sender, which falls behind above
 * 300 cps, so the default stays one per core.
 */
export function defaultWorkers(cores: number): number {
  return cores;
}

export const configSchema = z.object({
  /** Where embedded PostgreSQL keeps its data, caught mails, etc. */
  varDir: z.string().default('var'),
  log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).default({}),
  sip: z
    .object({
      /** Where the built-in engine listens for SIP (UDP and TCP). Ignored when a real drachtio-server is used. */
      listen: hostPort.default({ host: '127.0.0.1', port: 5060 }),
      /** Set to use a real drachtio-server instead of the built-in engine. */
      drachtio: z.object({ host: z.string(), port: z.number().int(), secret: z.string() }).optional(),
      /**
       * Admin (drachtio wire protocol) socket of the built-in engine. Unset: a free port on 127.0.0.1 of
       * the engine's own, told to the node's workers, so nodes on one host never clash.
       */
      engineAdmin: hostPort.optional(),
      /** Unset: a random secret made at each start, shared only by this process and its engine. */
      engineSecret: z.string().min(1).max(256).optional(),
      /** What the built-in engine lets peers hold (docs/sip-engine.md#limits): only what is set here overrides the engine's defaults. */
      engineLimits: z
        .object({
          tcpMaxConnections: engineLimit(),
          tcpMaxConnectionsPerAddress: engineLimit(),
          fdReserve: engineLimit(0),
          tcpMessageTimeoutMs: engineLimit(),
          tcpIdleTimeoutMs: engineLimit(),
          maxTransactions: engineLimit(),
          retryAfterSec: engineLimit(),
          adminAuthTimeoutMs: engineLimit(),
          adminMaxUnauthenticated: engineLimit(),
          adminFailureDelayMs: engineLimit(),
          adminFailureDelayMaxMs: engineLimit(),
        })
        .default({}),
      /**
       * Trunk peers (softswitch addresses) whose P-Asserted-Identity is trusted.
       * From anyone else the caller number comes from From only.
       */
      trustedPeers: z.array(z.string()).default(['127.0.0.1']),
      /**
       * Admission: SIP requests outside a dialog from anyone but a trusted peer get 403. true opens the
       * service to every source, for testing only (the IVR still sets no password on an unasserted caller ID).
       */
      admitUntrustedSources: z.boolean().default(false),
    })
    .default({}),
  /** This node: its app workers, and its lease among the nodes sharing the database (docs/notify.md). */
  cluster: z
    .object({
      /** App worker processes (each an app of the SIP engine). Default: one per core. */
      workers: z.number().int().min(1).default(() => defaultWorkers(os.availableParallelism())),
      /** A node that has not renewed its lease for this long is dead for the others: one of them takes its calls over. */
      leaseSec: z.number().positive().default(6),
      /** How often the node renews its lease, and looks for dead nodes. */
      heartbeatSec: z.number().positive().default(1),
    })
    .refine((c) => c.heartbeatSec * 3 <= c.leaseSec, { message: 'leaseSec must be at least 3 × heartbeatSec', path: ['leaseSec'] })
    .default({}),
  http: z
    .object({
      listen: hostPort.default({ host: '127.0.0.1', port: 8080 }),
      /** Connections at once (load balancer checks, Prometheus); beyond: closed at accept. Apart from the site's. */
      maxConnections: z.number().int().min(1).default(64),
      // Requests here are one-line GETs from machines; Prometheus scrapes less often than a keep-alive is worth.
      ...httpDeadlines({ headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000 }),
    })
    .default({}),
  site: z
    .object({
      /** The settings site's own listener (設定サイト). /healthz and /metrics are never served here. */
      listen: hostPort.default({ host: '127.0.0.1', port: 8000 }),
      /** Reverse proxies (addresses or CIDRs) whose X-Forwarded-For/-Proto are believed; nobody else's. */
      trustedProxies: z.array(z.string()).default([]),
      /**
       * Connections at once (browsers, or the proxy's upstream pool); beyond: closed at accept. With the
       * operations port's 64, well inside the SIP engine's descriptor reserve (sip.engineLimits.fdReserve).
       */
      maxConnections: z.number().int().min(1).default(256),
      /** Connections from one address at once (a browser opens about 6); trusted proxies are not held to it. */
      maxConnectionsPerAddress: z.number().int().min(1).default(32),
      // A browser sends its request head in one packet; 60 s carries the largest CSV upload at ~300 kbit/s;
      // an idle keep-alive outlives the 60 s a proxy or load balancer keeps its own, so the proxy closes first.
      ...httpDeadlines({ headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 72_000 }),
      /** Form bodies: the largest form (着信お知らせメール: 5 addresses, 30 numbers) is a few KB. */
      bodyLimitBytes: z.number().int().min(1024).default(64 * 1024),
      /** A 一括設定 CSV file: a row is at most ~1.7 KB (5 addresses, 30 numbers), typically under 200 bytes. */
      uploadLimitBytes: z.number().int().min(1024).default(2 * 1024 * 1024),
      /** Signs the session cookie; instances behind one proxy must share it. Unset: random per process. */
      sessionSecret: z.string().min(32).optional(),
      idleTimeoutMin: z.number().positive().default(30),
      absoluteTimeoutHours: z.number().positive().default(12),
      passwordTtlDays: z.number().positive().default(60),
      passwordMaxFailures: z.number().int().min(1).default(10),
      tempPasswordMaxFailures: z.number().int().min(1).default(3),
      /** Login attempts per client address per window, before the per-number counters. */
      loginRateLimit: z.object({ max: z.number().int().min(1).default(20), windowSec: z.number().int().min(1).default(60) }).default({}),
      /**
       * Per login subject (a phone number, an お客さまID) against lockout by strangers: see
       * src/domain/login-throttle.ts and the README (OWASP ASVS 5.0 V6.3, NIST SP 800-63B §5.2.2).
       */
      loginThrottle: z
        .object({
          /** Wrong entries one source (an IPv4 address, an IPv6 /64) may make for one subject in a streak. */
          perSourceFailures: z.number().int().min(1).default(3),
          /** Failures in a row (every source) before the subject's delay: more than one source's share, so one stranger never delays the owner. */
          freeFailures: z.number().int().min(0).default(4),
          /** The delay after freeFailures failures in a row; doubled with each further one, up to delayMaxSec. */
          delayBaseSec: z.number().min(0).default(30),
          delayMaxSec: z.number().min(0).default(900),
          /** At this many failures in a row the number's send-enabled 送信先 are warned (once per streak). */
          warnAtFailures: z.number().int().min(1).default(5),
          /** A streak with no attempt for this long is forgotten. */
          forgetAfterDays: z.number().positive().default(30),
        })
        .default({}),
      /**
       * The site's public URL (the TLS proxy's https://…): the origin of every link the service mails
       * (the ワンタイムパスワード 本登録 URL). Never taken from a request. Unset: the site listener's own
       * address, allowed only while mail goes to the built-in catcher (no SMTP_URL).
       */
      publicUrl: z.string().url().refine((u) => /^https?:\/\/[^/?#]+\/?$/.test(u), 'an origin such as https://settings.example.jp').optional(),
      /** 送信テスト mails per number per hour. */
      testMailsPerHour: z.number().int().min(1).default(5),
      /** Mail the send-enabled destinations when the password becomes invalid. */
      lockNoticeMail: z.boolean().default(true),
      /** Path prefix of the legacy site (サービス設定ホームページ, pattern B) on the same listener. */
      legacyPrefix: z.string().regex(/^\/[a-z0-9-]+$/, 'a path prefix such as /legacy').default('/legacy'),
    })
    .default({}),
  /** ワンタイムパスワード on the settings site (001 p.5–13). */
  otp: z
    .object({
      /** Which regions offer it: the East guide has it. */
      regions: z.object({ east: z.boolean().default(true), west: z.boolean().default(false) }).default({}),
      codeTtlSec: z.number().int().positive().default(300),
      registrationTtlHours: z.number().positive().default(24),
      /** Wrong codes per sent code; at the limit the code is dead and the login starts over. */
      maxCodeFailures: z.number().int().min(1).default(5),
      /** Codes sent per number per hour: with maxCodeFailures, bounds the guesses at a code. */
      codesPerHour: z.number().int().min(1).default(10),
    })
    .default({}),
  media: z
    .object({
      /** Set to use FreeSWITCH through drachtio-fsmrf instead of the built-in RTP endpoint. */
      freeswitch: z.object({ host: z.string(), port: z.number().int(), secret: z.string(), listenAddress: z.string().default('127.0.0.1') }).optional(),
      rtpHost: z.string().default('127.0.0.1'),
      /** 0-0: any free port (tests). */
      rtpPortMin: z.number().int().min(0).default(20000),
      rtpPortMax: z.number().int().max(65535).default(29999),
      promptDir: z.string().default('prompts'),
      /** Extra directory an operator drops studio recordings into (same file names as prompts/). */
      promptOverrideDir: z.string().optional(),
      inbandDtmf: z.boolean().default(false),
    })
    .default({}),
  database: z
    .object({
      /** Unset: embedded PostgreSQL under varDir. */
      url: z.string().optional(),
      embeddedPort: z.number().int().default(5433),
      poolSize: z.number().int().min(1).default(10),
      /**
       * How long the writes off the call path — call journal events, call records, mail claims and
       * sent mails — wait to go together in one statement. A few ms of delay for far fewer statements
       * (and commits) per call; 0: each write goes at the next turn of the event loop.
       */
      batchWindowMs: z.number().int().min(0).max(1000).default(20),
    })
    .default({}),
  smtp: z
    .object({
      /** Unset: the built-in SMTP catcher. */
      url: z.string().optional(),
      catcherListen: hostPort.default({ host: '127.0.0.1', port: 2525 }),
    })
    .default({}),
  ivr: z
    .object({
      /** 仮パスワード設定番号 per region (pattern A) and the legacy one (pattern B). */
      accessNumbers: z
        .object({
          A: z.object({ east: nationalNumber, west: nationalNumber }).default({ east: '0363044747', west: '0664806430' }),
          B: nationalNumber.default('0722427142'),
        })
        .default({}),
      firstDigitTimeoutMs: z.number().int().positive().default(5000),
      interDigitTimeoutMs: z.number().int().positive().default(3000),
      maxAttempts: z.number().int().min(1).default(3),
      /** Pattern A: a `#` pressed this soon after a complete 8-digit entry is dropped (habit), not taken into the next step. */
      trailingHashWindowMs: z.number().int().min(0).default(1500),
      /**
       * Pattern B's temp password must contain this digit (the glyph is lost in the printed guide:
       * 「『　』を含む8桁」) and must not consist of it alone.
       */
      patternBRequiredDigit: z.string().regex(/^\d$/).default('5'),
      tempPasswordTtlHours: z.number().positive().default(24),
      /** On shutdown, calls still in the IVR after this long are hung up (recorded as cut_off). */
      shutdownGraceSec: z.number().min(0).default(30),
      /** Calls in the IVR at once; beyond: 503 with Retry-After. */
      maxCalls: z.number().int().min(1).default(200),
      /**
       * An answered call whose ACK has not come by then is ended (BYE) before any prompt is played:
       * recorded as no_ack. Shorter than the stack's 64·T1 (32 s): five 200 retransmissions have gone
       * by, and media toward an address nobody confirmed should not run for half a minute.
       */
      ackTimeoutSec: z.number().positive().default(8),
    })
    .default({}),
  notify: z
    .object({
      /** Where calls go when a number has no provisioned SIP target (application-server mode): `sip:host[:port][;transport=…]`. */
      nextHop: z.string().refine(isNextHopUri, 'a SIP URI such as sip:192.0.2.10:5060 or sip:switch.example.jp;transport=tcp').optional(),
      /** Seconds to wait for the caller's network to retry a 488/415-rejected call at standard quality (高音質電話). */
      codecRetryWindowSec: z.number().min(0).default(10),
      /**
       * 呼出時間 cap: a line still ringing after this long is CANCELled and the caller answered 480
       * (recorded 応答なし). A backstop below RFC 3261 timer C (3 min); the softswitch's own no-answer
       * timer is normally shorter and ends the call first. See docs/notify.md.
       */
      maxRingSec: z.number().positive().default(175),
      /** Calls on the notify path at once; beyond: 503 with Retry-After. */
      maxCalls: z.number().int().min(1).default(2000),
      /** On shutdown, calls still up after this long are hung up and recorded as ended then. */
      shutdownGraceSec: z.number().min(0).default(10),
      /**
       * 非通知理由: how what the trunk sends maps to the reason shown in the mail; the IVR applies the same
       * rules (a 非通知 caller hears withheld_caller). First matching rule wins; a match hides the number.
       * No match and no usable number: 表示圏外. See src/domain/caller-id.ts and docs/notify.md.
       */
      absentReasonRules: z
        .array(
          z.object({
            match: z.enum(ABSENT_REASON_MATCHES),
            values: z.array(z.string().min(1)).min(1),
            reason: z.enum(ABSENT_REASONS),
          }),
        )
        .default(DEFAULT_ABSENT_REASON_RULES.map((r) => ({ ...r, values: [...r.values] }))),
    })
    .default({}),
  /** 故障・回復通知機能: how lines are probed and when a line is 故障 or 回復 (src/domain/line-health.ts). */
  failureNotice: z
    .object({
      /** Each probed line gets an OPTIONS this often. */
      probeIntervalSec: z.number().positive().default(30),
      /** A probe with no final response within this is a failure (the SIP transaction itself runs to 64·T1). */
      probeTimeoutSec: z.number().positive().default(5),
      /** Consecutive failures (no answer in time, 408, 503, a failed call) before a line is 故障. */
      downAfter: z.number().int().min(1).default(3),
      /** Consecutive answers (any other final response) before a 故障 line is 回復. */
      upAfter: z.number().int().min(1).default(2),
      /** At most one 故障/回復 pair per line in this period; a further 故障 waits for its end. */
      holdDownSec: z.number().min(0).default(900),
      /** Statuses the switch at notify.nextHop answers for a line it cannot reach: failures for lines probed there. */
      nextHopFailureStatuses: z.array(z.number().int().min(300).max(699)).default([404, 480]),
      /** How often the prober looks for lines due (and writes the results in). */
      tickMs: z.number().int().min(10).default(500),
      /** Probes one instance has out at once; lines beyond wait for the next tick. */
      maxInFlight: z.number().int().min(1).default(2000),
    })
    .default({}),
  /** ボイスワープ (call forwarding) in the notify path and its phone menu. See README "ボイスワープ". */
  voiceWarp: z
    .object({
      /**
       * The number the phone menu answers (Request-URI user, digits as the softswitch sends them:
       * it translates the service code subscribers dial, e.g. 142, to this).
       */
      accessNumber: z.string().regex(/^\d{3,11}$/, '3–11 digits').default('142'),
      /** 呼出秒数 of a number that has not set its own (5–60). */
      ringSecondsDefault: z.number().int().min(RING_SECONDS.min).max(RING_SECONDS.max).default(DEFAULT_RING_SECONDS),
      /** セレクト機能: numbers on one number's list (the guides give no figure). */
      selectListMax: z.number().int().min(1).max(1000).default(DEFAULT_SELECT_LIST_MAX),
      /**
       * Loop guard: a call whose Diversion counters (summed over its Diversion entries) already reach
       * this is not forwarded again. 5 is ISUP's redirection counter limit (ITU-T Q.763).
       */
      maxDiversions: z.number().int().min(1).max(20).default(5),
      /** Add History-Info (RFC 7044, cause= per RFC 7544) to the forwarded leg besides Diversion. */
      historyInfo: z.boolean().default(false),
    })
    .default({}),
  mail: z
    .object({
      charset: z.enum(['utf-8', 'iso-2022-jp']).default('utf-8'),
      /** How long a mail keeps being retried after temporary failures. */
      retryForSec: z.number().int().positive().default(24 * 3600),
      /** Mails in flight at once per app worker process, each on a pooled SMTP connection of its own. */
      workers: z.number().int().min(1).default(16),
      footers: z
        .object({
          A: z.object({ east: mailFooter, west: mailFooter }),
          B: z.object({ east: mailFooter, west: mailFooter }),
        })
        .default({
          A: {
            east: { brand: 'NTT東日本', siteName: 'ひかり電話設定サイト', siteUrl: 'https://www.hikari.ntt-east.net', from: 'number_info@hikari.ntt-east.net' },
            west: { brand: 'NTT西日本', siteName: 'ひかり電話設定サイト', siteUrl: 'https://www.hikari.ntt-west.net', from: 'number_info@hikari.ntt-west.net' },
          },
          B: {
            east: { brand: 'NTT東日本', siteName: 'サービス設定ホームページ', siteUrl: 'https://www.hikari.msd.isp.ntt-east.co.jp/', from: 'number_info@hikari.msd.isp.ntt-east.co.jp' },
            west: { brand: 'NTT西日本', siteName: 'サービス設定ホームページ', siteUrl: 'https://www.hikari.msd.isp.ntt-west.co.jp/', from: 'number_info@hikari.msd.isp.ntt-west.co.jp' },
          },
        }),
    })
    .default({}),
  /** FAXお知らせメール: the FAX receiver in the call path (docs/fax.md). */
  fax: z
    .object({
      /**
       * 0: a call to a number with the service started is answered by the FAX receiver at once.
       * N: the line rings first for N s; the receiver answers only if it does not answer or is busy.
       */
      ringLineFirstSec: z.number().int().min(0).default(0),
      /** Receptions (record and PDF) are deleted this long after they came. */
      retentionDays: z.number().positive().default(30),
      /** Attach the PDF to the FAXお知らせメール (off: the mail says where to see it). */
      attachPdf: z.boolean().default(false),
      /** A caller that has not shown itself a FAX (T.30 phase B) by then is released: T.30's T1, 35 s. */
      noFaxTimeoutSec: z.number().positive().default(35),
      /** A reception still going after this long is ended (pages so far kept, partial). */
      maxReceptionMin: z.number().positive().default(30),
      /** How often expired receptions are swept. */
      sweepIntervalSec: z.number().positive().default(3600),
      /**
       * FreeSWITCH: the folder rxfax writes into, as FreeSWITCH sees it; the app reads it as
       * <varDir>/fax (mount one volume at both). Unset: the same absolute path (one machine).
       */
      freeswitchDir: z.string().optional(),
      /** dlopen name or path of spandsp for the built-in receiver (Debian libspandsp2). */
      spandspLibrary: z.string().min(1).default('libspandsp.so.2'),
    })
    .default({}),
  /** 回線情報通知機能 (src/config-line-info.ts). */
  lineInfo: lineInfoConfigSchema,
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

export { ConfigError };

type Env = Record<string, string | undefined>;

/** Connection caps, deadlines and body limits of the two HTTP listeners: whole numbers from the environment. */
const HTTP_LIMIT_ENV: [name: string, section: 'http' | 'site', key: string][] = [
  ['HTTP_MAX_CONNECTIONS', 'http', 'maxConnections'],
  ['HTTP_HEADERS_TIMEOUT_MS', 'http', 'headersTimeoutMs'],
  ['HTTP_REQUEST_TIMEOUT_MS', 'http', 'requestTimeoutMs'],
  ['HTTP_KEEP_ALIVE_TIMEOUT_MS', 'http', 'keepAliveTimeoutMs'],
  ['SITE_MAX_CONNECTIONS', 'site', 'maxConnections'],
  ['SITE_MAX_CONNECTIONS_PER_ADDRESS', 'site', 'maxConnectionsPerAddress'],
  ['SITE_HEADERS_TIMEOUT_MS', 'site', 'headersTimeoutMs'],
  ['SITE_REQUEST_TIMEOUT_MS', 'site', 'requestTimeoutMs'],
  ['SITE_KEEP_ALIVE_TIMEOUT_MS', 'site', 'keepAliveTimeoutMs'],
  ['SITE_BODY_LIMIT_BYTES', 'site', 'bodyLimitBytes'],
  ['SITE_UPLOAD_LIMIT_BYTES', 'site', 'uploadLimitBytes'],
];

function parseHostPort(key: string, value: string, problems: string[]): { host: string; port: number } | undefined {
  const m = /^(.+):(\d+)$/.exec(value);
  if (!m) {
    problems.push(`${key}: expected HOST:PORT, got "${value}"`);
    return undefined;
  }
  return { host: m[1]!, port: Number(m[2]) };
}

function parseInt10(key: string, value: string, problems: string[]): number | undefined {
  if (!/^\d+$/.test(value)) {
    problems.push(`${key}: expected a whole number, got "${value}"`);
    return undefined;
  }
  return Number(value);
}

/** Environment variables mapped onto the config tree. Each names its key in errors. */
function fromEnv(env: Env, problems: string[]): ConfigInput {
  const out: Record<string, Record<string, unknown>> = {};
  const set = (section: string, key: string, value: unknown) => {
    if (value === undefined) return;
    (out[section] ??= {})[key] = value;
  };
  if (env.VAR_DIR) (out as Record<string, unknown>).varDir = env.VAR_DIR;
  if (env.LOG_LEVEL) set('log', 'level', env.LOG_LEVEL);
  if (env.SIP_LISTEN) set('sip', 'listen', parseHostPort('SIP_LISTEN', env.SIP_LISTEN, problems));
  if (env.DRACHTIO_HOST) {
    const port = env.DRACHTIO_PORT ? parseInt10('DRACHTIO_PORT', env.DRACHTIO_PORT, problems) : 9022;
    if (!env.DRACHTIO_SECRET) problems.push('DRACHTIO_SECRET: required when DRACHTIO_HOST is set');
    set('sip', 'drachtio', { host: env.DRACHTIO_HOST, port, secret: env.DRACHTIO_SECRET ?? '' });
  }
  if (env.ENGINE_ADMIN) set('sip', 'engineAdmin', parseHostPort('ENGINE_ADMIN', env.ENGINE_ADMIN, problems));
  if (env.WORKERS) set('cluster', 'workers', parseInt10('WORKERS', env.WORKERS, problems));
  if (env.ENGINE_SECRET) set('sip', 'engineSecret', env.ENGINE_SECRET);
  if (env.TRUSTED_PEERS !== undefined) set('sip', 'trustedPeers', env.TRUSTED_PEERS.split(',').map((s) => s.trim()).filter(Boolean));
  if (env.SIP_ADMIT_UNTRUSTED_SOURCES) {
    const v = env.SIP_ADMIT_UNTRUSTED_SOURCES;
    if (v === 'true' || v === 'false') set('sip', 'admitUntrustedSources', v === 'true');
    else problems.push(`SIP_ADMIT_UNTRUSTED_SOURCES: expected true or false, got "${v}"`);
  }
  if (env.HTTP_LISTEN) set('http', 'listen', parseHostPort('HTTP_LISTEN', env.HTTP_LISTEN, problems));
  if (env.SITE_LISTEN) set('site', 'listen', parseHostPort('SITE_LISTEN', env.SITE_LISTEN, problems));
  if (env.SITE_TRUSTED_PROXIES !== undefined) set('site', 'trustedProxies', env.SITE_TRUSTED_PROXIES.split(',').map((s) => s.trim()).filter(Boolean));
  if (env.SITE_SESSION_SECRET) set('site', 'sessionSecret', env.SITE_SESSION_SECRET);
  if (env.SITE_PUBLIC_URL) set('site', 'publicUrl', env.SITE_PUBLIC_URL);
  for (const [name, section, key] of HTTP_LIMIT_ENV) {
    const value = env[name];
    if (value) set(section, key, parseInt10(name, value, problems));
  }
  if (env.RTP_HOST) set('media', 'rtpHost', env.RTP_HOST);
  if (env.RTP_PORT_RANGE) {
    const m = /^(\d+)-(\d+)$/.exec(env.RTP_PORT_RANGE);
    if (!m || Number(m[1]) > Number(m[2])) problems.push(`RTP_PORT_RANGE: expected MIN-MAX, got "${env.RTP_PORT_RANGE}"`);
    else {
      set('media', 'rtpPortMin', Number(m[1]));
      set('media', 'rtpPortMax', Number(m[2]));
    }
  }
  if (env.FREESWITCH_HOST) {
    const port = env.FREESWITCH_PORT ? parseInt10('FREESWITCH_PORT', env.FREESWITCH_PORT, problems) : 8021;
    set('media', 'freeswitch', { host: env.FREESWITCH_HOST, port, secret: env.FREESWITCH_SECRET ?? 'ClueCon' });
  }
  if (env.PROMPT_OVERRIDE_DIR) set('media', 'promptOverrideDir', env.PROMPT_OVERRIDE_DIR);
  if (env.DATABASE_URL) set('database', 'url', env.DATABASE_URL);
  if (env.EMBEDDED_PG_PORT) set('database', 'embeddedPort', parseInt10('EMBEDDED_PG_PORT', env.EMBEDDED_PG_PORT, problems));
  if (env.SMTP_URL) set('smtp', 'url', env.SMTP_URL);
  if (env.SMTP_CATCHER_LISTEN) set('smtp', 'catcherListen', parseHostPort('SMTP_CATCHER_LISTEN', env.SMTP_CATCHER_LISTEN, problems));
  if (env.NOTIFY_NEXT_HOP) set('notify', 'nextHop', env.NOTIFY_NEXT_HOP);
  if (env.MAIL_CHARSET) set('mail', 'charset', env.MAIL_CHARSET);
  return out as ConfigInput;
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (typeof base !== 'object' || base === null || Array.isArray(base)) return over;
  if (typeof over !== 'object' || over === null || Array.isArray(over)) return over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(out[k], v);
  return out;
}

/** Validate a config object; errors name the key path (e.g. `ivr.maxAttempts`). */
export function parseConfig(input: unknown): Config {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  if (result.data.media.rtpPortMin > result.data.media.rtpPortMax) {
    throw new ConfigError(['media.rtpPortMin: must not exceed media.rtpPortMax']);
  }
  // Mail leaving the machine through a real relay is production: a mailed link must then carry the
  // configured public address, never a guess.
  const otpOn = result.data.otp.regions.east || result.data.otp.regions.west;
  if (result.data.smtp.url && otpOn && !result.data.site.publicUrl) {
    throw new ConfigError(['site.publicUrl (SITE_PUBLIC_URL): required when ワンタイムパスワード is offered (otp.regions) and mail goes to a real relay (SMTP_URL): the 本登録 URL is mailed with it']);
  }
  for (const key of ['http', 'site'] as const) {
    // node refuses to start a server whose head deadline is longer than the whole request's.
    if (result.data[key].headersTimeoutMs > result.data[key].requestTimeoutMs) {
      throw new ConfigError([`${key}.headersTimeoutMs: must not exceed ${key}.requestTimeoutMs`]);
    }
  }
  return result.data;
}

export function loadConfig(opts: { env?: Env; file?: string; overrides?: ConfigInput } = {}): Config {
  const env = opts.env ?? process.env;
  const problems: string[] = [];
  let fileInput: unknown = {};
  const file = opts.file ?? env.CHAKUSHIN_CONFIG;
  if (file) {
    try {
      fileInput = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      problems.push(`CHAKUSHIN_CONFIG: cannot read ${file}: ${(err as Error).message}`);
    }
  }
  const envInput = fromEnv(env, problems);
  if (problems.length) throw new ConfigError(problems);
  return parseConfig(deepMerge(deepMerge(fileInput, envInput), opts.overrides ?? {}));
}
