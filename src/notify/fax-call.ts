// One FAX call answered by the service's FAX receiver (FAXお知らせメール): the caller's INVITE is
// answered with the receiver's SDP, a T.38 re-INVITE is handed to the receiver, and when T.30 is
// over (or either side hangs up, or the service stops) the call is ended with BYE and the reception
// handed to the recorder once. States: answering (receiver opening, 200 not yet sent) → receiving →
// ended. The receiver's own timers (no FAX within fax.noFaxTimeoutSec, fax.maxReceptionMin) end T.30;
// this object only follows.
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { TrackedCall, TrackerReleaseReason } from '../call-tracker.ts';
import { FaxUnavailableError, UnsupportedMediaError, type FaxReceiver, type FaxReception, type FaxSession } from '../media/port.ts';
import type { CallerId } from '../domain/caller-id.ts';
import type { FinishedFax } from './fax-record.ts';

export type FaxCallState = 'answering' | 'receiving' | 'ended';

export interface FaxCallContext {
  srf: Srf;
  log: Logger;
  receiver: FaxReceiver;
  noFaxTimeoutMs: number;
  maxDurationMs: number;
  /** Hands the finished reception to the recorder (database, mails, and the 着信 record). */
  record(fax: FinishedFax): void;
}

export class FaxCall implements TrackedCall {
  readonly callId: string;
  readonly ended: Promise<void>;
  state: FaxCallState = 'answering';
  private session?: FaxSession;
  private callerGone = false;
  private stopping = false;
  private settle!: () => void;

  constructor(
    private readonly ctx: FaxCallContext,
    private readonly req: Srf.SrfRequest,
    private readonly res: Srf.SrfResponse,
    private readonly calledNumber: string,
    private readonly caller: CallerId,
    private readonly inviteAt: Date,
  ) {
    this.callId = req.get('Call-ID');
    this.ended = new Promise<void>((r) => (this.settle = r));
  }

  /** Answers with the receiver and follows the reception to its end. Throws only on bugs (the tracker contains them). */
  async run(): Promise<void> {
    const { req, res, ctx } = this;
    req.on('cancel', () => this.end());
    try {
      this.session = await ctx.receiver.receive(req.body, {
        callId: this.callId, ident: this.calledNumber, noFaxTimeoutMs: ctx.noFaxTimeoutMs, maxDurationMs: ctx.maxDurationMs,
      });
    } catch (err) {
      return this.refuse(err);
    }
    if (this.stopping || res.finalResponseSent) {
      // CANCELled (or the service stopping) while the receiver was opening: nothing was received.
      await this.session.close();
      if (!res.finalResponseSent) res.send(503, { headers: { 'Retry-After': '5' } });
      return this.end();
    }
    let dialog: Srf.Dialog;
    try {
      dialog = await ctx.srf.createUAS(req, res, { localSdp: this.session.localSdp });
    } catch (err) {
      ctx.log.info({ callId: this.callId, err: (err as Error).message }, 'FAX call gone before it was answered');
      await this.session.close();
      return this.end();
    }
    const receivedAt = new Date();
    this.state = 'receiving';
    ctx.log.info({ callId: this.callId, called: this.calledNumber }, 'FAX call answered by the receiver');
    const session = this.session;
    dialog.on('modify', (mreq: Srf.SrfRequest, mres: Srf.SrfResponse) => {
      session.modify(mreq.body).then(
        (sdp) => {
          mres.send(200, { body: sdp, headers: { 'Content-Type': 'application/sdp' } });
          ctx.log.info({ callId: this.callId, t38: /^m=image /m.test(sdp) }, 'FAX call re-INVITE answered');
        },
        (err: Error) => mres.send(488, { headers: err instanceof UnsupportedMediaError ? { Warning: err.warning } : {} }),
      );
    });
    dialog.on('destroy', () => {
      this.callerGone = true;
      void session.close();
    });
    if (this.stopping) void session.close();
    const reception = await session.done;
    if (!this.callerGone) await Promise.resolve(dialog.destroy() as unknown).catch(() => undefined);
    this.finish(reception, receivedAt, new Date());
  }

  /** The tracker ends the call (service stopping, an exception): T.30 stops, what came is recorded. */
  release(reason: TrackerReleaseReason, _at: Date): void {
    if (this.state === 'ended') return;
    this.stopping = true;
    if (this.state === 'answering') {
      if (!this.res.finalResponseSent) this.res.send(reason === 'internal_error' ? 500 : 503, { headers: { 'Retry-After': '5' } });
      if (!this.session) this.end();
      return;
    }
    void this.session?.close();
  }

  private refuse(err: unknown): void {
    const { res, ctx } = this;
    if (res.finalResponseSent) return this.end(); // CANCELled meanwhile
    if (err instanceof UnsupportedMediaError) {
      ctx.log.info({ callId: this.callId, warning: err.warning }, 'FAX call refused: offer not usable');
      res.send(488, { headers: { Warning: err.warning } });
    } else if (err instanceof FaxUnavailableError) {
      ctx.log.error({ callId: this.callId, called: this.calledNumber, err: err.message }, 'FAX call refused: FAX reception unavailable');
      res.send(503, { headers: { Warning: `399 chakushin "FAX reception unavailable: libspandsp2 is not installed"` } });
    } else {
      ctx.log.error({ callId: this.callId, err: (err as Error).message }, 'FAX call refused: no media');
      res.send(503, { headers: { 'Retry-After': '5' } });
    }
    this.end();
  }

  private finish(reception: FaxReception, receivedAt: Date, endedAt: Date): void {
    this.ctx.log.info(
      { callId: this.callId, called: this.calledNumber, result: reception.result, pages: reception.pages, reason: reception.t30Reason, transport: reception.transport },
      'FAX reception ended',
    );
    this.ctx.record({ callId: this.callId, calledNumber: this.calledNumber, caller: this.caller, inviteAt: this.inviteAt, receivedAt, endedAt, reception });
    this.end();
  }

  private end(): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.settle();
  }
}
