// One 着信 on the notify B2BUA, as an object with an explicit state. It owns every leg it sends
// (leg.ts), every timer and, for a call with 転送ガイダンス, the media session:
//
//   ringing ─────────────(the line answers)──────────────────────────────▶ answered ─▶ ended
//     │ (busy, with a busy forward)     │ (呼出秒数, with a no-answer forward)      ▲
//     │                                 ▼                                         │
//     │                         leaving_line (the line CANCELled) ──▶ forwarding ─┘
//     └──────────────────────────────────────────────────────────────▶ forwarding  (busy)
//   (無条件転送 starts in forwarding; a call without forward plan stays in ringing → answered)
//   any of them ─▶ cancelling (caller answered and recorded, a leg CANCELled: 64·T1 at most) ─▶ ended
//
// Whatever ends it — the answering leg's refusal, the caller's CANCEL, either side's BYE, the maximum
// ring time, the service stopping, an exception — goes through release(), which hangs up the leg
// still up and hands the record to the saver exactly once. Each state starts its own timers on entry
// and they are cleared when it is left: the maximum ring time (ringing, leaving_line, forwarding),
// 呼出秒数 (ringing), the wait for the CANCELled line (leaving_line), the CANCEL guard (cancelling).
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { TrackedCall, TrackerReleaseReason } from '../call-tracker.ts';
import { HangupError, type MediaBridge, type MediaServer, type MediaSession } from '../media/port.ts';
import type { CallTimeline } from './classify.ts';
import type { CallerId } from '../domain/caller-id.ts';
import type { CallJournal } from './journal.ts';
import { outgoingInviteOf } from './leg-cancel.ts';
import { OutgoingLeg, type LegOutcome, type LegTarget } from './leg.ts';
import type { NotifyProfile } from './profile.ts';
import type { FinishedCall } from './record.ts';
import { mayLeaveLine, nextAfterLine, type ForwardLeg, type NextLeg, type RoutingPlan } from './routing.ts';

export type NotifyCallState = 'ringing' | 'leaving_line' | 'forwarding' | 'answered' | 'cancelling' | 'ended';

/**
 * caller_cancelled: CANCEL from the caller (the stack answered 487; the leg out is CANCELled);
 * refused: a final non-2xx from the leg out (the line's, or the 転送先's), relayed; unreachable: that
 * leg could not be tried; caller_hung_up / callee_hung_up: BYE from that side; max_ring_time:
 * notify.maxRingSec reached.
 */
export type NotifyReleaseReason =
  | 'caller_cancelled' | 'refused' | 'unreachable' | 'caller_hung_up' | 'callee_hung_up' | 'max_ring_time' | TrackerReleaseReason;

/** What the caller gets when the service gives up on a ringing call (max ring time, stop): see docs/notify.md. */
export const GIVE_UP_STATUS = 480;

/** RFC 3261 T1 of the SIP stack: sofia-sip under drachtio-server and the built-in engine both keep the RFC's 500 ms. */
export const SIP_T1_MS = 500;

/** The CANCEL sent to a leg the service gives up on (ring cap, 呼出秒数, a stop). */
const NO_ANSWER_REASON = 'SIP;cause=480;text="No answer"';

/** The prompt of 転送ガイダンス, and the tone the caller hears while the 転送先 rings after it. */
export const GUIDANCE_PROMPT = 'vw_guidance';
export const RINGBACK_PROMPT = 'ringback';

export interface NotifyCallContext {
  srf: Srf;
  log: Logger;
  maxRingMs: number;
  /**
   * 64·T1: how long a CANCELled leg has to send its final response before the call is given up
   * (RFC 3261 §9.1). drachtio-server may never report anything for such a leg; this bounds it.
   */
  cancelGuardMs: number;
  /** How long a line CANCELled for a no-answer forward may take to answer the CANCEL before the forward goes out anyway. */
  lineReleaseWaitMs: number;
  journal: CallJournal;
  /** For 転送ガイダンス; without it a forward with guidance goes out without (logged). */
  media?: MediaServer;
  /** Hands the finished call to the saver (database or spool). */
  record(profile: NotifyProfile, call: FinishedCall): void;
  /**
   * The plan's FAX leg (FAXお知らせメール ring-first): the FAX receiver answers the caller and records
   * the call; this call ends unrecorded. ringAt: when the line started ringing.
   */
  handOver?(ringAt: Date | undefined): void;
}

