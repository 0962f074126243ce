// RFC 3261 §17 transactions (with RFC 6026's Accepted states), one class per state machine.
// Each machine changes state only in transition(): leaving a state clears the timers armed in it
// (unless a timer was armed for that next state too, like timer F), entering one arms its timers.
// A transition the machine does not have is a bug: reported to the host (logged and counted), never
// thrown. A timer fires only in the state that armed it, and what a state needs (the request, the
// ACK) is released when the machine leaves it, so no timer can reach a released request.
// Timers use the global setTimeout so tests can drive them with fake timers.
// On TCP the retransmission timers are off and the "wait for strays" timers (D, I, J, K) are zero.
import { randomUUID } from 'node:crypto';
import { cseqOf, getHeader, getHeaders, serialize, topBranch, type Header, type SipRequest, type SipResponse } from './message.ts';
import type { Peer } from './transport.ts';

/**
 * RFC 3261 timer values in ms: T1 500, T2 4000, T4 5000, and timer C (§16.6 step 11, "greater than
 * 3 minutes"; sofia-sip, under drachtio-server, uses 185 s too). Tests shrink them all by one factor.
 */
export interface SipTimers { t1: number; t2: number; t4: number; c: number }
export const DEFAULT_TIMERS: SipTimers = { t1: 500, t2: 4000, t4: 5000, c: 185_000 };

export interface TxnHost {
  timers: SipTimers;
  send(peer: Peer, buf: Buffer): void;
  absorbed(): void;
  /** A transition the machine does not have: a bug, logged with the Call-ID and counted. */
  illegal(txn: Transaction, from: string, to: string): void;
  /** An exception inside a timer callback; the host ends the transaction cleanly. */
  fault(txn: Transaction, where: string, err: unknown): void;
}

type Timer = ReturnType<typeof setTimeout>;
interface Armed { timer: Timer; lives: readonly string[] }

export abstract class Transaction<S extends string = string> {
  readonly id = randomUUID();
  readonly method: string;
  readonly callId: string;
  abstract state: S | 'terminated';
  private armed = new Map<string, Armed>();
  private onDone: (() => void)[] = [];
  private onFinal?: () => void;
  /** Allowed transitions; every state may go to terminated. */
  protected abstract readonly edges: Partial<Record<S, readonly S[]>>;

  constructor(readonly key: string, protected readonly host: TxnHost, public peer: Peer, request: SipRequest) {
    this.method = request.method;
    this.callId = getHeader(request, 'call-id') ?? '';
  }

  get terminated(): boolean {
    return this.state === 'terminated';
  }

  protected get reliable(): boolean {
    return this.peer.protocol !== 'udp';
  }

  /** The only place the state changes. Returns false (and reports the bug) for a transition the machine lacks. */
  protected transition(to: S | 'terminated'): boolean {
    const from = this.state;
    if (from === 'terminated') return false;
    if (to !== 'terminated' && !(this.edges[from as S] ?? []).includes(to)) {
      this.host.illegal(this, from, to);
      return false;
    }
    for (const [name, a] of this.armed) {
      if (a.lives.includes(to)) continue;
      clearTimeout(a.timer);
      this.armed.delete(name);
    }
    this.state = to;
    this.entered(to, from as S);
    if (to === 'terminated') {
      this.onFinal = undefined;
      const done = this.onDone;
      this.onDone = [];
      for (const fn of done) fn();
    }
    return true;
  }

  /** What entering a state does: arm its timers, release what the previous state needed. */
  protected abstract entered(state: S | 'terminated', from: S): void;

  /** Arms a timer of the current state; `alsoIn` are the next states it survives into (timer F). */
  protected arm(name: string, ms: number, fire: () => void, alsoIn: readonly S[] = []): void {
    this.disarm(name);
    const state = this.state;
    const timer = setTimeout(() => {
      this.armed.delete(name);
      try {
        fire();
      } catch (err) {
        this.host.fault(this, `timer ${name} in ${state}`, err);
      }
    }, ms);
    this.armed.set(name, { timer, lives: [state, ...alsoIn] });
  }

