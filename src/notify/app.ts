// The notify B2BUA: terminating calls to numbers with 着信お知らせメール or ボイスワープ, and to every
// number of a contract with 一括転送, pass through here on their way to the line — or, by the
// number's routing plan (routing.ts), on to a 転送先.
// Signalling only, SDP passed through unchanged, except for calls with 転送ガイダンス, whose media
// the endpoint anchors from the guidance on (call.ts). Each call is a NotifyCall run under the injected
// call tracker; once it is over its record goes to recordCall in the background (mail work never
// delays SIP). A record the database cannot take goes to the local spool (spool.ts); the call journal
// keeps calls that are up, in PostgreSQL (journal.ts).
import { randomUUID } from 'node:crypto';
import type Srf from 'drachtio-srf';
import type pg from 'pg';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { createCallTracker, settledWithin, type CallTracker } from '../call-tracker.ts';
import type { Config } from '../config.ts';
import { lineRoute, requestUriAtNextHop } from '../domain/next-hop.ts';
import { callerId, nationalNumberOf, splitHeaderValues, type CallerId } from '../domain/caller-id.ts';
import type { TrustedPeerMatcher } from '../domain/trusted-peers.ts';
import type { FaxReceiver, MediaServer } from '../media/port.ts';
import { NotifyCall, SIP_T1_MS, type CallRoute } from './call.ts';
import { isCodecRejection } from './classify.ts';
import { refusal } from './decide.ts';
import { diversionCount, diversionValue, historyInfoValue } from './diversion.ts';
import { loadNotifyProfile, type NotifyProfile } from './profile.ts';
import { supersedeCodecRejectedCalls, type FinishedCall } from './record.ts';
import { routingPlan, takesCalls, type ForwardLeg } from './routing.ts';
import { openCallJournal } from './journal.ts';
import { createCallSaver } from './save.ts';
import { startNotifySpool } from './spool.ts';
import type { JournalOwner } from '../store/call-journal.ts';
import { readFaxSettings, type FaxSettings } from '../store/fax.ts';
import { FaxCall } from './fax-call.ts';
import { recordFaxReception, type FinishedFax } from './fax-record.ts';
import { startFaxSpool } from './fax-spool.ts';

export interface NotifyAppOptions {
  srf: Srf;
  pool: pg.Pool;
  config: Pick<Config, 'sip' | 'notify' | 'mail' | 'voiceWarp' | 'fax' | 'site' | 'database'>;
  /** Answers calls to numbers with FAXお知らせメール started; without it such calls go to the line like any other. */
  fax?: FaxReceiver;
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
  /** The line's final answer to a call it was rung for (故障・回復通知 counts 408 and 503 as a failed probe). */
  lineAnswered?(calledNumber: string, status: number): void;
  /** Media for 転送ガイダンス (the service's media server); without it forwards go out without guidance. */
  media?: MediaServer;
  /** Whose calls these are in the call journal: the node and this worker's run (by default a run of its own on no node). */
  owner?: JournalOwner;
}

export interface NotifyApp {
  /** Takes the call and returns true when the Request-URI is a number with 着信お知らせメール, ボイスワープ or FAXお知らせメール; false otherwise (nothing sent). */
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

/** A FAX reception the database has not confirmed by then is spooled as well (its document must not live in memory only). */
const FAX_SPOOL_AFTER_MS = 10_000;

/** How long stop() lets the database confirm records before spooling them. */
const STOP_SAVE_DEADLINE_MS = 3_000;

function withoutTag(nameAddr: string): string {
  return nameAddr.replace(/;\s*tag=[^;]*/i, '');
}

/** A number's URI at the next hop, keeping `user=phone` as the caller's Request-URI had it. */
function numberAtNextHop(number: string, requestUri: string, nextHop: string): string | undefined {
  const userPhone = /;user=phone(;|$)/i.test(requestUri) ? ';user=phone' : '';
  return requestUriAtNextHop(`sip:${number}@next-hop${userPhone}`, nextHop);
}

export function startNotifyApp(opts: NotifyAppOptions): NotifyApp {
  const { srf, pool, config } = opts;
  const log = opts.logger.child({ part: 'notify' });
  const { isTrustedPeer } = opts;
  const calls = opts.calls ?? createCallTracker({ kind: 'notify', maxCalls: config.notify.maxCalls, logger: opts.logger });
  const windowSec = config.notify.codecRetryWindowSec;
  const cancelGuardMs = 64 * (opts.sipT1Ms ?? SIP_T1_MS);
  // A CANCELled line answers at once (its 487); this bounds a broken one before the forward goes anyway.
  const lineReleaseWaitMs = 4 * (opts.sipT1Ms ?? SIP_T1_MS);
  /** Background work (codec-retry clean-up) stop() waits for. */
  const saving = new Set<Promise<void>>();
  /** caller|called of calls this process just saw rejected for their codec, with their record being saved. */
  const codecRejected = new Map<string, { until: number; saved: Promise<void> }>();
  const spool = startNotifySpool({ dir: opts.spoolDir, pool, config, logger: opts.logger, registry: opts.registry });
  const windowMs = config.database.batchWindowMs;
  const journal = openCallJournal({ pool, owner: opts.owner ?? { node: 'none', worker: randomUUID() }, logger: opts.logger, windowMs });
  const saver = createCallSaver({ pool, config, logger: opts.logger, spool, windowMs });
  const faxSpool = startFaxSpool({ dir: opts.spoolDir, pool, config, logger: opts.logger });
  const faxReceptions = opts.registry
    ? new Counter({ name: 'chakushin_fax_receptions_total', help: 'FAX receptions ended, by result (complete, partial, failed) and transport (g711, t38)', labelNames: ['result', 'transport'], registers: [opts.registry] })
    : undefined;
  /** FAX receptions being recorded: spooled at a stop if the database has not confirmed them by then. */
  const faxPending = new Set<{ spool(why: string): Promise<void> }>();
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
      profile = await loadNotifyProfile(pool, number, caller.number, windowSec, config.voiceWarp.ringSecondsDefault);
    } catch (err) {
      log.error({ called: number, err: (err as Error).message }, 'cannot read subscriber; call refused');
      res.send(503);
      return true;
    }
    if (!profile || !takesCalls(profile.services, profile.contractServices)) return false;
    const callId = req.get('Call-ID');
    supersedeIfRetry(profile, caller);

