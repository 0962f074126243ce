// The 着信お知らせメール B2BUA: terminating calls to subscribed numbers pass through here on their
// way to the line. Signalling only — SDP passes through unchanged. The app times the call and,
// once it is over, hands a record to recordCall (in the background: mail work never delays SIP).
// A record the database cannot take goes to the local spool (spool.ts) and is saved later.
import type Srf from 'drachtio-srf';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config.ts';
import { isCodecRejection, type CallTimeline } from './classify.ts';
import { refusal } from './decide.ts';
import { calledNumberOf, callerIdentity, splitHeaderValues, type CallerIdentity } from './identity.ts';
import { loadNotifyProfile, type NotifyProfile } from './profile.ts';
import { supersedeCodecRejectedCalls, type FinishedCall } from './record.ts';
import { createCallSaver } from './save.ts';
import { startNotifySpool } from './spool.ts';

export interface NotifyAppOptions {
  srf: Srf;
  pool: pg.Pool;
  config: Pick<Config, 'sip' | 'notify' | 'mail'>;
  logger: Logger;
  /** Where call records wait while the database is unavailable (the service uses `<varDir>/spool`). */
  spoolDir: string;
  /** Registers chakushin_notify_spooled_calls there. */
  registry?: Registry;
}

export interface NotifyApp {
  /** Takes the call and returns true when the Request-URI is a number with 着信お知らせメール; false otherwise (nothing sent). */
  handleNotifyInvite(req: Srf.SrfRequest, res: Srf.SrfResponse): Promise<boolean>;
  /** Calls in progress on the notify path. */
  activeCalls(): number;
  /**
   * Waits up to graceMs for calls in progress to end (stop taking new ones first), then hangs up
   * on those still up and records them as ended now; then waits for records being written
   * (spooling those the database has not confirmed within a few seconds).
   */
  stop(graceMs?: number): Promise<void>;
}

/** How long stop() lets the database confirm records before spooling them. */
const STOP_SAVE_DEADLINE_MS = 3_000;
/** What a caller still ringing gets when the service stops. */
const SHUTDOWN_STATUS = 480;

function withoutTag(nameAddr: string): string {
  return nameAddr.replace(/;\s*tag=[^;]*/i, '');
}

function sipStatus(err: unknown): number {
  const status = (err as { status?: unknown }).status;
  return typeof status === 'number' && status >= 300 && status < 700 ? status : 500;
}