  /**
   * Retransmits `wire()` on timer `name` for as long as the state lasts: first after `interval`, then
   * after next(interval). None on a reliable transport (§17.1.1.2, §17.1.2.2, §17.2.1).
   */
  protected retransmit(name: string, interval: number, next: (interval: number) => number, wire: () => Buffer | undefined): void {
    if (this.reliable) return;
    const rearm = (ms: number): void =>
      this.arm(name, ms, () => {
        const buf = wire();
        if (buf) this.host.send(this.peer, buf);
        rearm(next(ms));
      });
    rearm(interval);
  }

  /** Ends the transaction `ms` after entering this state, unless it leaves first. */
  protected endAfter(name: string, ms: number): void {
    this.arm(name, ms, () => this.transition('terminated'));
  }

  /** Waits `ms` to absorb retransmissions before ending (timers D, I, J, K); a reliable transport has none to wait for. */
  protected absorbStrays(name: string, ms: number): void {
    this.endAfter(name, this.reliable ? 0 : ms);
  }

  protected disarm(name: string): void {
    const a = this.armed.get(name);
    if (!a) return;
    clearTimeout(a.timer);
    this.armed.delete(name);
  }

  /** Names of the timers armed now (for tests and diagnostics). */
  get timers(): string[] {
    return [...this.armed.keys()];
  }

  whenTerminated(fn: () => void): void {
    this.onDone.push(fn);
  }

  /** Called once, when the final response is in: what the TU tied to it can go. */
  whenFinal(fn: () => void): void {
    this.onFinal = fn;
  }

  protected settled(): void {
    const fn = this.onFinal;
    this.onFinal = undefined;
    fn?.();
  }

  terminate(): void {
    this.transition('terminated');
  }
}

/** Branch (with magic cookie) plus sent-by identifies a server transaction (§17.2.3); ACK/CANCEL map onto INVITE's. */
export function serverKey(req: SipRequest): string | undefined {
  const via = getHeaders(req, 'via')[0];
  if (!via) return undefined;
  const branch = topBranch(req);
  const sentBy = /^SIP\s*\/\s*2\.0\s*\/\s*\S+\s+([^;\s]+)/i.exec(via)?.[1] ?? '';
  const method = req.method === 'ACK' ? 'INVITE' : req.method;
  if (branch && branch.startsWith('z9hG4bK')) return `${branch}|${sentBy}|${method}`;
  // RFC 2543 peers: fall back to dialog identifiers plus CSeq number.
  return `${getHeader(req, 'call-id')}|${getHeader(req, 'from')}|${cseqOf(req)?.seq}|${sentBy}|${method}`;
}

export function clientKey(branch: string, method: string): string {
  return `${branch}|${method === 'ACK' ? 'INVITE' : method}`;
}

// ───────────────────────────── server transactions ─────────────────────────────

export interface ServerTu {
  /** Non-INVITE only: the app did not answer within the engine's deadline (answered 408 by the TU). */
  expired?(txn: NonInviteServerTransaction): void;
}

abstract class ServerTransactionBase<S extends string> extends Transaction<S> {
  lastResponse?: Buffer;
  lastStatus = 0;
  /** The To tag this transaction answers with, chosen once so every response carries the same one. */
  toTag?: string;
  /** Held until the final response, for building responses; undefined after. */
  request?: SipRequest;

  constructor(key: string, host: TxnHost, peer: Peer, request: SipRequest) {
    super(key, host, peer, request);
    this.request = request;
  }

  /** Sends a response from the TU and moves the machine; undefined (reported as illegal) when this state takes none. */
  abstract respond(res: SipResponse): Buffer | undefined;

  /** The same request again. */
  abstract retransmission(): void;

  protected sendResponse(res: SipResponse): Buffer {
    const buf = serialize(res);
    this.lastResponse = buf;
    this.lastStatus = res.status;
    this.host.send(this.peer, buf);
    return buf;
  }

  protected resendLast(): void {
    this.host.absorbed();
    if (this.lastResponse) this.host.send(this.peer, this.lastResponse);
  }

  /** Left the states that wait for the TU's final response. */
  protected released(): void {
    this.request = undefined;
    this.settled();
  }
}

type InviteServerState = 'proceeding' | 'completed' | 'confirmed' | 'accepted';