    const refused = refusal(profile, caller);
    if (refused) {
      res.send(refused.status, refused.reason, {});
      void save(profile, { callId, calledNumber: number, caller, refused, inviteAt, endAt: new Date() });
      return true;
    }

    // FAXお知らせメール started: the FAX receiver answers at once, or after the line (ring-first).
    let fax: FaxSettings | undefined;
    if (profile.services.includes('fax_mail')) {
      const route = await faxRoute(res, number);
      if (route === 'answered') return true;
      if (route && config.fax.ringLineFirstSec === 0) {
        // A CANCEL meanwhile was answered by the stack (487): nothing to answer.
        if (!cancelledAt) startFaxCall(req, res, profile, route, number, caller, inviteAt);
        return true;
      }
      fax = route;
    }

    const headers: Record<string, string> = {};
    const from = req.get('From');
    if (from) headers.From = withoutTag(from);
    headers.To = withoutTag(req.get('To') ?? `<${req.uri}>`);
    if (req.has('P-Asserted-Identity') && caller.absentReason !== '非通知') headers['P-Asserted-Identity'] = req.get('P-Asserted-Identity');
    if (req.has('Privacy')) headers.Privacy = req.get('Privacy');
    const nextHop = config.notify.nextHop;
    const { plan, why } = routingPlan(
      {
        bulkForward: profile.bulkForwardTo ?? null,
        voiceWarp: profile.voiceWarp ?? null,
        callerListed: caller.number !== null && profile.callerSelectListed === true,
        diversions: diversionCount(splitHeaderValues(req.get('Diversion'))),
        faxRingFirstMs: fax ? config.fax.ringLineFirstSec * 1000 : undefined,
      },
      { maxDiversions: config.voiceWarp.maxDiversions, canForward: nextHop !== undefined },
    );
    if (why === 'loop_guard' || why === 'no_next_hop') log.warn({ called: number, why }, 'forwarding (ボイスワープ, 一括転送) not applied to this call');
    const line = lineRoute(profile.sipTarget, req.uri, nextHop);
    if ('unreachable' in line && plan.first === 'line') {
      log.error({ called: number, callId }, `cannot reach the line: ${line.unreachable}`);
      res.send(480);
      return true;
    }
    const route: CallRoute = {
      plan,
      line: 'uri' in line ? { uri: line.uri, headers } : undefined,
      forwardTo: (next: ForwardLeg) => {
        const target = numberAtNextHop(next.to, req.uri, nextHop!)!;
        const forwardHeaders: Record<string, string> = { ...headers, Diversion: diversionValue(req.uri, next.reason, splitHeaderValues(req.get('Diversion'))) };
        if (config.voiceWarp.historyInfo) forwardHeaders['History-Info'] = historyInfoValue(req.uri, target, next.reason, splitHeaderValues(req.get('History-Info')));
        return { uri: target, headers: forwardHeaders };
      },
    };

