// Dialogs (RFC 3261 §12) as the engine keeps them on behalf of the app: construction on the UAS
// (§12.1.1) and UAC (§12.1.2) side, requests inside a dialog (§12.2.1.1), and the UAS's 2xx
// retransmission until the ACK (§13.3.1.4), whose absence ends the dialog with a BYE.
import type { AppConnection } from './app-link.ts';
import { cseqOf, getHeader, getHeaders, parseNameAddr, serialize, tagOf, type Header, type SipMessage, type SipRequest, type SipResponse } from './message.ts';
import { resolveUri } from './resolve.ts';
import type { SipTimers } from './transactions.ts';
import type { Peer, Protocol } from './transport.ts';

type Timer = ReturnType<typeof setTimeout>;

export interface Dialog {
  /** drachtio's dialog id: `Call-ID;from-tag=<tag of the INVITE's From>` */
  id: string;
  role: 'uac' | 'uas';
  callId: string;
  localTag: string;
  remoteTag: string;
  /** From (UAC) / To (UAS) of the dialog-creating request, with our tag. */
  local: string;
  remote: string;
  localSeq: number;
  remoteSeq: number;
  remoteTarget: string;
  /** Route set in the order requests use it (§12.1.1 / §12.1.2). */
  routeSet: string[];
  /** Where the peer is; for TCP the connection is reused for in-dialog requests. */
  peer: Peer;
  app: AppConnection;
  /** CSeq of the INVITE whose 2xx is being retransmitted / waiting to be ACKed. */
  inviteSeq: number;
  /** UAS, waiting for the ACK: the 2xx being retransmitted (§13.3.1.4) and the two timers of that wait. */
  awaitingAck?: { buf: Buffer; retransmit?: Timer; giveUp: Timer };
  /** UAC: a 2xx is in and its ACK (the app's to send) has not gone yet. */
  ackDue?: boolean;
  /** UAC: the ACK sent for the current 2xx, re-sent when the 2xx is retransmitted. */
  lastAck?: { seq: number; buf: Buffer };
}

export interface DialogHost {
  timers: SipTimers;
  send(peer: Peer, buf: Buffer): void;
  /** A fresh top Via (new branch) for a request the engine sends. */
  via(proto: Protocol): string;
  /** Sends a request the engine makes itself (the ACK-timeout BYE) in its own client transaction. */
  startRequest(req: SipRequest, peer: Peer): void;
  /** Hands the app a request of its dialog: the peer's ACK, or the engine's ACK-timeout BYE. */
  toApp(d: Dialog, req: SipRequest, source: 'network' | 'application', peer: Peer): void;
  /** Counted and logged by the host. */
  ackTimedOut(d: Dialog): void;
  fault(callId: string, where: string, err: unknown): void;
}

/** What the app's dialog sees when the 2xx is never ACKed: drachtio-srf emits `destroy` with this text. */
export const ACK_TIMEOUT_REASON = 'SIP ;cause=200 ;text="ACK timeout"';

export function dialogId(callId: string, fromTag: string): string {
  return `${callId};from-tag=${fromTag}`;
}

function tagsKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}|${localTag}|${remoteTag}`;
}

function contactUri(msg: SipMessage): string | undefined {
  const c = getHeaders(msg, 'contact')[0];
  return c ? parseNameAddr(c)?.uri : undefined;
}

export class Dialogs {
  private byId = new Map<string, Dialog>();
  private byTags = new Map<string, Dialog>();

  constructor(private readonly host: DialogHost) {}

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Dialog | undefined {
    return this.byId.get(id);
  }

  /** The dialog a message from the peer belongs to (our tag, their tag). */
  find(callId: string, localTag: string, remoteTag: string): Dialog | undefined {
    return this.byTags.get(tagsKey(callId, localTag, remoteTag));
  }

  all(): Dialog[] {
    return [...this.byId.values()];
  }

  remove(d: Dialog): void {
    this.stopWaitingForAck(d);
    if (this.byId.get(d.id) === d) this.byId.delete(d.id);
    const k = tagsKey(d.callId, d.localTag, d.remoteTag);
    if (this.byTags.get(k) === d) this.byTags.delete(k);
  }

  private add(d: Dialog): Dialog {
    this.byId.set(d.id, d);
    this.byTags.set(tagsKey(d.callId, d.localTag, d.remoteTag), d);
    return d;
  }

  /**
   * §12.1.1: the app sent a 2xx to an INVITE (`existing` for a re-INVITE: target refresh). Then
   * retransmits the 2xx until the ACK; without one in 64·T1 the dialog ends with BYE.
   */
  uasAnswered(req: SipRequest, res: SipResponse, buf: Buffer, peer: Peer, app: AppConnection, existing?: Dialog): Dialog {
    const seq = cseqOf(req)?.seq ?? 1;
    let d = existing;
    if (d) {
      const contact = contactUri(req);
      if (contact) d.remoteTarget = contact;
      d.inviteSeq = seq;
    } else {
      const callId = getHeader(req, 'call-id') ?? '';
      const fromTag = tagOf(getHeader(req, 'from')) ?? '';
      d = this.add({
        id: dialogId(callId, fromTag), role: 'uas', callId, localTag: tagOf(getHeader(res, 'to')) ?? '', remoteTag: fromTag,
        local: getHeader(res, 'to') ?? '', remote: getHeader(req, 'from') ?? '',
        localSeq: 1 + Math.floor(Math.random() * 10_000), remoteSeq: seq, remoteTarget: contactUri(req) ?? req.uri,
        routeSet: getHeaders(req, 'record-route'), peer, app, inviteSeq: seq,
      });
    }
    this.awaitAck(d, buf);
    return d;
  }

  /** §12.1.2: a 2xx to the app's INVITE (`existing` for a re-INVITE: target refresh). */
  uacAnswered(req: SipRequest, res: SipResponse, peer: Peer, app: AppConnection, existing?: Dialog): Dialog | undefined {
    const toTag = tagOf(getHeader(res, 'to'));
    if (!toTag) return undefined;
    const seq = cseqOf(req)?.seq ?? 1;
    const contact = contactUri(res);
    if (existing) {
      if (contact) existing.remoteTarget = contact; // §12.2.1.2
      existing.inviteSeq = seq;
      existing.ackDue = true;
      return existing;
    }
    const callId = getHeader(req, 'call-id') ?? '';
    const fromTag = tagOf(getHeader(req, 'from')) ?? '';
    const id = dialogId(callId, fromTag);
    return this.byId.get(id) ?? this.add({
      id, role: 'uac', callId, localTag: fromTag, remoteTag: toTag,
      local: getHeader(req, 'from') ?? '', remote: getHeader(res, 'to') ?? '',
      localSeq: seq, remoteSeq: 0, remoteTarget: contact ?? req.uri,
      routeSet: getHeaders(res, 'record-route').reverse(), peer, app, inviteSeq: seq, ackDue: true,
    });
  }

  /** An ACK from the peer for a 2xx: true when it ends a wait (the app then hears of it). */
  ack(req: SipRequest, d: Dialog): boolean {
    if (!d.awaitingAck || cseqOf(req)?.seq !== d.inviteSeq) return false;
    this.stopWaitingForAck(d);
    this.host.toApp(d, req, 'network', d.peer);
    return true;
  }

  /** A 2xx retransmitted because our ACK was lost: the ACK goes again (§13.2.2.4). */
  reAck(res: SipResponse): boolean {
    const d = this.find(getHeader(res, 'call-id') ?? '', tagOf(getHeader(res, 'from')) ?? '', tagOf(getHeader(res, 'to')) ?? '');
    if (!d?.lastAck || d.lastAck.seq !== cseqOf(res)?.seq) return false;
    this.host.send(d.peer, d.lastAck.buf);
    return true;
  }

  /** §12.2.1.1: a request inside the dialog; ACK reuses the INVITE's CSeq number, others take the next one. */
  request(d: Dialog, method: string, extra: Header[], body: Buffer): SipRequest {
    const seq = method === 'ACK' ? d.inviteSeq : ++d.localSeq;
    const headers: Header[] = [
      { key: 'via', value: this.host.via(d.peer.protocol) },
      { key: 'max-forwards', value: '70' },
      ...d.routeSet.map((value) => ({ key: 'route', value })),
      { key: 'from', value: d.local },
      { key: 'to', value: d.remote },
      { key: 'call-id', value: d.callId },
      { key: 'cseq', value: `${seq} ${method}` },
      ...extra,
    ];
    return { kind: 'request', method, uri: d.remoteTarget, headers, body };
  }

  /** Sends the app's ACK for a 2xx and keeps it for retransmitted 2xx. */
  sendAck(d: Dialog, ack: SipRequest, peer: Peer): Buffer {
    const buf = serialize(ack);
    d.ackDue = false;
    d.lastAck = { seq: d.inviteSeq, buf };
    this.host.send(peer, buf);
    return buf;
  }

  /** Next hop for an in-dialog request: the open TCP connection if any, else route set / remote target. */
  async nextHop(d: Dialog): Promise<Peer | undefined> {
    if (d.peer.protocol === 'tcp' && d.peer.conn && !d.peer.conn.destroyed) return d.peer;
    const first = d.routeSet[0];
    const target = first ? parseNameAddr(first)?.uri ?? d.remoteTarget : d.remoteTarget;
    return resolveUri(target, d.peer.protocol);
  }

  /** UAS 2xx: retransmit on UDP from T1 doubling to T2 (§13.3.1.4) until the ACK, for at most 64·T1. */
  private awaitAck(d: Dialog, buf: Buffer): void {
    this.stopWaitingForAck(d);
    const { t1, t2 } = this.host.timers;
    const wait: NonNullable<Dialog['awaitingAck']> = { buf, giveUp: this.timer(d, 'ACK wait', 64 * t1, () => this.ackTimeout(d)) };
    d.awaitingAck = wait;
    const retransmit = (interval: number) => {
      wait.retransmit = this.timer(d, '2xx retransmission', interval, () => {
        this.host.send(d.peer, buf);
        retransmit(Math.min(interval * 2, t2));
      });
    };
    if (d.peer.protocol === 'udp') retransmit(t1);
  }

  private stopWaitingForAck(d: Dialog): void {
    const w = d.awaitingAck;
    if (!w) return;
    clearTimeout(w.retransmit);
    clearTimeout(w.giveUp);
    d.awaitingAck = undefined;
  }

  /** A timer of the ACK wait: a no-op once the wait is over, and an exception in it ends only this dialog. */
  private timer(d: Dialog, what: string, ms: number, fire: () => void): Timer {
    return setTimeout(() => {
      if (!d.awaitingAck) return;
      try {
        fire();
      } catch (err) {
        this.host.fault(d.callId, what, err);
        this.remove(d);
      }
    }, ms);
  }

  /** No ACK within 64·T1: BYE to the peer, and the same BYE to the app, as drachtio-server does. */
  private ackTimeout(d: Dialog): void {
    this.host.ackTimedOut(d);
    this.remove(d);
    const bye = this.request(d, 'BYE', [{ key: 'reason', value: ACK_TIMEOUT_REASON }], Buffer.alloc(0));
    void this.nextHop(d).then((peer) => {
      // Told even when the peer cannot be reached: the app's call is over either way.
      this.host.toApp(d, bye, 'application', peer ?? d.peer);
      if (peer) this.host.startRequest(bye, peer);
    }).catch((err: unknown) => this.host.fault(d.callId, 'ACK-timeout BYE', err));
  }
}