/** §17.2.1 with RFC 6026 §7.1: a 2xx leads to Accepted, where the dialog layer retransmits it. */
export class InviteServerTransaction extends ServerTransactionBase<InviteServerState> {
  state: InviteServerState | 'terminated' = 'proceeding';
  protected readonly edges = {
    proceeding: ['completed', 'accepted'],
    completed: ['confirmed'],
  } as const;

  respond(res: SipResponse): Buffer | undefined {
    if (this.state !== 'proceeding') {
      this.host.illegal(this, this.state, `respond ${res.status}`);
      return undefined;
    }
    const buf = this.sendResponse(res);
    if (res.status >= 300) this.transition('completed');
    else if (res.status >= 200) this.transition('accepted');
    return buf;
  }

  retransmission(): void {
    // Accepted absorbs the INVITE: the dialog layer is retransmitting the 2xx on its own timer.
    if (this.state === 'accepted' || this.state === 'confirmed') this.host.absorbed();
    else this.resendLast();
  }

  /** ACK for a failure; an ACK in Accepted belongs to the dialog (returns false so the caller passes it on). */
  ack(): boolean {
    if (this.state === 'accepted') return false;
    if (this.state === 'completed') this.transition('confirmed');
    else this.host.absorbed();
    return true;
  }

  protected entered(state: InviteServerState | 'terminated'): void {
    const { t1, t2, t4 } = this.host.timers;
    switch (state) {
      case 'completed': {
        this.released();
        this.retransmit('G', t1, (interval) => Math.min(interval * 2, t2), () => this.lastResponse);
        this.endAfter('H', 64 * t1); // the ACK never came
        return;
      }
      case 'accepted':
        // Neither state answers retransmissions, so the response need not be kept (the dialog has the 2xx).
        this.released();
        this.lastResponse = undefined;
        this.endAfter('L', 64 * t1);
        return;
      case 'confirmed':
        this.lastResponse = undefined;
        this.absorbStrays('I', t4);
        return;
      case 'terminated':
        this.request = undefined;
        this.lastResponse = undefined;
    }
  }
}

type NonInviteServerState = 'trying' | 'proceeding' | 'completed';

/** §17.2.2. The engine adds one timer of its own: an app that never answers gets 408 after `deadlineMs`. */
export class NonInviteServerTransaction extends ServerTransactionBase<NonInviteServerState> {
  state: NonInviteServerState | 'terminated' = 'trying';
  protected readonly edges = {
    trying: ['proceeding', 'completed'],
    proceeding: ['completed'],
  } as const;

  constructor(key: string, host: TxnHost, peer: Peer, request: SipRequest, tu: ServerTu = {}, deadlineMs?: number) {
    super(key, host, peer, request);
    const expired = tu.expired;
    if (expired && deadlineMs !== undefined) this.arm('deadline', deadlineMs, () => expired(this), ['proceeding']);
  }

  respond(res: SipResponse): Buffer | undefined {
    if (this.state !== 'trying' && this.state !== 'proceeding') {
      this.host.illegal(this, this.state, `respond ${res.status}`);
      return undefined;
    }
    const buf = this.sendResponse(res);
    if (res.status >= 200) this.transition('completed');
    else if (this.state === 'trying') this.transition('proceeding');
    return buf;
  }

  retransmission(): void {
    if (this.state === 'trying') this.host.absorbed();
    else this.resendLast();
  }

  protected entered(state: NonInviteServerState | 'terminated'): void {
    if (state === 'completed') {
      this.released();
      this.absorbStrays('J', 64 * this.host.timers.t1);
    } else if (state === 'terminated') {
      this.request = undefined;
      this.lastResponse = undefined;
    }
  }
}

export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

export function newServerTransaction(key: string, host: TxnHost, peer: Peer, req: SipRequest, tu?: ServerTu, deadlineMs?: number): ServerTransaction {
  return req.method === 'INVITE'
    ? new InviteServerTransaction(key, host, peer, req)
    : new NonInviteServerTransaction(key, host, peer, req, tu, deadlineMs);
}

// ───────────────────────────── client transactions ─────────────────────────────

