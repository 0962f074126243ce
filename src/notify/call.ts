// One 着信 on the notify B2BUA, as an object with an explicit state:
//   ringing (B leg INVITE out, until the line's final response) → answered → ended
//   ringing → cancelling (caller answered and recorded, the line CANCELled) → ended
// Whatever ends it — the line's answer or refusal, the caller's CANCEL, either side's BYE, the
// maximum ring time, the service stopping, an exception — goes through release(), which hangs up
// the leg still up and hands the record to the saver exactly once. The maximum-ring timer belongs to
// the ringing state, the CANCEL guard to the cancelling state: entering a state starts its timer,
// leaving it clears it.
import type { EventEmitter } from 'node:events';
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { TrackedCall, TrackerReleaseReason } from '../call-tracker.ts';
import { outgoingInviteOf } from './leg-cancel.ts';
import type { CallTimeline } from './classify.ts';
import type { CallerId } from '../domain/caller-id.ts';
import type { CallJournal } from './journal.ts';
import type { NotifyProfile } from './profile.ts';
import type { FinishedCall } from './record.ts';

/**
 * cancelling: the caller has its final response and the record is handed over, but the line has
 * not answered the CANCEL with a final response to its INVITE yet; the call stays tracked (it still
 * holds a transaction in the SIP stack) until the line does, or for 64·T1 at most (RFC 3261 §9.1).
 */
export type NotifyCallState = 'ringing' | 'answered' | 'cancelling' | 'ended';

/**
 * caller_cancelled: CANCEL from the caller (the stack answered 487 and CANCELs the line);
 * line_refused: a final non-2xx from the line, relayed; unreachable: the line could not be tried;
 * caller_hung_up / line_hung_up: BYE from that side; max_ring_time: notify.maxRingSec reached.
 */
export type NotifyReleaseReason =
  | 'caller_cancelled' | 'line_refused' | 'unreachable' | 'caller_hung_up' | 'line_hung_up' | 'max_ring_time' | TrackerReleaseReason;

/** What the caller gets when the service gives up on a ringing call (max ring time, stop): see docs/notify.md. */
export const GIVE_UP_STATUS = 480;

/** RFC 3261 T1 of the SIP stack: sofia-sip under drachtio-server and the built-in engine both keep the RFC's 500 ms. */
export const SIP_T1_MS = 500;

export interface NotifyCallContext {
  srf: Srf;
  log: Logger;
  maxRingMs: number;
  /**
   * 64·T1: how long a CANCELled line has to send its final response before the call is given up
   * (RFC 3261 §9.1). drachtio-server may never report anything for such a line; this bounds it.
   */
  cancelGuardMs: number;
  journal: CallJournal;
  /** Hands the finished call to the saver (database or spool). */
  record(profile: NotifyProfile, call: FinishedCall): void;
}

export interface LineRoute {
  uri: string;
  headers: Record<string, string>;
}

function sipStatus(err: unknown): number | undefined {
  const status = (err as { status?: unknown }).status;
  return typeof status === 'number' && status >= 300 && status < 700 ? status : undefined;
}

/**
 * drachtio-srf ACKs every final response to an INVITE it sent, but the ACK for a non-2xx belongs to
 * the INVITE client transaction (RFC 3261 §17.1.1.3): drachtio-server (and the built-in engine)
 * send it themselves and refuse the app's. Hand drachtio-srf a no-op ack for those responses.
 */
function withoutAppAckForFailures(sent: Srf.SrfRequest): void {
  const request = sent as unknown as EventEmitter;
  const emit = request.emit.bind(request);
  request.emit = (event: string | symbol, ...args: unknown[]) => {
    const [res] = args as [{ status?: number } | undefined];
    if (event === 'response' && (res?.status ?? 0) >= 300) return emit(event, res, () => undefined);
    return emit(event, ...args);
  };
}

export class NotifyCall implements TrackedCall {
  readonly callId: string;
  readonly ended: Promise<void>;
  state: NotifyCallState = 'ringing';
  private readonly timeline: Omit<CallTimeline, 'endAt' | 'finalStatus'>;
  private uacRequest?: Srf.SrfRequest;
  private lineCancelWanted = false;
  /** The B leg's INVITE is being sent or is out, and no final response (nor send error) is in. */
  private lineOpen = false;
  private dialogs?: { uas: Srf.Dialog; uac: Srf.Dialog };
  private ringTimer?: NodeJS.Timeout;
  private cancelGuard?: NodeJS.Timeout;
  private settle!: () => void;