export function startNotifyApp(opts: NotifyAppOptions): NotifyApp {
  const { srf, pool, config } = opts;
  const log = opts.logger.child({ part: 'notify' });
  const trusted = new Set(config.sip.trustedPeers);
  const windowSec = config.notify.codecRetryWindowSec;
  /** Background work (codec-retry clean-up) stop() waits for. */
  const saving = new Set<Promise<void>>();
  /** caller|called of calls this process just saw rejected for their codec, with their record being saved. */
  const codecRejected = new Map<string, { until: number; saved: Promise<void> }>();
  /** Calls in progress, each with how to hang up on it when the service stops. */
  const calls = new Map<Promise<void>, (at: Date) => void>();
  const spool = startNotifySpool({ dir: opts.spoolDir, pool, config, logger: opts.logger, registry: opts.registry });
  const saver = createCallSaver({ pool, config, logger: opts.logger, spool });
  const save = saver.save;

  /** 高音質電話: a retry of a codec-rejected call drops the rejected call's held mails. */
  function supersedeIfRetry(profile: NotifyProfile, caller: CallerIdentity): void {
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
    const number = calledNumberOf(req.uri);
    if (!number) return false;
    // Listen before the lookup: a caller may give up while the subscriber is being read.
    let cancelledAt: Date | undefined;
    req.on('cancel', () => (cancelledAt ??= new Date()));
    const caller = callerIdentity(
      { from: req.get('From'), pAssertedIdentity: splitHeaderValues(req.get('P-Asserted-Identity')), privacy: req.get('Privacy') },
      trusted.has(req.source_address),
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
    let uri = profile.sipTarget;
    if (!uri && config.notify.nextHop) {
      // Application-server mode: the call continues to the switch with its original Request-URI.
      uri = req.uri;
      headers.Route = `<${config.notify.nextHop.replace(/^<|>$/g, '')};lr>`;
    }
    if (!uri) {
      log.error({ called: number }, 'no SIP target and no notify.nextHop: cannot reach the line');
      res.send(480);
      return true;
    }

    let ended!: () => void;
    const inProgress = new Promise<void>((r) => (ended = r));
    const timeline: Partial<CallTimeline> & { inviteAt: Date } = { inviteAt, forwarded: false };
    let finished = false;
    /** The first end wins: after a shutdown hang-up, the SIP events that follow change nothing. */
    const finish = (finalStatus: number, endAt: Date) => {
      if (finished) return;
      finished = true;
      calls.delete(inProgress);
      ended();
      const call: FinishedCall = { callId, calledNumber: number, caller, timeline: { ...timeline, finalStatus, endAt, forwarded: !!timeline.forwarded } };
      const saved = save(profile, call);
      if (isCodecRejection(finalStatus)) codecRejected.set(`${caller.number ?? ''}|${number}`, { until: Date.now() + windowSec * 1000, saved });
    };

    if (cancelledAt) {
      // The stack has already answered the CANCEL and the INVITE (487): the line is never tried.
      finish(487, cancelledAt);
      return true;
    }
    let uacRequest: Srf.SrfRequest | undefined;
    let dialogs: { uas: Srf.Dialog; uac: Srf.Dialog } | undefined;
    let shutdownAt: Date | undefined;
    const cancelLine = () => {
      try {
        uacRequest?.cancel(() => undefined);
      } catch (err) {
        log.warn({ callId, err: (err as Error).message }, 'cannot cancel the line');
      }
    };
    const destroy = (d: Srf.Dialog) =>
      Promise.resolve(d.destroy() as unknown).catch((err: Error) => log.warn({ callId, err: err.message }, 'cannot relay BYE'));
    calls.set(inProgress, (at) => {
      // The service hangs up: an answered call ends now (通話), a ringing one is given up (応答なし).
      shutdownAt = at;
      if (dialogs) {
        finish(200, at);
        void destroy(dialogs.uas);
        void destroy(dialogs.uac);
        return;
      }
      finish(SHUTDOWN_STATUS, at);
      if (!res.finalResponseSent) res.send(SHUTDOWN_STATUS);
      cancelLine();
    });
    try {
      const { uas, uac } = await srf.createB2BUA(
        req, res, uri,
        {
          headers,
          localSdpB: req.body,
          passFailure: true,
          // A redirect is only useful to the caller with its Contact.
          responseHeaders: (uacRes): Record<string, string> => {
            const r = uacRes as unknown as Srf.SrfResponse;
            return r.status >= 300 && r.status < 400 && r.has('Contact') ? { Contact: r.get('Contact') } : {};
          },
        },
        {
          // drachtio-srf passes (err, request); its typings know only the request.
          cbRequest: ((err: unknown, sent: Srf.SrfRequest) => {
            if (err) return;
            uacRequest = sent;
            if (shutdownAt) cancelLine();
          }) as unknown as (req: Srf.SrfRequest) => void,
          cbProvisional: (p) => {
            const status = (p as unknown as Srf.SrfResponse).status;
            if (status >= 180 && status < 190) timeline.ringAt ??= new Date();
            if (status === 181) timeline.forwarded = true;
          },
        },
      );
      if (shutdownAt) {
        // Answered just as the service gave up on the call: it is already recorded as 応答なし.
        void destroy(uas);
        void destroy(uac);
        return true;
      }
      timeline.answerAt = new Date();
      dialogs = { uas, uac };
      log.debug({ callId }, 'answered');
      let ended = false;
      const hangup = (other: Srf.Dialog) => {
        if (ended) return;
        ended = true;
        if (!shutdownAt) void destroy(other);
        finish(200, new Date());
      };
      uas.on('destroy', () => hangup(uac));
      uac.on('destroy', () => hangup(uas));
    } catch (err) {
      const status = cancelledAt ? 487 : sipStatus(err);
      if (!cancelledAt && typeof (err as { status?: unknown }).status !== 'number') {
        log.warn({ callId, err: (err as Error).message }, 'cannot reach the line');
      }
      finish(status, cancelledAt ?? new Date());
      if (!res.finalResponseSent) res.send(status);
    }
    return true;
  }

  return {
    handleNotifyInvite,
    activeCalls: () => calls.size,
    async stop(graceMs = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all([...calls.keys()]), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      if (calls.size) {
        log.warn({ calls: calls.size }, 'stopping with calls still up: hanging up, recorded as ended now');
        const now = new Date();
        for (const hangUp of [...calls.values()]) hangUp(now);
      }
      await saver.flush(STOP_SAVE_DEADLINE_MS);
      let flushTimer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all([...saving]), new Promise((r) => (flushTimer = setTimeout(r, STOP_SAVE_DEADLINE_MS)))]);
      clearTimeout(flushTimer);
      await spool.stop();
    },
  };
}