export interface ClientTu {
  /** Provisional responses and the first final response. */
  response(res: SipResponse, txn: ClientTransaction): void;
  /** No final response: timer B/F, or none within 64·T1 of a CANCEL (§9.1). */
  timeout(txn: ClientTransaction): void;
  /** INVITE: a CANCEL to send in its own client transaction (the app's, or timer C's). */
  cancel?(cancel: SipRequest, txn: InviteClientTransaction, byTimerC: boolean): void;
  /** INVITE in Accepted: a retransmitted 2xx, for the dialog to ACK again (§13.2.2.4). */
  retransmitted2xx?(res: SipResponse, txn: InviteClientTransaction): void;
}

abstract class ClientTransactionBase<S extends string> extends Transaction<S> {
  finalStatus = 0;
  /** Held while the request may be retransmitted or CANCELled; undefined after the final response. */
  request?: SipRequest;
  protected wire?: Buffer;

  constructor(key: string, host: TxnHost, peer: Peer, request: SipRequest, protected readonly tu: ClientTu) {
    super(key, host, peer, request);
    this.request = request;
  }

  /** Sends the request and enters the first state. */
  start(): Buffer {
    const buf = serialize(this.request as SipRequest);
    this.wire = buf;
    this.host.send(this.peer, buf);
    this.entered(this.state as S, this.state as S);
    return buf;
  }

  abstract receive(res: SipResponse): void;

  protected timedOut(): void {
    this.tu.timeout(this as unknown as ClientTransaction);
    this.transition('terminated');
  }

  protected releaseRequest(): void {
    this.request = undefined;
    this.wire = undefined;
    this.settled();
  }
}

type InviteClientState = 'calling' | 'proceeding' | 'completed' | 'accepted';

/**
 * §17.1.1 with RFC 6026 §7.2. Ringing is bounded by timer C, done as §16.8 asks of a proxy: when it
 * fires, the engine CANCELs the line and waits for the line's own final response (487); the app only
 * ever hears a final response the line sent. Only when the line answers neither the CANCEL nor the
 * INVITE within 64·T1 (§9.1) does the app get a locally made 408. Each provisional restarts timer C.
 */
export class InviteClientTransaction extends ClientTransactionBase<InviteClientState> {
  state: InviteClientState | 'terminated' = 'calling';
  protected readonly edges = {
    calling: ['proceeding', 'completed', 'accepted'],
    proceeding: ['completed', 'accepted'],
  } as const;
  private ackBuf?: Buffer;
  /** CANCEL asked for (by the app or timer C); sent at once when proceeding, at the first provisional when calling (§9.1). */
  private cancelRequested?: { req: SipRequest; sent: boolean };
  private byTimerC = false;

  receive(res: SipResponse): void {
    const s = this.state;
    if (s === 'calling' || s === 'proceeding') {
      if (res.status < 200) {
        if (s === 'calling') this.transition('proceeding');
        else if (!this.cancelRequested) this.armC(); // §16.7 step 2: a provisional resets timer C
        this.tu.response(res, this);
        return;
      }
      this.finalStatus = res.status;
      if (res.status >= 300) {
        this.ackBuf = serialize(this.buildAck(res));
        this.host.send(this.peer, this.ackBuf);
      }
      this.tu.response(res, this);
      this.transition(res.status >= 300 ? 'completed' : 'accepted');
      return;
    }
    this.host.absorbed();
    if (s === 'completed' && res.status >= 300 && this.ackBuf) this.host.send(this.peer, this.ackBuf);
    else if (s === 'accepted' && res.status >= 200 && res.status < 300) this.tu.retransmitted2xx?.(res, this);
  }

  /**
   * Asks for the INVITE to be CANCELled (§9.1). Returns the CANCEL (for echoing to the app), or
   * undefined when it is too late: a final response is in.
   */
  cancel(extra: Header[] = []): SipRequest | undefined {
    if (this.state !== 'calling' && this.state !== 'proceeding') return undefined;
    if (this.cancelRequested) return this.cancelRequested.req;
    this.cancelRequested = { req: this.buildCancel(extra), sent: false };
    if (this.state === 'proceeding') this.sendCancel();
    return this.cancelRequested.req;
  }