  constructor(
    private readonly ctx: NotifyCallContext,
    private readonly req: Srf.SrfRequest,
    private readonly res: Srf.SrfResponse,
    private readonly profile: NotifyProfile,
    private readonly calledNumber: string,
    private readonly caller: CallerId,
    inviteAt: Date,
  ) {
    this.callId = req.get('Call-ID');
    this.timeline = { inviteAt, forwarded: false };
    this.ended = new Promise<void>((r) => (this.settle = r));
    ctx.journal.started({ callId: this.callId, calledNumber, caller, profile, inviteAt });
  }

  /** The CANCEL that came while the subscriber was being read: the line is never tried. */
  cancelledBeforeRouting(at: Date): void {
    this.release('caller_cancelled', at);
  }

  /** Sends the B leg and follows it to its answer or failure. Throws only on bugs (the tracker contains them). */
  async run(route: LineRoute): Promise<void> {
    const { req, res } = this;
    req.on('cancel', () => this.release('caller_cancelled', new Date()));
    // 呼出時間 is bounded from the INVITE: the caller's wait is what the cap is for.
    const ringLeft = this.ctx.maxRingMs - (Date.now() - this.timeline.inviteAt.getTime());
    this.ringTimer = setTimeout(() => this.release('max_ring_time', new Date()), Math.max(0, ringLeft));
    let dialogs: { uas: Srf.Dialog; uac: Srf.Dialog };
    this.lineOpen = true;
    try {
      dialogs = await this.ctx.srf.createB2BUA(
        req, res, route.uri,
        {
          headers: route.headers,
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
            withoutAppAckForFailures(sent);
            this.uacRequest = sent;
            // What a node taking this call over needs to CANCEL the line, should this one die.
            const leg = outgoingInviteOf(sent);
            if (leg) this.ctx.journal.legSent(this.callId, leg);
            if (this.lineCancelWanted) this.cancelLine();
          }) as unknown as (req: Srf.SrfRequest) => void,
          cbProvisional: (p) => {
            const status = (p as unknown as Srf.SrfResponse).status;
            if (this.state !== 'ringing') return;
            const t = this.timeline;
            const first = status >= 180 && status < 190 && !t.ringAt;
            const forwardedNow = status === 181 && !t.forwarded;
            if (first) t.ringAt = new Date();
            if (forwardedNow) t.forwarded = true;
            if (first || forwardedNow) this.ctx.journal.ringing(this.callId, t.ringAt ?? new Date(), t.forwarded);
          },
        },
      );
    } catch (err) {
      this.lineClosed();
      if (this.state === 'ended') return; // the CANCEL, the ring cap or the stop already ended it
      const status = sipStatus(err);
      if (status === undefined) this.ctx.log.warn({ callId: this.callId, err: (err as Error).message }, 'cannot reach the line');
      return this.release(status === undefined ? 'unreachable' : 'line_refused', new Date(), status ?? 500);
    }
    this.lineClosed();
    if (this.state === 'ended') {
      // Answered just as the call was given up (CANCEL, ring cap, stop): it is recorded already; end both legs.
      this.dialogs = dialogs;
      void this.bye(dialogs.uas);
      void this.bye(dialogs.uac);
      return;
    }
    this.leaveRinging();
    this.state = 'answered';
    this.dialogs = dialogs;
    this.timeline.answerAt = new Date();
    this.ctx.journal.answered(this.callId, this.timeline.answerAt);
    this.ctx.log.debug({ callId: this.callId }, 'answered');
    dialogs.uas.on('destroy', () => this.release('caller_hung_up', new Date()));
    dialogs.uac.on('destroy', () => this.release('line_hung_up', new Date()));
  }

  /**
   * Ends the call now (first release wins): the leg still up is hung up, the record handed over
   * once. A line that gets a CANCEL is then waited for (cancelling), 64·T1 at most.
   */
  release(reason: NotifyReleaseReason, at: Date, lineStatus?: number): void {
    if (this.state === 'cancelling') {
      // Recorded already; only a stop or an exception stops waiting for the CANCELled line.
      if (reason === 'service_stopping' || reason === 'internal_error') this.end();
      return;
    }
    if (this.state === 'ended') return;
    const was = this.state;
    this.state = 'ended';
    this.leaveRinging();
    let finalStatus: number;
    let endReason: string | undefined;
    if (was === 'answered') {
      finalStatus = 200;
      const d = this.dialogs!;
      if (reason !== 'caller_hung_up') void this.bye(d.uas);
      if (reason !== 'line_hung_up') void this.bye(d.uac);
      if (reason === 'service_stopping' || reason === 'internal_error') endReason = reason;
    } else if (reason === 'caller_cancelled') {
      finalStatus = 487; // answered by the stack; drachtio-srf CANCELs a B leg that is out
      // A CANCEL that beat the B leg's INVITE onto the wire: drachtio-srf was not listening yet.
      if (!this.uacRequest) this.lineCancelWanted = true;
    } else if (reason === 'line_refused' || reason === 'unreachable') {
      finalStatus = lineStatus ?? 500; // relayed by drachtio-srf (passFailure); sent here when it could not
      if (!this.res.finalResponseSent) this.res.send(finalStatus);
    } else {
      // The service gives up on a ringing call: the caller gets a final response, the line a CANCEL.
      finalStatus = reason === 'internal_error' ? 500 : GIVE_UP_STATUS;
      endReason = reason;
      if (!this.res.finalResponseSent) {
        const headers: Record<string, string> = reason === 'max_ring_time' ? { Reason: 'Q.850;cause=19;text="No answer from user"' } : {};
        this.res.send(finalStatus, { headers });
      }
      this.cancelLine();
    }
    this.ctx.record(this.profile, {
      callId: this.callId, calledNumber: this.calledNumber, caller: this.caller,
      timeline: { ...this.timeline, finalStatus, endAt: at, ...(endReason ? { endReason } : {}) },
    });
    // The CANCEL the caller or the ring cap sent the line: wait for its final response. A stop or an
    // exception does not wait (the stack's own transaction still ends that leg).
    if (this.lineOpen && (reason === 'caller_cancelled' || reason === 'max_ring_time')) this.enterCancelling();
    else this.end();
  }

  private leaveRinging(): void {
    clearTimeout(this.ringTimer);
    this.ringTimer = undefined;
  }

  private enterCancelling(): void {
    this.state = 'cancelling';
    this.cancelGuard = setTimeout(() => {
      this.ctx.log.warn(
        { callId: this.callId, afterMs: this.ctx.cancelGuardMs },
        'the line answered neither the CANCEL nor the INVITE within 64·T1 (RFC 3261 §9.1): its leg is given up',
      );
      this.end();
    }, this.ctx.cancelGuardMs);
  }

  /** The B leg's INVITE has its final response (or could not be sent): a CANCELled call is over. */
  private lineClosed(): void {
    this.lineOpen = false;
    if (this.state === 'cancelling') this.end();
  }

  private end(): void {
    clearTimeout(this.cancelGuard);
    this.cancelGuard = undefined;
    this.state = 'ended';
    this.settle();
  }

  private cancelLine(): void {
    if (!this.uacRequest) {
      this.lineCancelWanted = true; // the INVITE is not out yet: CANCEL as soon as it is
      return;
    }
    try {
      // drachtio-srf takes (opts, callback); its typings know only the callback.
      (this.uacRequest.cancel as unknown as (opts: object, cb: () => void) => void)({ headers: { Reason: 'SIP;cause=480;text="No answer"' } }, () => undefined);
    } catch (err) {
      this.ctx.log.warn({ callId: this.callId, err: (err as Error).message }, 'cannot cancel the line');
    }
  }

  private bye(d: Srf.Dialog): Promise<void> {
    return Promise.resolve(d.destroy() as unknown).then(
      () => undefined,
      (err: Error) => this.ctx.log.warn({ callId: this.callId, err: err.message }, 'cannot relay BYE'),
    );
  }
}
