// The 着信お知らせメール B2BUA: terminating calls to subscribed numbers pass through here on their
// way to the line. Signalling only — SDP passes through unchanged. Each call is a NotifyCall
// (call.ts) run under the injected call tracker; once it is over its record goes to recordCall in the
// background (mail work never delays SIP). A record the database cannot take goes to the local spool
// (spool.ts); the call journal keeps calls that are up, in PostgreSQL (journal.ts).
import type Srf from 'drachtio-srf';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { randomUUID } from 'node:crypto';
import { createCallTracker, settledWithin, type CallTracker } from '../call-tracker.ts';
import type { Config } from '../config.ts';
import { lineRoute } from '../domain/next-hop.ts';
import { callerId, nationalNumberOf, type CallerId } from '../domain/caller-id.ts';
import type { TrustedPeerMatcher } from '../domain/trusted-peers.ts';
import { NotifyCall, SIP_T1_MS } from './call.ts';
import { isCodecRejection } from './classify.ts';
import { refusal } from './decide.ts';
import { loadNotifyProfile, type NotifyProfile } from './profile.ts';
import { supersedeCodecRejectedCalls, type FinishedCall } from './record.ts';
import { openCallJournal } from './journal.ts';
import { createCallSaver } from './save.ts';
import { startNotifySpool } from './spool.ts';
import type { JournalOwner } from '../store/call-journal.ts';

export interface NotifyAppOptions {
  srf: Srf;
  pool: pg.Pool;
  config: Pick<Config, 'sip' | 'notify' | 'mail' | 'database'>;
  logger: Logger;
  /** Where call records wait while the database is unavailable (the service uses `<varDir>/spool`). */
  spoolDir: string;
  /** Registers chakushin_notify_spooled_calls there. */
  registry?: Registry;
  /** Calls in progress (capacity, drain); by default a tracker of this app's own with notify.maxCalls. */
  calls?: CallTracker;
  /** Trunk peers: the service's one matcher (admission, IVR and notify decide alike). */
  isTrustedPeer: TrustedPeerMatcher;
  /** The SIP stack's T1 in ms (default SIP_T1_MS); only tests that shorten the built-in engine's timers set it, to the engine's. */
  sipT1Ms?: number;
  /** Whose calls these are in the call journal: the node and this worker's run (by default a run of its own on no node). */
  owner?: JournalOwner;
}

export interface NotifyApp {
  /** Takes the call and returns true when the Request-URI is a number with 着信お知らせメール; false otherwise (nothing sent). */
  handleNotifyInvite(req: Srf.SrfRequest, res: Srf.SrfResponse): Promise<boolean>;
  /** Calls in progress on the notify path; a CANCELled line counts until its final response (64·T1 at most). */
  activeCalls(): number;
  /**
   * Waits up to graceMs (default notify.shutdownGraceSec) for calls in progress to end (stop taking
   * new ones first), then hangs up on those still up and records them as ended now; then waits for
   * records being written (spooling those the database has not confirmed within a few seconds).
   */
  stop(graceMs?: number): Promise<void>;
}

/** How long stop() lets the database confirm records before spooling them. */
const STOP_SAVE_DEADLINE_MS = 3_000;

function withoutTag(nameAddr: string): string {
  return nameAddr.replace(/;\s*tag=[^;]*/i, '');
}

