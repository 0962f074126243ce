// The 着信お知らせメール B2BUA: terminating calls to subscribed numbers pass through here on their
// way to the line. Signalling only — SDP passes through unchanged. The app times the call and,
// once it is over, hands a record to recordCall (in the background: mail work never delays SIP).
import type Srf from 'drachtio-srf';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { isCodecRejection, type CallTimeline } from './classify.ts';
import { refusal } from './decide.ts';
import { calledNumberOf, callerIdentity, splitHeaderValues, type CallerIdentity } from './identity.ts';
import { loadNotifyProfile, type NotifyProfile } from './profile.ts';
import { recordCall, supersedeCodecRejectedCalls, type FinishedCall } from './record.ts';

export interface NotifyAppOptions {
  srf: Srf;
  pool: pg.Pool;
  config: Pick<Config, 'sip' | 'notify' | 'mail'>;
  logger: Logger;
}

export interface NotifyApp {
  /** Takes the call and returns true when the Request-URI is a number with 着信お知らせメール; false otherwise (nothing sent). */
  handleNotifyInvite(req: Srf.SrfRequest, res: Srf.SrfResponse): Promise<boolean>;
  /** Calls in progress on the notify path. */
  activeCalls(): number;
  /**
   * Waits up to graceMs for calls in progress to end (stop taking new ones first), then for call
   * records still being written. Calls still up after that are not recorded.
   */
  stop(graceMs?: number): Promise<void>;
}

const SAVE_RETRY_FOR_MS = 60_000;

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
  const saving = new Set<Promise<void>>();
  /** caller|called of calls this process just saw rejected for their codec, with their record being saved. */
  const codecRejected = new Map<string, { until: number; saved: Promise<void> }>();
  const calls = new Set<Promise<void>>();

  function save(profile: NotifyProfile, call: FinishedCall): Promise<void> {
    const started = Date.now();
    const attempt = async (delay: number): Promise<void> => {
      try {
        const r = await recordCall(pool, config, profile, call);
        log.info({ callId: call.callId, called: call.calledNumber, mails: r.mailIds.length, decision: r.decision }, 'call recorded');
      } catch (err) {
        if (Date.now() - started > SAVE_RETRY_FOR_MS) {
          log.error({ callId: call.callId, err: (err as Error).message }, 'call record lost: database unavailable');
          return;
        }
        log.warn({ callId: call.callId, err: (err as Error).message }, 'cannot record call yet; retrying');
        await new Promise((r) => setTimeout(r, delay));
        return attempt(Math.min(delay * 2, 5_000));
      }
    };
    const p = attempt(100).finally(() => saving.delete(p));
    saving.add(p);
    return p;
  }

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
    calls.add(inProgress);
    const timeline: Partial<CallTimeline> & { inviteAt: Date } = { inviteAt, forwarded: false };
    const finish = (finalStatus: number, endAt: Date) => {
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
          cbProvisional: (p) => {
            const status = (p as unknown as Srf.SrfResponse).status;
            if (status >= 180 && status < 190) timeline.ringAt ??= new Date();
            if (status === 181) timeline.forwarded = true;
          },
        },
      );
      timeline.answerAt = new Date();
      log.debug({ callId }, 'answered');
      let ended = false;
      const hangup = (other: Srf.Dialog) => {
        if (ended) return;
        ended = true;
        Promise.resolve(other.destroy() as unknown).catch((err: Error) => log.warn({ callId, err: err.message }, 'cannot relay BYE'));
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
      await Promise.race([Promise.all([...calls]), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      if (calls.size) log.warn({ calls: calls.size }, 'stopping with calls still up; they are not recorded');
      while (saving.size) await Promise.all([...saving]);
    },
  };
}