/** Where the call's legs go: the line, and what a forward to a 転送先 looks like. */
export interface CallRoute {
  plan: RoutingPlan;
  /** The line's INVITE (the caller's SDP goes with it); needed when the plan rings the line. */
  line?: { uri: string; headers: Record<string, string> };
  forwardTo(next: ForwardLeg): { uri: string; headers: Record<string, string> };
}

const SDP_HEADERS = { 'Content-Type': 'application/sdp' };

type AnsweredLeg = Extract<LegOutcome, { kind: 'answered' | 'offered' }>;

export class NotifyCall implements TrackedCall {
  readonly callId: string;
  readonly ended: Promise<void>;
  state: NotifyCallState = 'ringing';
  private readonly timeline: Omit<CallTimeline, 'endAt' | 'finalStatus'>;
  private route?: CallRoute;
  /** The leg the call is waiting for (the line's, then a 転送先's). */
  private leg?: OutgoingLeg;
  /** Legs whose INVITE has no final response yet (a line being CANCELled may outlive the step to the next leg). */
  private readonly openLegs = new Set<OutgoingLeg>();
  private nextAfterLeaving?: NextLeg;
  private dialogs?: { uas: Srf.Dialog; uac: Srf.Dialog };
  /** 転送ガイダンス: the media anchoring the call from the guidance on, and its bridge to the 転送先. */
  private session?: MediaSession;
  private bridge?: MediaBridge;
  private timers: NodeJS.Timeout[] = [];
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

  /** The CANCEL that came while the subscriber was being read: no leg is ever sent. */
  cancelledBeforeRouting(at: Date): void {
    this.release('caller_cancelled', at);
  }

  /** Executes the routing plan. Throws only on bugs (the tracker contains them). */
  async run(route: CallRoute): Promise<void> {
    this.route = route;
    this.req.on('cancel', () => this.release('caller_cancelled', new Date()));
    if (route.plan.first === 'next') return this.startNext(route.plan.next);
    return this.ringLine(route.line!);
  }

  // ── states ──────────────────────────────────────────────────────────────────────────────────────

  /** Leaves the current state (its timers go) and enters `state` with the timers it starts. */
  private enter(state: NotifyCallState, timers: [ms: number, fire: () => void][] = []): void {
    for (const t of this.timers) clearTimeout(t);
    this.state = state;
    this.timers = timers.map(([ms, fire]) => setTimeout(fire, Math.max(0, ms)));
  }

  /** The maximum ring time runs from the INVITE through every ringing state: the caller's wait is what it bounds. */
  private ringCap(): [number, () => void] {
    return [this.ctx.maxRingMs - (Date.now() - this.timeline.inviteAt.getTime()), () => this.release('max_ring_time', new Date())];
  }

  private async ringLine(line: { uri: string; headers: Record<string, string> }): Promise<void> {
    const plan = this.route!.plan;
    const noAnswer = plan.first === 'line' ? plan.onNoAnswer : undefined;
    this.enter('ringing', [this.ringCap(), ...(noAnswer ? [[noAnswer.afterMs, () => this.leaveLine(noAnswer.next)] as [number, () => void]] : [])]);
    // A line that may still be left for another leg must not give the caller its SDP (RFC 3261 §13.2.1:
    // the caller would keep it as the answer and ignore the next leg's).
    const relaySdp = !mayLeaveLine(plan);
    const leg = this.send({ ...line, sdp: this.req.body }, (p) => this.lineProvisional(p, relaySdp));
    const outcome = await this.follow(leg);
    if (!outcome) return;
    if (this.state === 'leaving_line') {
      // The line answered as it was CANCELled for the forward: the call stays on the line.
      if (outcome.kind === 'answered' || outcome.kind === 'offered') return this.answer(outcome);
      return this.startNext(this.nextAfterLeaving!);
    }
    if (outcome.kind === 'answered' || outcome.kind === 'offered') return this.answer(outcome);
    if (outcome.kind === 'failed') {
      const next = nextAfterLine(plan, { busy: outcome.status });
      if (next) return this.startNext(next);
    }
    this.refusedBy(outcome);
  }

