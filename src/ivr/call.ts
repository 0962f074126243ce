// One call to an IVR access number (仮パスワード設定, ボイスワープ: its menu, menu.ts), as an object
// with an explicit state:
//   checking → (rejected) | answering → awaiting_ack → in_flow → ended
// Whatever ends it — the flow's outcome, the caller's BYE or CANCEL, a missing ACK, the service
// stopping, an exception — goes through release(), which hangs up what is still up and writes the
// ivr_call record exactly once.
import type pg from 'pg';
import type Srf from 'drachtio-srf';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { TrackedCall, TrackerReleaseReason } from '../call-tracker.ts';
import { callerId } from '../domain/caller-id.ts';
import type { TrustedPeerMatcher } from '../domain/trusted-peers.ts';
import { HangupError, PortsExhaustedError, UnsupportedMediaError, type MediaServer, type MediaSession } from '../media/port.ts';
import { findContractOfCaller } from '../store/subscribers.ts';
import { insertIvrCall, type IvrCallRecord } from '../store/ivr-calls.ts';
import { callerOf, offersAudio } from './caller-check.ts';
import type { IvrMenu, MenuOutcome } from './menu.ts';

export interface IvrCallDeps {
  srf: Srf;
  pool: pg.Pool;
  media: MediaServer;
  config: Config;
  logger: Logger;
  isTrustedPeer: TrustedPeerMatcher;
}

export type IvrCallState = 'checking' | 'answering' | 'awaiting_ack' | 'in_flow' | 'ended';

/**
 * Why a call ends. The flow's outcomes, plus: `rejected` (answered with an error or an announcement;
 * record.reason says why), `caller_hung_up` (BYE or CANCEL from the caller), `no_ack` (our 200 was
 * never acknowledged: the engine's or our own ACK timer ended the call before any prompt played).
 */
export type IvrReleaseReason = MenuOutcome['outcome'] | 'rejected' | 'no_ack' | TrackerReleaseReason;

/** drachtio-server (and the built-in engine) end an unacknowledged 2xx with a BYE of their own carrying this Reason text. */
const ACK_TIMEOUT_REASON = /ack timeout/i;

export class IvrCall implements TrackedCall {
  readonly callId: string;
  readonly ended: Promise<void>;
  state: IvrCallState = 'checking';
  private readonly record: IvrCallRecord;
  private readonly log: Logger;
  private session?: MediaSession;
  private dialog?: Srf.Dialog;
  /** The caller's side is gone (BYE received, or the engine sent its own BYE): nothing more to send there. */
  private callerGone = false;
  private acked!: () => void;
  private readonly ack = new Promise<void>((r) => (this.acked = r));
  private ackTimer?: NodeJS.Timeout;
  private settle!: () => void;
  /** A final response is on its way or was sent by the stack (our 200 being sent, or the 487 to a CANCEL). */
  private responded = false;

  constructor(
    private readonly deps: IvrCallDeps,
    private readonly req: Srf.SrfRequest,
    private readonly res: Srf.SrfResponse,
    dialled: string,
    private readonly menu: IvrMenu,
  ) {
    this.callId = req.get('Call-ID');
    const startedAt = new Date();
    this.log = deps.logger.child({ callId: this.callId, accessNumber: dialled });
    this.record = {
      callId: this.callId, accessNumber: dialled, caller: null, pattern: menu.pattern, unit: null, target: null,
      outcome: 'rejected', reason: null, startedAt, endedAt: startedAt,
    };
    this.ended = new Promise<void>((r) => (this.settle = r));
  }

