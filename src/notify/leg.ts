// One outgoing INVITE of a notify call — to the line, or to a 転送先 — followed to its final
// response. The call (call.ts) owns its legs: it relays what they report, CANCELs the one that is
// out, and decides what a leg's outcome means. Every leg is sent here, so this is the one place
// where a B leg's INVITE is on the wire (cbRequest).
import type { EventEmitter } from 'node:events';
import type Srf from 'drachtio-srf';

export interface LegTarget {
  uri: string;
  headers: Record<string, string>;
  /** The SDP offer of the INVITE (the caller's, or the media endpoint's for an anchored call); empty: the caller sent none (late offer). */
  sdp: string;
}

/** A 200 to an INVITE without SDP (late offer): its SDP is an offer, and the leg's ACK carries the caller's answer. */
interface OfferedAnswer {
  sdp: string;
  ack(answerSdp: string): Promise<Srf.Dialog>;
  destroy(): Promise<void>;
}

export type LegOutcome =
  | { kind: 'answered'; dialog: Srf.Dialog; sdp: string }
  | ({ kind: 'offered' } & OfferedAnswer)
  | { kind: 'failed'; status: number; res?: Srf.SrfResponse }
  /** The INVITE could not be sent or got no SIP answer at all (no status). */
  | { kind: 'unreachable'; error: string };

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

export class OutgoingLeg {
  /** Settles once with the leg's final outcome; never rejects. */
  readonly outcome: Promise<LegOutcome>;
  /** The INVITE is being sent or is out, and no final response (nor send error) is in. */
  open = true;
  /** A CANCEL was asked for (sent, or to be sent once the INVITE is out). */
  cancelled = false;
  private sent?: Srf.SrfRequest;
  private cancelReason?: string;

  constructor(
    srf: Srf,
    /** The caller's INVITE: the leg goes out on the same drachtio connection. */
    incoming: Srf.SrfRequest,
    target: LegTarget,
    onProvisional: (res: Srf.SrfResponse) => void,
    /** The INVITE is on the wire, as drachtio reports it sent (the call journals it: a takeover CANCELs it from there). */
    onSent: (sent: Srf.SrfRequest) => void,
  ) {
    // noAck for a late offer: drachtio-srf hands back the 200's offer and an ack() for the caller's answer.
    const lateOffer = !target.sdp;
    const opts = { headers: target.headers, localSdp: target.sdp, noAck: lateOffer, _socket: (incoming as unknown as { socket: unknown }).socket };
    const progress = {
      // drachtio-srf passes (err, request); its typings know only the request.
      cbRequest: ((err: unknown, sent: Srf.SrfRequest) => {
        if (err) return;
        withoutAppAckForFailures(sent);
        this.sent = sent;
        onSent(sent);
        if (this.cancelReason !== undefined) this.sendCancel();
      }) as unknown as (req: Srf.SrfRequest) => void,
      cbProvisional: (p: unknown) => {
        if (this.open) onProvisional(p as Srf.SrfResponse);
      },
    };
    this.outcome = (srf.createUAC(target.uri, opts as Srf.CreateUACOptions, progress) as Promise<Srf.Dialog | OfferedAnswer>).then(
      (answered): LegOutcome =>
        lateOffer
          ? { kind: 'offered', ...(answered as OfferedAnswer) }
          : { kind: 'answered', dialog: answered as Srf.Dialog, sdp: (answered as Srf.Dialog).remote.sdp },
      (err: unknown): LegOutcome => {
        const status = sipStatus(err);
        if (status === undefined) return { kind: 'unreachable', error: (err as Error)?.message ?? String(err) };
        return { kind: 'failed', status, res: (err as { res?: Srf.SrfResponse }).res };
      },
    ).finally(() => {
      this.open = false;
    });
  }

  /** CANCELs the INVITE (now, or as soon as it is on the wire). A leg that has its final response is left alone. */
  cancel(reason: string): void {
    if (!this.open || this.cancelled) return;
    this.cancelled = true;
    this.cancelReason = reason;
    if (this.sent) this.sendCancel();
  }

  private sendCancel(): void {
    try {
      // drachtio-srf takes (opts, callback); its typings know only the callback.
      (this.sent!.cancel as unknown as (opts: object, cb: () => void) => void)({ headers: { Reason: this.cancelReason } }, () => undefined);
    } catch {
      // The INVITE's transaction is over (its final response is on its way): nothing to cancel.
    }
  }
}