  /** 呼出秒数 is over: the line is CANCELled, and once it has answered the CANCEL (briefly bounded) the next leg goes. */
  private leaveLine(next: NextLeg): void {
    if (this.state !== 'ringing') return;
    this.nextAfterLeaving = next;
    const line = this.leg!;
    this.enter('leaving_line', [this.ringCap(), [this.ctx.lineReleaseWaitMs, () => this.leftLineUnanswered(line)]]);
    line.cancel(NO_ANSWER_REASON);
  }

  /** The CANCELled line has not answered in time: the forward goes anyway (a late answer from the line is hung up). */
  private leftLineUnanswered(line: OutgoingLeg): void {
    if (this.state !== 'leaving_line' || this.leg !== line) return;
    this.ctx.log.warn({ callId: this.callId, afterMs: this.ctx.lineReleaseWaitMs }, 'the line did not answer its CANCEL in time: forwarding anyway');
    void this.startNext(this.nextAfterLeaving!).catch((err) => this.failed(err));
  }

  private async startNext(next: NextLeg): Promise<void> {
    if (next.kind === 'fax') return this.toFax();
    return this.forward(next);
  }

  /** The FAX receiver answers the caller (its own call records the 着信 and the reception). */
  private toFax(): void {
    if (this.over()) return;
    if (!this.ctx.handOver) throw new Error('a FAX leg without a FAX hand-over');
    this.enter('ended');
    void this.session?.close();
    this.ctx.handOver(this.timeline.ringAt);
    this.end();
  }

  /** Released (recorded) already; checked after each await. */
  private over(): boolean {
    return this.state === 'ended' || this.state === 'cancelling';
  }

  private async forward(next: ForwardLeg): Promise<void> {
    if (this.over()) return;
    this.enter('forwarding', [this.ringCap()]);
    const at = new Date();
    this.timeline.forwarded = true;
    this.timeline.forwardAt = at;
    this.ctx.journal.ringing(this.callId, this.timeline.ringAt ?? at, true);
    this.provisional(181, 'Call Is Being Forwarded');
    let sdp = this.req.body;
    if (next.guidance) {
      const anchored = await this.playGuidance();
      if (this.state !== 'forwarding') return;
      if (anchored) sdp = anchored;
    }
    const target: LegTarget = { ...this.route!.forwardTo(next), sdp };
    this.ctx.log.info({ callId: this.callId, called: this.calledNumber, by: next.by, reason: next.reason, anchored: !!this.bridge }, 'forwarding');
    const leg = this.send(target, (p) => this.forwardProvisional(p));
    const outcome = await this.follow(leg);
    if (!outcome) return;
    if (outcome.kind === 'answered' || outcome.kind === 'offered') return this.answer(outcome);
    this.refusedBy(outcome);
  }