    if (!calls.hasRoom()) {
      res.send(503, { headers: { 'Retry-After': '5' } });
      return true;
    }
    const faxSettings = fax;
    const call = new NotifyCall(
      {
        srf, log, maxRingMs: config.notify.maxRingSec * 1000, cancelGuardMs, lineReleaseWaitMs, journal, media: opts.media, record,
        // Ring-first FAX (the plan's FAX leg): the FAX receiver answers the caller; not journaled from here on.
        ...(faxSettings ? {
          handOver: (ringAt: Date | undefined) => {
            journal.forget(callId);
            startFaxCall(req, res, profile, faxSettings, number, caller, inviteAt, ringAt ?? inviteAt);
          },
        } : {}),
      },
      req, res, profile, number, caller, inviteAt,
    );
    if (cancelledAt) {
      // The stack has already answered the CANCEL and the INVITE (487): the line is never tried.
      calls.run(call, async () => call.cancelledBeforeRouting(cancelledAt!));
      return true;
    }
    calls.run(call, () => call.run(route));
    return true;
  }

  /** The number's FAX settings when the service is started there; 'answered' when the call got 503 (settings unreadable). */
  async function faxRoute(res: Srf.SrfResponse, number: string): Promise<FaxSettings | 'answered' | undefined> {
    try {
      const settings = await readFaxSettings(pool, number);
      return settings.started ? settings : undefined;
    } catch (err) {
      log.error({ called: number, err: (err as Error).message }, 'cannot read FAX settings; call refused');
      res.send(503);
      return 'answered';
    }
  }

  /** The FAX receiver answers the call (at once, or handed over after the line's ring-first time: ringAt). */
  function startFaxCall(
    req: Srf.SrfRequest, res: Srf.SrfResponse, profile: NotifyProfile, settings: FaxSettings, number: string, caller: CallerId, inviteAt: Date, ringAt?: Date,
  ): void {
    if (res.finalResponseSent) return;
    if (!opts.fax) {
      log.error({ callId: req.get('Call-ID'), called: number }, 'FAX call refused: no FAX receiver');
      res.send(503, { headers: { Warning: '399 chakushin "FAX reception unavailable"' } });
      return;
    }
    if (!calls.hasRoom()) {
      res.send(503, { headers: { 'Retry-After': '5' } });
      return;
    }
    const call = new FaxCall(
      {
        srf, log, receiver: opts.fax, noFaxTimeoutMs: config.fax.noFaxTimeoutSec * 1000, maxDurationMs: config.fax.maxReceptionMin * 60_000,
        record: (fin) => recordFax(profile, settings, { ...fin, ...(ringAt ? { ringAt } : {}) }),
      },
      req, res, number, caller, inviteAt,
    );
    calls.run(call, () => call.run());
  }

  /**
   * A finished FAX reception: its record, PDF and FAXお知らせメール in one transaction; and, for a number
   * with 着信お知らせメール too, the 着信 record of the same call — answered (通話) by the receiver.
   */
  function recordFax(profile: NotifyProfile, settings: FaxSettings, fin: FinishedFax): void {
    faxReceptions?.inc({ result: fin.reception.result, transport: fin.reception.transport });
    const entry = { profile: { pattern: profile.pattern, region: profile.region }, settings, fax: fin };
    let spooled: Promise<void> | undefined;
    const spool = (why: string) =>
      (spooled ??= faxSpool.put(entry).then(
        () => log.warn({ callId: fin.callId, called: fin.calledNumber, why }, 'FAX reception spooled; recorded when the database is back'),
        (err: Error) => {
          const { pdf, ...reception } = fin.reception;
          log.error({ entry: { ...fin, reception: { ...reception, pdfBytes: pdf?.length ?? 0 } }, err: err.message, why }, 'FAX reception lost: database and spool both unavailable');
        },
      ));
    const timer = setTimeout(() => void spool('database did not answer in time'), FAX_SPOOL_AFTER_MS);
    const pending = { spool };
    faxPending.add(pending);
    const p = recordFaxReception(pool, config, profile, settings, fin)
      .then(
        (r) => log.info({ callId: fin.callId, called: fin.calledNumber, reception: r.receptionId, mails: r.mailIds.length }, 'FAX reception recorded'),
        (err: Error) => spool(err.message),
      )
      .finally(() => {
        clearTimeout(timer);
        faxPending.delete(pending);
        saving.delete(p);
      });
    saving.add(p);
    if (!profile.services.includes('chakushin_mail')) return;
    void save(profile, {
      callId: fin.callId, calledNumber: fin.calledNumber, caller: fin.caller,
      timeline: { inviteAt: fin.inviteAt, ...(fin.ringAt ? { ringAt: fin.ringAt } : {}), answerAt: fin.receivedAt, endAt: fin.endedAt, finalStatus: 200, forwarded: false },
    });
  }

  /** A finished call to the saver, once the journal has no write of it in flight (the record removes its row). */
  function record(profile: NotifyProfile, finished: FinishedCall): void {
    const saved = save(profile, finished, journal.ended(finished.callId));
    const status = finished.refused ? null : finished.timeline.finalStatus;
    if (status !== null && !finished.refused && !finished.timeline.forwarded) opts.lineAnswered?.(finished.calledNumber, status);
    if (isCodecRejection(status)) codecRejected.set(`${finished.caller.number ?? ''}|${finished.calledNumber}`, { until: Date.now() + windowSec * 1000, saved });
  }

  return {
    handleNotifyInvite,
    activeCalls: () => calls.activeCalls(),
    async stop(graceMs = config.notify.shutdownGraceSec * 1000) {
      await calls.drain(graceMs);
      await saver.flush(STOP_SAVE_DEADLINE_MS);
      await settledWithin(saving, STOP_SAVE_DEADLINE_MS);
      await Promise.all([...faxPending].map((f) => f.spool('service stopping')));
      await faxSpool.stop();
      await journal.close();
      await spool.stop();
    },
  };
}