  protected entered(state: InviteClientState | 'terminated'): void {
    const { t1 } = this.host.timers;
    switch (state) {
      case 'calling':
        this.retransmit('A', t1, (interval) => interval * 2, () => this.wire);
        this.arm('B', 64 * t1, () => this.timedOut());
        return;
      case 'proceeding':
        if (this.cancelRequested) this.sendCancel();
        else this.armC();
        return;
      case 'completed':
        this.releaseRequest();
        this.absorbStrays('D', 64 * t1);
        return;
      case 'accepted':
        this.releaseRequest();
        this.endAfter('M', 64 * t1);
        return;
      case 'terminated':
        this.request = undefined;
        this.wire = undefined;
        this.ackBuf = undefined;
        this.cancelRequested = undefined;
    }
  }

  private armC(): void {
    this.arm('C', this.host.timers.c, () => {
      this.byTimerC = true;
      this.cancel();
    });
  }

  private sendCancel(): void {
    const c = this.cancelRequested;
    if (!c || c.sent) return;
    c.sent = true;
    this.disarm('C');
    this.arm('cancelled', 64 * this.host.timers.t1, () => this.timedOut());
    this.tu.cancel?.(c.req, this, this.byTimerC);
  }

  /** §9.1: same Request-URI, Call-ID, From, To, numeric CSeq, top Via and Route as the INVITE. */
  private buildCancel(extra: Header[]): SipRequest {
    return this.sibling('CANCEL', getHeader(this.request as SipRequest, 'to') ?? '', extra);
  }

  /** §17.1.1.3: the ACK for a failure belongs to the transaction; To comes from the response. */
  private buildAck(res: SipResponse): SipRequest {
    return this.sibling('ACK', getHeader(res, 'to') ?? '', []);
  }

  private sibling(method: 'ACK' | 'CANCEL', to: string, extra: Header[]): SipRequest {
    const req = this.request as SipRequest;
    const headers: Header[] = [
      { key: 'via', value: getHeaders(req, 'via')[0] ?? '' },
      { key: 'max-forwards', value: '70' },
      ...req.headers.filter((h) => h.key === 'route'),
      { key: 'from', value: getHeader(req, 'from') ?? '' },
      { key: 'to', value: to },
      { key: 'call-id', value: this.callId },
      { key: 'cseq', value: `${cseqOf(req)?.seq ?? 1} ${method}` },
      ...extra,
    ];
    return { kind: 'request', method, uri: req.uri, headers, body: Buffer.alloc(0) };
  }
}

type NonInviteClientState = 'trying' | 'proceeding' | 'completed';

/** §17.1.2: timer E retransmits (doubling to T2; at T2 once proceeding), timer F gives up. */
export class NonInviteClientTransaction extends ClientTransactionBase<NonInviteClientState> {
  state: NonInviteClientState | 'terminated' = 'trying';
  protected readonly edges = {
    trying: ['proceeding', 'completed'],
    proceeding: ['completed'],
  } as const;

  receive(res: SipResponse): void {
    const s = this.state;
    if (s !== 'trying' && s !== 'proceeding') {
      this.host.absorbed();
      return;
    }
    if (res.status >= 200) {
      this.finalStatus = res.status;
      this.tu.response(res, this);
      this.transition('completed');
      return;
    }
    if (s === 'trying') this.transition('proceeding');
    this.tu.response(res, this);
  }

  protected entered(state: NonInviteClientState | 'terminated', from: NonInviteClientState): void {
    const { t1, t2, t4 } = this.host.timers;
    switch (state) {
      case 'trying':
        this.armE(t1);
        this.arm('F', 64 * t1, () => this.timedOut(), ['proceeding']);
        return;
      case 'proceeding':
        if (from === 'trying') this.armE(t2);
        return;
      case 'completed':
        this.releaseRequest();
        this.absorbStrays('K', t4);
        return;
      case 'terminated':
        this.request = undefined;
        this.wire = undefined;
    }
  }

  /** Timer E doubles up to T2; once proceeding it starts at T2, so it stays there. */
  private armE(interval: number): void {
    const { t2 } = this.host.timers;
    this.retransmit('E', interval, (ms) => Math.min(ms * 2, t2), () => this.wire);
  }
}

export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;

export function newClientTransaction(key: string, host: TxnHost, peer: Peer, req: SipRequest, tu: ClientTu): ClientTransaction {
  return req.method === 'INVITE'
    ? new InviteClientTransaction(key, host, peer, req, tu)
    : new NonInviteClientTransaction(key, host, peer, req, tu);
}