  /**
   * 転送ガイダンス as early media: the caller gets our SDP in a 183 and hears the guidance, then
   * ringback until the 転送先 answers. The call's media stays anchored on the endpoint from then
   * on (MediaBridge); returns the SDP offer for the 転送先, or undefined when the guidance cannot be
   * given (no media server, an offer it cannot serve) and the forward goes out signalling-only.
   */
  private async playGuidance(): Promise<string | undefined> {
    const media = this.ctx.media;
    if (!media) {
      this.ctx.log.warn({ callId: this.callId }, '転送ガイダンス skipped: no media server on the notify path');
      return undefined;
    }
    let session: MediaSession;
    try {
      session = await media.open(this.req.body, { callId: this.callId });
    } catch (err) {
      this.ctx.log.warn({ callId: this.callId, err: (err as Error).message }, '転送ガイダンス skipped: the caller’s offer cannot be served');
      return undefined;
    }
    if (this.state !== 'forwarding') {
      void session.close();
      return undefined;
    }
    this.session = session;
    this.provisional(183, 'Session Progress', session.localSdp);
    try {
      await session.play([{ prompt: GUIDANCE_PROMPT }]);
      if (this.state !== 'forwarding') return undefined;
      this.bridge = await session.openBridge();
    } catch (err) {
      if (err instanceof HangupError || this.state !== 'forwarding') return undefined;
      throw err;
    }
    void this.ringback(session);
    return this.bridge.offerSdp;
  }

  /** Ringback from the endpoint while the 転送先 rings: the caller has our early media, so it makes none of its own. */
  private async ringback(session: MediaSession): Promise<void> {
    try {
      while (this.state === 'forwarding' && !this.bridgeConnected) await session.play([{ prompt: RINGBACK_PROMPT }]);
    } catch {
      // The session closed (the call ended): nothing more to play.
    }
  }

  private bridgeConnected = false;

  private async connectBridge(sdp: string): Promise<void> {
    this.bridgeConnected = true;
    await this.bridge!.connect(sdp);
  }

  /** The answering leg's 200: the caller gets its 200 (our SDP when anchored, the leg's otherwise). */
  private async answer(outcome: AnsweredLeg): Promise<void> {
    if (outcome.kind === 'offered') return this.answerLateOffer(outcome);
    const uac = outcome.dialog;
    try {
      if (this.bridge) await this.connectBridge(outcome.sdp);
    } catch (err) {
      this.ctx.log.warn({ callId: this.callId, err: (err as Error).message }, 'the 転送先 answered with media the call cannot relay');
      void this.bye(uac);
      return this.release('refused', new Date(), 488);
    }
    if (this.over()) return void this.bye(uac);
    let uas: Srf.Dialog;
    try {
      const localSdp = this.session ? this.session.localSdp : outcome.sdp;
      uas = await this.ctx.srf.createUAS(this.req, this.res, { localSdp, headers: localSdp ? SDP_HEADERS : {} });
    } catch (err) {
      // The caller's CANCEL crossed the answer (the stack answered 487): the call is recorded by it.
      void this.bye(uac);
      if ((err as { status?: unknown }).status === 487) return this.release('caller_cancelled', new Date());
      throw err;
    }
    if (this.over()) {
      // Answered just as the call was given up (CANCEL, ring cap, stop): it is recorded already; end both legs.
      void this.bye(uas);
      void this.bye(uac);
      return;
    }
    this.established(uas, uac);
  }

  /** Both dialogs are up: the call is answered until either side hangs up. */
  private established(uas: Srf.Dialog, uac: Srf.Dialog): void {
    this.enter('answered');
    this.dialogs = { uas, uac };
    this.timeline.answerAt = new Date();
    this.ctx.journal.answered(this.callId, this.timeline.answerAt);
    this.ctx.log.debug({ callId: this.callId }, 'answered');
    uas.on('destroy', () => this.release('caller_hung_up', new Date()));
    uac.on('destroy', () => this.release('callee_hung_up', new Date()));
  }