  /** The call's handling, from the INVITE to its outcome. Throws only on bugs (the tracker contains them). */
  async run(): Promise<void> {
    const { srf, pool, media, config } = this.deps;
    const { req, res } = this;
    req.on('cancel', () => {
      this.responded = true;
      this.release('caller_hung_up', new Date());
    });
    const asserted = this.deps.isTrustedPeer(req.source_address);
    const caller = callerOf(callerId(
      { from: req.get('From'), pAssertedIdentity: req.get('P-Asserted-Identity'), privacy: req.get('Privacy') },
      asserted,
      config.notify.absentReasonRules,
    ));
    if (caller.kind === 'number') this.record.caller = caller.number;
    const contract = caller.kind === 'number' ? ((await findContractOfCaller(pool, caller.number)) ?? null) : null;
    if (this.state === 'ended') return;
    const decision = this.menu.decide({ hasAudio: offersAudio(req.body ?? ''), caller, callerAsserted: asserted }, contract);
    this.log.info({ action: decision.action, reason: 'reason' in decision ? decision.reason : undefined }, 'ivr call');
    if ('reason' in decision && decision.reason === 'caller_not_asserted') {
      this.log.warn({ source: req.source_address }, `${this.menu.pattern ? 'temp password' : 'ボイスワープ setting'} refused: the caller ID was not asserted by a trusted peer (sip.trustedPeers)`);
    }

    if (decision.action === 'reject') {
      // RFC 3261 warn-code 304: media type not available.
      res.send(488, { headers: { Warning: '304 chakushin "no audio stream: data calls are not served"' } });
      return this.release('rejected', new Date(), decision.reason);
    }
    this.state = 'answering';
    let session: MediaSession;
    try {
      session = await media.open(req.body, { callId: this.callId });
    } catch (err) {
      if (err instanceof PortsExhaustedError) {
        // Overload, not the caller's fault: the softswitch may try another server.
        res.send(503, { headers: { 'Retry-After': '5' } });
        return this.release('rejected', new Date(), 'no_media_port');
      }
      if (!(err instanceof UnsupportedMediaError)) throw err;
      res.send(488, { headers: { Warning: err.warning } });
      return this.release('rejected', new Date(), 'unsupported_media');
    }
    this.session = session;
    if (this.over()) return void session.close();
    this.responded = true;
    try {
      this.dialog = await srf.createUAS(req, res, { localSdp: session.localSdp });
    } catch (err) {
      // The caller's CANCEL crossed our answer: the stack has answered 487.
      if ((err as { status?: unknown }).status === 487) return this.release('caller_hung_up', new Date());
      throw err;
    }
    if (this.over()) return void this.hangUpCaller();
    this.state = 'awaiting_ack';
    this.dialog.on('ack', () => this.acked());
    this.dialog.on('destroy', (bye: Srf.SrfRequest | undefined, reason?: string) => {
      this.callerGone = true;
      if (this.state === 'in_flow') {
        // The flow turns the hang-up into its outcome (the step it cut off, what was chosen): stop its media and let it.
        void session.close();
        return;
      }
      const stackBye = bye?.get && (bye as unknown as { meta?: { source?: string } }).meta?.source === 'application';
      const noAck = this.state === 'awaiting_ack' && (ACK_TIMEOUT_REASON.test(reason ?? '') || stackBye);
      this.release(noAck ? 'no_ack' : 'caller_hung_up', new Date(), noAck ? 'ack_timeout' : undefined);
    });
    this.dialog.on('info', (info: Srf.SrfRequest, infoRes: Srf.SrfResponse) => {
      infoRes.send(session.injectInfo(info.get('Content-Type'), info.body ?? '') ? 200 : 415);
    });

    // No prompt before the ACK: an INVITE from a forged address must not make us send media there.
    this.ackTimer = setTimeout(() => this.release('no_ack', new Date(), 'ack_timeout'), config.ivr.ackTimeoutSec * 1000);
    await this.ack;
    clearTimeout(this.ackTimer);
    if (this.state !== 'awaiting_ack') return;
    this.state = 'in_flow';

    try {
      if (decision.action === 'announce') {
        await session.play([{ prompt: decision.prompt }]);
        return this.release('rejected', new Date(), decision.reason);
      }
      const outcome = await decision.run(session);
      this.record.unit = outcome.unit ?? null;
      this.record.target = outcome.target ?? null;
      this.release(outcome.outcome, new Date(), outcome.failedStep);
    } catch (err) {
      if (this.over()) return; // released meanwhile (hang-up, stop): the media rejects, nothing more to do
      if (err instanceof HangupError || this.callerGone) return this.release('caller_hung_up', new Date());
      throw err;
    }
  }

  /** Checked after each await: a release may have come meanwhile. */
  private over(): boolean {
    return this.state === 'ended';
  }

  /** Ends the call now (first release wins): hangs up whatever is still up, then writes the record. */
  release(reason: IvrReleaseReason, at: Date, detail?: string): void {
    if (this.state === 'ended') return;
    const was = this.state;
    this.state = 'ended';
    clearTimeout(this.ackTimer);
    this.acked();
    const r = this.record;
    r.endedAt = at;
    if (reason === 'service_stopping') {
      r.outcome = 'cut_off';
      r.reason = 'service_stopping';
    } else if (reason === 'internal_error') {
      r.outcome = 'rejected';
      r.reason = 'internal_error';
    } else {
      r.outcome = reason;
      r.reason = detail ?? (reason === 'no_ack' ? 'ack_timeout' : null);
    }
    if (was === 'checking' || was === 'answering') {
      if (!this.responded && !this.res.finalResponseSent) this.res.send(reason === 'service_stopping' ? 503 : 500);
    }
    void this.finish();
  }

  private async finish(): Promise<void> {
    const r = this.record;
    try {
      await this.hangUpCaller();
      await this.session?.close();
    } finally {
      this.log.info({ outcome: r.outcome, reason: r.reason, unit: r.unit }, 'ivr call ended');
      await insertIvrCall(this.deps.pool, r).catch((err) => this.log.error({ err: (err as Error).message }, 'ivr call record not written'));
      this.settle();
    }
  }

  private async hangUpCaller(): Promise<void> {
    if (!this.dialog || this.callerGone) return;
    this.callerGone = true;
    // Without a callback drachtio-srf returns a promise; a BYE that crosses the caller's must not go unhandled.
    await (this.dialog.destroy() as unknown as Promise<void>).catch((err: Error) => this.log.debug({ err: err.message }, 'BYE not sent'));
  }
}