export function startNotifyApp(opts: NotifyAppOptions): NotifyApp {
  const { srf, pool, config } = opts;
  const log = opts.logger.child({ part: 'notify' });
  const { isTrustedPeer } = opts;
  const calls = opts.calls ?? createCallTracker({ kind: 'notify', maxCalls: config.notify.maxCalls, logger: opts.logger });
  const windowSec = config.notify.codecRetryWindowSec;
  const cancelGuardMs = 64 * (opts.sipT1Ms ?? SIP_T1_MS);
  /** Background work (codec-retry clean-up) stop() waits for. */
  const saving = new Set<Promise<void>>();
  /** caller|called of calls this process just saw rejected for their codec, with their record being saved. */
  const codecRejected = new Map<string, { until: number; saved: Promise<void> }>();
  const spool = startNotifySpool({ dir: opts.spoolDir, pool, config, logger: opts.logger, registry: opts.registry });
  const windowMs = config.database.batchWindowMs;
  const journal = openCallJournal({ pool, owner: opts.owner ?? { node: 'none', worker: randomUUID() }, logger: opts.logger, windowMs });
  const saver = createCallSaver({ pool, config, logger: opts.logger, spool, windowMs });
  const save = saver.save;

  /** 高音質電話: a retry of a codec-rejected call drops the rejected call's held mails. */
  function supersedeIfRetry(profile: NotifyProfile, caller: CallerId): void {
    const key = `${caller.number ?? ''}|${profile.number}`;
    const local = codecRejected.get(key);
    if (local && local.until < Date.now()) codecRejected.delete(key);
    if (!profile.recentCodecRejection && !(local && local.until >= Date.now())) return;
    const p = (local?.saved ?? Promise.resolve())
      .then(() => supersedeCodecRejectedCalls(pool, profile.number, caller.number, windowSec))
      .then((n) => void (n && log.info({ called: profile.number, mails: n }, 'standard-quality retry: earlier call not mailed')))
      .catch((err: Error) => log.warn({ err: err.message }, 'cannot drop mails of the codec-rejected call'))
      .finally(() => saving.delete(p));
    saving.add(p);
  }

  async function handleNotifyInvite(req: Srf.SrfRequest, res: Srf.SrfResponse): Promise<boolean> {
    const inviteAt = new Date();
    const number = nationalNumberOf(req.uri);
    if (!number) return false;
    // Listen before the lookup: a caller may give up while the subscriber is being read.
    let cancelledAt: Date | undefined;
    req.on('cancel', () => (cancelledAt ??= new Date()));
    const caller = callerId(
      { from: req.get('From'), pAssertedIdentity: req.get('P-Asserted-Identity'), privacy: req.get('Privacy') },
      isTrustedPeer(req.source_address),
      config.notify.absentReasonRules,
    );
    let profile: NotifyProfile | undefined;
    try {
      profile = await loadNotifyProfile(pool, number, caller.number, windowSec);
    } catch (err) {
      log.error({ called: number, err: (err as Error).message }, 'cannot read subscriber; call refused');
      res.send(503);
      return true;
    }
    if (!profile?.services.includes('chakushin_mail')) return false;
    const callId = req.get('Call-ID');
    supersedeIfRetry(profile, caller);

    const refused = refusal(profile, caller);
    if (refused) {
      res.send(refused.status, refused.reason, {});
      void save(profile, { callId, calledNumber: number, caller, refused, inviteAt, endAt: new Date() });
      return true;
    }

    const headers: Record<string, string> = {};
    const from = req.get('From');
    if (from) headers.From = withoutTag(from);
    headers.To = withoutTag(req.get('To') ?? `<${req.uri}>`);
    if (req.has('P-Asserted-Identity') && caller.absentReason !== '非通知') headers['P-Asserted-Identity'] = req.get('P-Asserted-Identity');
    if (req.has('Privacy')) headers.Privacy = req.get('Privacy');
    const route = lineRoute(profile.sipTarget, req.uri, config.notify.nextHop);
    if ('unreachable' in route) {
      log.error({ called: number, callId }, `cannot reach the line: ${route.unreachable}`);
      res.send(480);
      return true;
    }
    const uri = route.uri;

    if (!calls.hasRoom()) {
      res.send(503, { headers: { 'Retry-After': '5' } });
      return true;
    }
    const call = new NotifyCall(
      { srf, log, maxRingMs: config.notify.maxRingSec * 1000, cancelGuardMs, journal, record },
      req, res, profile, number, caller, inviteAt,
    );
    if (cancelledAt) {
      // The stack has already answered the CANCEL and the INVITE (487): the line is never tried.
      calls.run(call, async () => call.cancelledBeforeRouting(cancelledAt!));
      return true;
    }
    calls.run(call, () => call.run({ uri, headers }));
    return true;
  }

  /** A finished call to the saver, once the journal has no write of it in flight (the record removes its row). */
  function record(profile: NotifyProfile, finished: FinishedCall): void {
    const saved = save(profile, finished, journal.ended(finished.callId));
    const status = finished.refused ? null : finished.timeline.finalStatus;
    if (isCodecRejection(status)) codecRejected.set(`${finished.caller.number ?? ''}|${finished.calledNumber}`, { until: Date.now() + windowSec * 1000, saved });
  }

  return {
    handleNotifyInvite,
    activeCalls: () => calls.activeCalls(),
    async stop(graceMs = config.notify.shutdownGraceSec * 1000) {
      await calls.drain(graceMs);
      await saver.flush(STOP_SAVE_DEADLINE_MS);
      await settledWithin(saving, STOP_SAVE_DEADLINE_MS);
      await journal.close();
      await spool.stop();
    },
  };
}