  /**
   * A caller that sent no SDP (late offer): the leg's 200 carries the offer, relayed in our 200;
   * the caller's ACK carries the answer, relayed in the leg's ACK.
   */
  private async answerLateOffer(outcome: Extract<LegOutcome, { kind: 'offered' }>): Promise<void> {
    const giveUp = () => void outcome.destroy().catch(() => undefined);
    if (this.over()) return giveUp();
    let uas: Srf.Dialog;
    try {
      uas = await this.ctx.srf.createUAS(this.req, this.res, { localSdp: outcome.sdp, headers: SDP_HEADERS });
    } catch (err) {
      giveUp();
      if ((err as { status?: unknown }).status === 487) return this.release('caller_cancelled', new Date());
      throw err;
    }
    const ack = await new Promise<Srf.SrfRequest | undefined>((resolve) => {
      uas.once('ack', ((req: Srf.SrfRequest) => resolve(req)) as unknown as (msg: Srf.SrfResponse) => void);
      uas.once('destroy', () => resolve(undefined));
    });
    if (!ack?.body || this.over()) {
      // No ACK (the stack hung up on the caller) or none with an answer: the leg cannot be completed.
      // The caller had our 200, so the record says 200 (通話) ending now.
      giveUp();
      void this.bye(uas);
      if (!this.over()) this.release('refused', new Date(), 200);
      return;
    }
    const uac = await outcome.ack(ack.body);
    this.established(uas, uac);
  }

  private refusedBy(outcome: Exclude<LegOutcome, { kind: 'answered' | 'offered' }>): void {
    if (outcome.kind === 'unreachable') {
      this.ctx.log.warn({ callId: this.callId, err: outcome.error, forwarded: this.timeline.forwarded }, this.timeline.forwarded ? 'cannot reach the 転送先' : 'cannot reach the line');
      return this.release('unreachable', new Date(), 500);
    }
    this.release('refused', new Date(), outcome.status, outcome.res);
  }

  // ── legs ────────────────────────────────────────────────────────────────────────────────────────

  private send(target: LegTarget, onProvisional: (res: Srf.SrfResponse) => void): OutgoingLeg {
    const leg = new OutgoingLeg(this.ctx.srf, this.req, { ...target, headers: { ...target.headers, ...SDP_HEADERS } }, onProvisional, (sent) => {
      // What a node taking this call over needs to CANCEL the leg, should this worker or node die.
      const invite = outgoingInviteOf(sent);
      if (invite) this.ctx.journal.legSent(this.callId, invite);
    });
    this.leg = leg;
    this.openLegs.add(leg);
    return leg;
  }

  /**
   * The leg's outcome, when the call is still waiting for this leg; undefined otherwise (released,
   * or already on another leg), in which case an answer from it is hung up.
   */
  private async follow(leg: OutgoingLeg): Promise<LegOutcome | undefined> {
    const outcome = await leg.outcome;
    this.openLegs.delete(leg);
    if (this.state === 'cancelling' && this.openLegs.size === 0) this.end();
    const waiting = this.leg === leg && (this.state === 'ringing' || this.state === 'leaving_line' || this.state === 'forwarding');
    if (waiting) return outcome;
    if (outcome.kind === 'answered') void this.bye(outcome.dialog);
    if (outcome.kind === 'offered') void outcome.destroy().catch(() => undefined);
    return undefined;
  }

  private lineProvisional(p: Srf.SrfResponse, relaySdp: boolean): void {
    if (this.state !== 'ringing') return;
    const t = this.timeline;
    const first = p.status >= 180 && p.status < 190 && !t.ringAt;
    const forwardedNow = p.status === 181 && !t.forwarded;
    if (first) t.ringAt = new Date();
    if (forwardedNow) t.forwarded = true;
    if (first || forwardedNow) this.ctx.journal.ringing(this.callId, t.ringAt ?? new Date(), t.forwarded);
    this.provisional(p.status, p.reason, relaySdp ? p.body : undefined);
  }

  private forwardProvisional(p: Srf.SrfResponse): void {
    if (this.state !== 'forwarding') return;
    if (this.bridge) {
      // Anchored: the 転送先's early media reaches the caller through the endpoint, never its SDP.
      if (p.body) void this.connectBridge(p.body).catch((err: Error) => this.ctx.log.warn({ callId: this.callId, err: err.message }, '転送先 early media not relayed'));
      return this.provisional(p.status, p.reason);
    }
    this.provisional(p.status, p.reason, p.body);
  }

  /** A provisional response to the caller (100 is hop-by-hop and never relayed). */
  private provisional(status: number, reason: string, sdp?: string): void {
    if (status <= 100 || this.res.finalResponseSent) return;
    this.res.send(status, reason, sdp ? { headers: SDP_HEADERS, body: sdp } : {});
  }

  // ── the end ─────────────────────────────────────────────────────────────────────────────────────

  /**
   * Ends the call now (first release wins): the leg still up is hung up or CANCELled, the record
   * handed over once. A call with a CANCELled leg is then waited for (cancelling), 64·T1 at most.
   */
  release(reason: NotifyReleaseReason, at: Date, status?: number, res?: Srf.SrfResponse): void {
    if (this.state === 'cancelling') {
      // Recorded already; only a stop or an exception stops waiting for the CANCELled leg.
      if (reason === 'service_stopping' || reason === 'internal_error') this.end();
      return;
    }
    if (this.state === 'ended') return;
    const was = this.state;
    this.enter('ended');
    let finalStatus: number;
    let endReason: string | undefined;
    if (was === 'answered') {
      finalStatus = 200;
      const d = this.dialogs!;
      if (reason !== 'caller_hung_up') void this.bye(d.uas);
      if (reason !== 'callee_hung_up') void this.bye(d.uac);
      if (reason === 'service_stopping' || reason === 'internal_error') endReason = reason;
    } else if (reason === 'caller_cancelled') {
      finalStatus = 487; // answered by the stack
      this.leg?.cancel(NO_ANSWER_REASON);
    } else if (reason === 'refused' || reason === 'unreachable') {
      finalStatus = status ?? 500;
      if (!this.res.finalResponseSent) {
        // A redirect is only useful to the caller with its Contact.
        const contact = finalStatus >= 300 && finalStatus < 400 && res?.has('Contact') ? { Contact: res.get('Contact') } : {};
        if (res?.reason) this.res.send(finalStatus, res.reason, { headers: contact });
        else this.res.send(finalStatus, { headers: contact });
      }
    } else {
      // The service gives up on a ringing call: the caller gets a final response, the leg out a CANCEL.
      finalStatus = reason === 'internal_error' ? 500 : GIVE_UP_STATUS;
      endReason = reason;
      if (!this.res.finalResponseSent) {
        const headers: Record<string, string> = reason === 'max_ring_time' ? { Reason: 'Q.850;cause=19;text="No answer from user"' } : {};
        this.res.send(finalStatus, { headers });
      }
      this.leg?.cancel(NO_ANSWER_REASON);
    }
    void this.session?.close();
    this.ctx.record(this.profile, {
      callId: this.callId, calledNumber: this.calledNumber, caller: this.caller,
      timeline: { ...this.timeline, finalStatus, endAt: at, ...(endReason ? { endReason } : {}) },
    });
    // The CANCEL the caller or the ring cap sent: wait for its final response. A stop or an exception
    // does not wait (the stack's own transaction still ends that leg).
    if (this.openLegs.size && (reason === 'caller_cancelled' || reason === 'max_ring_time')) this.enterCancelling();
    else this.end();
  }

  private enterCancelling(): void {
    this.enter('cancelling', [[this.ctx.cancelGuardMs, () => {
      this.ctx.log.warn(
        { callId: this.callId, afterMs: this.ctx.cancelGuardMs },
        'the line answered neither the CANCEL nor the INVITE within 64·T1 (RFC 3261 §9.1): its leg is given up',
      );
      this.end();
    }]]);
  }

  private end(): void {
    this.enter('ended');
    this.settle();
  }

  /** An exception outside the tracker's watch (a timer's continuation): the call ends, the process goes on. */
  private failed(err: unknown): void {
    this.ctx.log.error({ callId: this.callId, err: (err as Error)?.message }, 'call failed: ended');
    this.release('internal_error', new Date());
  }

  private bye(d: Srf.Dialog): Promise<void> {
    return Promise.resolve(d.destroy() as unknown).then(
      () => undefined,
      (err: Error) => this.ctx.log.warn({ callId: this.callId, err: err.message }, 'cannot relay BYE'),
    );
  }
}
