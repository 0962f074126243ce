// The engine's SIP core: what drachtio-server does between the network and drachtio-srf apps.
// Network side: transactions, dialogs, header policy. App side: the `sip` wire message in both directions.
import { randomUUID } from 'node:crypto';
import dns from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import type { Logger } from 'pino';
import { AppLink, type AppConnection } from './app-link.ts';
import { dialogId, DialogStore, type Dialog } from './dialog.ts';
import {
  formatVia, getHeader, getHeaders, KNOWN_METHODS, parseCSeq, parseMessage, parseNameAddr, parseUri, parseVia,
  messageText, serialize, SipParseError, tagOf, type Header, type SipMessage, type SipRequest, type SipResponse,
} from './message.ts';
import type { EngineLimits } from './limits.ts';
import { countRejected, newCounters, type EngineCounters } from './metrics.ts';
import { randomToken } from './random.ts';
import { REASONS } from './reasons.ts';
import { overloadedResponse } from './stateless.ts';
import {
  ClientTransaction, clientKey, DEFAULT_TIMERS, ServerTransaction, serverKey, type SipTimers, type TxnHost,
} from './transactions.ts';
import { Transport, type Peer, type Protocol } from './transport.ts';
import { response, sentOk, sipMessage, type SipMeta, type WireMessage } from './wire.ts';

interface ServerEntry {
  txn: ServerTransaction;
  app?: AppConnection;
  dialog?: Dialog;
}
interface ClientEntry {
  txn: ClientTransaction;
  app?: AppConnection;
  dialog?: Dialog;
  /** CANCEL waiting for the first provisional response (§9.1). */
  pendingCancel?: () => void;
}

/** Headers the engine writes itself; the app's copies are ignored (drachtio-server policy). */
const ENGINE_OWNED = new Set(['via', 'record-route', 'content-length', 'max-forwards', 'from', 'to', 'call-id', 'cseq', 'route']);
const NEEDS_CONTACT = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY', 'UPDATE']);
const ALLOW = [...KNOWN_METHODS].join(', ');
/** An app that never answers a non-INVITE request must not pin the transaction forever. */
const APP_NON_INVITE_DEADLINE_FACTOR = 64;

const randomTag = () => randomToken(6, 'hex');
const newBranch = () => 'z9hG4bK' + randomToken(9, 'base64url');

export interface CoreOptions {
  secret: string;
  log: Logger;
  timers?: Partial<SipTimers>;
  limits: EngineLimits;
}

export class EngineCore {
  readonly transport: Transport;
  readonly apps: AppLink;
  readonly counters: EngineCounters;
  readonly dialogs = new DialogStore();
  private serverByKey = new Map<string, ServerEntry>();
  private serverById = new Map<string, ServerEntry>();
  private clientByKey = new Map<string, ClientEntry>();
  private clientById = new Map<string, ClientEntry>();
  private readonly txnHost: TxnHost;
  private readonly log: Logger;
  private readonly limits: EngineLimits;
  /** Address written into Via/Contact (the bind address, or a real interface for 0.0.0.0). */
  private advertised = '';

  constructor(opts: CoreOptions) {
    this.log = opts.log;
    this.limits = opts.limits;
    this.counters = newCounters({
      appConnections: () => this.apps.authenticatedCount,
      transactions: () => this.serverById.size + this.clientById.size,
      dialogs: () => this.dialogs.size,
    });
    this.txnHost = {
      timers: { ...DEFAULT_TIMERS, ...opts.timers },
      send: (peer, buf) => this.send(peer, buf),
      absorbed: () => { this.counters.retransmissionsAbsorbed++; },
    };
    this.transport = new Transport({
      message: (buf, from) => this.receive(buf, from),
      streamError: (from, err) => {
        this.counters.parseErrors++;
        this.log.warn({ peer: `${from.address}:${from.port}`, err: err.message }, 'unframeable SIP stream, connection closed');
      },
    }, opts.limits, this.counters, opts.log);
    this.apps = new AppLink(opts.secret, {
      message: (app, msg) => this.fromApp(app, msg),
      disconnected: (app) => this.appGone(app),
      hostports: () => `udp/${this.advertised}:${this.transport.port},tcp/${this.advertised}:${this.transport.port}`,
    }, opts.log, opts.limits, this.counters);
  }

  async start(sip: { host: string; port: number }, admin: { host: string; port: number }): Promise<void> {
    await this.transport.listen(sip.host, sip.port);
    this.advertised = advertisedAddress(sip.host);
    await this.apps.listen(admin.host, admin.port);
  }

  async close(): Promise<void> {
    for (const e of [...this.serverById.values(), ...this.clientById.values()]) e.txn.terminate();
    for (const d of this.dialogs.all()) this.dialogs.remove(d);
    await Promise.all([this.apps.close(), this.transport.close()]);
  }

  get transactionCount(): number {
    return this.serverById.size + this.clientById.size;
  }

  // ───────────────────────────── network → engine ─────────────────────────────

  private send(peer: Peer, buf: Buffer): void {
    this.counters.messagesOut++;
    this.transport.send(peer, buf);
  }

  private receive(buf: Buffer, peer: Peer): void {
    this.counters.messagesIn++;
    let msg: SipMessage;
    try {
      msg = parseMessage(buf);
    } catch (err) {
      this.counters.parseErrors++;
      const partial = err instanceof SipParseError ? err.partial : undefined;
      this.log.warn({ peer: `${peer.address}:${peer.port}`, err: (err as Error).message }, 'malformed SIP message');
      if (partial?.kind === 'request' && partial.method !== 'ACK' && answerable(partial)) {
        this.statelessReply(partial, peer, (err as SipParseError).status);
      }
      return;
    }
    try {
      if (msg.kind === 'request') this.onRequest(msg, peer);
      else this.onResponse(msg, peer);
    } catch (err) {
      // Whatever a peer sends, one bad message only costs that message.
      this.counters.dropped++;
      this.log.error({ err, peer: `${peer.address}:${peer.port}` }, 'error handling SIP message');
    }
  }

  /** Where responses to this request go (§18.2.2 with RFC 3581 rport). */
  private responsePeer(req: SipRequest, peer: Peer): Peer {
    if (peer.protocol === 'tcp') return peer;
    const via = parseVia(getHeaders(req, 'via')[0] ?? '');
    const port = via?.params.has('rport') ? peer.port : (via?.port ?? 5060);
    return { protocol: 'udp', address: peer.address, port };
  }

  /** Adds received/rport to the top Via so the app and later hops see the real source (RFC 3581). */
  private stampVia(req: SipRequest, peer: Peer): void {
    const i = req.headers.findIndex((h) => h.key === 'via');
    const h = req.headers[i];
    if (!h) return;
    const [top, ...rest] = getHeaders({ headers: [h] }, 'via');
    const via = parseVia(top ?? '');
    if (!via) return;
    if (via.host.replace(/^\[|\]$/g, '') !== peer.address) via.params.set('received', peer.address);
    if (via.params.has('rport')) via.params.set('rport', String(peer.port));
    h.value = [formatVia(via), ...rest].join(', ');
  }

  private onRequest(req: SipRequest, peer: Peer): void {
    this.stampVia(req, peer);
    const key = serverKey(req);
    if (!key) return;
    if (req.method === 'ACK') return this.onAck(req, key);
    const existing = this.serverByKey.get(key);
    if (existing) {
      existing.txn.retransmission();
      return;
    }
    if (req.method === 'CANCEL') return this.onCancel(req, peer, key);
    const rpeer = this.responsePeer(req, peer);
    const mf = getHeader(req, 'max-forwards');
    if (mf !== undefined && Number(mf) <= 0) return this.reject(req, rpeer, key, 483);
    if (!KNOWN_METHODS.has(req.method)) return this.reject(req, rpeer, key, 501, [{ key: 'allow', value: ALLOW }]);
    const toTag = tagOf(getHeader(req, 'to'));
    if (toTag) return this.onInDialog(req, rpeer, key, toTag);

    if (this.transactionCount >= this.limits.maxTransactions || this.transport.descriptorsLow) return this.overloaded(req, rpeer);
    const app = this.apps.pick(req.method);
    if (!app) return this.reject(req, rpeer, key, 503);
    const entry = this.newServer(key, rpeer, req, app);
    if (req.method === 'INVITE') entry.txn.respond(this.buildResponse(entry.txn, 100));
    const raw = messageText(req);
    app.send(sipMessage(this.meta('network', raw.bytes, peer), entry.txn.id, '', raw.text,
      { address: this.advertised, port: this.transport.port }));
  }

  private onAck(req: SipRequest, key: string): void {
    const entry = this.serverByKey.get(key);
    // Only an ACK for a failure belongs to the INVITE transaction; the ACK for a 2xx is the dialog's,
    // even when the peer reuses the INVITE's branch (or has none, RFC 2543).
    if (entry && entry.txn.state !== 'accepted') {
      entry.txn.ack();
      return;
    }
    const d = this.dialogs.find(getHeader(req, 'call-id') ?? '', tagOf(getHeader(req, 'to')) ?? '', tagOf(getHeader(req, 'from')) ?? '');
    const seq = parseCSeq(getHeader(req, 'cseq') ?? '')?.seq;
    if (!d || !d.pending2xx || seq !== d.inviteSeq) {
      if (d) this.counters.retransmissionsAbsorbed++;
      else this.counters.dropped++;
      return;
    }
    for (const t of d.pending2xx.timers) clearTimeout(t);
    d.pending2xx = undefined;
    const raw = messageText(req);
    d.app.send(sipMessage(this.meta('network', raw.bytes, d.peer), randomUUID(), d.id, raw.text));
  }

  private onCancel(req: SipRequest, peer: Peer, key: string): void {
    const rpeer = this.responsePeer(req, peer);
    const inv = this.serverByKey.get(key.replace(/\|CANCEL$/, '|INVITE'));
    const own = this.newServer(key, rpeer, req);
    if (!inv || inv.txn.terminated) {
      own.txn.respond(this.buildResponse(own.txn, 481));
      countRejected(this.counters, 481);
      return;
    }
    own.txn.respond(this.buildResponse(own.txn, 200));
    if (inv.txn.lastStatus >= 200) return;
    const app = inv.app;
    inv.txn.respond(this.buildResponse(inv.txn, 487));
    if (app) {
      const raw = messageText(req);
      app.send(sipMessage(this.meta('network', raw.bytes, peer), inv.txn.id, '', raw.text));
    }
  }

  private onInDialog(req: SipRequest, rpeer: Peer, key: string, toTag: string): void {
    const d = this.dialogs.find(getHeader(req, 'call-id') ?? '', toTag, tagOf(getHeader(req, 'from')) ?? '');
    if (!d) return this.reject(req, rpeer, key, 481);
    const seq = parseCSeq(getHeader(req, 'cseq') ?? '')?.seq ?? 0;
    if (seq <= d.remoteSeq) return this.reject(req, rpeer, key, 500, [{ key: 'retry-after', value: '1' }]);
    d.remoteSeq = seq;
    if (rpeer.protocol === 'tcp') d.peer = rpeer;
    const entry = this.newServer(key, rpeer, req, d.app, d);
    if (req.method === 'INVITE') entry.txn.respond(this.buildResponse(entry.txn, 100));
    const raw = messageText(req);
    d.app.send(sipMessage(this.meta('network', raw.bytes, rpeer), entry.txn.id, d.id, raw.text));
    if (req.method === 'BYE') this.dialogs.remove(d);
  }

  private onResponse(res: SipResponse, peer: Peer): void {
    const branch = /;\s*branch=([^;,\s]+)/i.exec(getHeaders(res, 'via')[0] ?? '')?.[1];
    const cseq = parseCSeq(getHeader(res, 'cseq') ?? '');
    if (!branch || !cseq) {
      this.counters.dropped++;
      return;
    }
    const entry = this.clientByKey.get(clientKey(branch, cseq.method));
    if (entry) {
      entry.txn.receive(res);
      return;
    }
    if (cseq.method === 'INVITE' && res.status >= 200 && res.status < 300) {
      // 2xx retransmitted because our ACK was lost: the dialog re-sends the ACK (§13.2.2.4).
      const d = this.dialogs.find(getHeader(res, 'call-id') ?? '', tagOf(getHeader(res, 'from')) ?? '', tagOf(getHeader(res, 'to')) ?? '');
      if (d?.lastAck && d.lastAck.seq === cseq.seq) {
        this.counters.retransmissionsAbsorbed++;
        this.send(d.peer, d.lastAck.buf);
        return;
      }
    }
    this.counters.dropped++;
    this.log.debug({ peer: `${peer.address}:${peer.port}`, status: res.status }, 'stray response dropped');
  }

  // ───────────────────────────── transactions ─────────────────────────────

  private newServer(key: string, peer: Peer, req: SipRequest, app?: AppConnection, dialog?: Dialog): ServerEntry {
    const txn = new ServerTransaction(key, this.txnHost, peer, req);
    const entry: ServerEntry = { txn };
    if (app) entry.app = app;
    if (dialog) entry.dialog = dialog;
    this.serverByKey.set(key, entry);
    this.serverById.set(txn.id, entry);
    const deadline = app && req.method !== 'INVITE'
      ? setTimeout(() => {
        if (!txn.terminated && txn.lastStatus < 200) txn.respond(this.buildResponse(txn, 408));
      }, APP_NON_INVITE_DEADLINE_FACTOR * this.txnHost.timers.t1)
      : undefined;
    // Answered: the entry only absorbs retransmissions from now on, so it lets go of the app, the dialog
    // and the deadline instead of holding them for the rest of 64·T1.
    txn.whenFinal(() => {
      clearTimeout(deadline);
      entry.app = undefined;
      entry.dialog = undefined;
    });
    txn.whenTerminated(() => {
      clearTimeout(deadline);
      if (this.serverByKey.get(key) === entry) this.serverByKey.delete(key);
      this.serverById.delete(txn.id);
    });
    return entry;
  }

  private reject(req: SipRequest, peer: Peer, key: string, status: number, extra: Header[] = []): void {
    countRejected(this.counters, status);
    const entry = this.newServer(key, peer, req);
    const res = this.buildResponse(entry.txn, status);
    res.headers.push(...extra);
    entry.txn.respond(res);
  }

  /** At capacity: 503 with Retry-After, and no transaction kept for it. */
  private overloaded(req: SipRequest, peer: Peer): void {
    countRejected(this.counters, 503);
    this.send(peer, serialize(overloadedResponse(req, this.limits.retryAfterSec)));
  }

  private statelessReply(req: SipRequest, peer: Peer, status: number): void {
    countRejected(this.counters, status);
    const txn = new ServerTransaction('', this.txnHost, this.responsePeer(req, peer), req);
    this.send(txn.peer, serialize(this.buildResponse(txn, status)));
  }

  /** A response the engine generates itself: dialog headers from the request, To tag fixed per transaction. */
  private buildResponse(txn: ServerTransaction, status: number, reason = REASONS[status] ?? 'Unknown'): SipResponse {
    const req = txn.request;
    const headers: Header[] = req.headers.filter((h) => h.key === 'via');
    let to = getHeader(req, 'to') ?? '';
    if (status > 100 && !tagOf(to)) {
      txn.toTag ??= randomTag();
      to += `;tag=${txn.toTag}`;
    }
    headers.push(
      { key: 'from', value: getHeader(req, 'from') ?? '' },
      { key: 'to', value: to },
      { key: 'call-id', value: getHeader(req, 'call-id') ?? '' },
      { key: 'cseq', value: getHeader(req, 'cseq') ?? '' },
    );
    return { kind: 'response', status, reason, headers, body: Buffer.alloc(0) };
  }

  private newClient(req: SipRequest, peer: Peer, app?: AppConnection, dialog?: Dialog): ClientEntry {
    const branch = /;\s*branch=([^;,\s]+)/i.exec(getHeaders(req, 'via')[0] ?? '')?.[1] ?? '';
    const key = clientKey(branch, req.method);
    const entry: ClientEntry = {} as ClientEntry;
    entry.txn = new ClientTransaction(key, this.txnHost, peer, req, {
      response: (res) => this.clientResponse(entry, res),
      timeout: () => this.clientTimeout(entry),
    });
    if (app) entry.app = app;
    if (dialog) entry.dialog = dialog;
    this.clientByKey.set(key, entry);
    this.clientById.set(entry.txn.id, entry);
    entry.txn.whenFinal(() => {
      entry.app = undefined;
      entry.dialog = undefined;
      entry.pendingCancel = undefined;
    });
    entry.txn.whenTerminated(() => {
      if (this.clientByKey.get(key) === entry) this.clientByKey.delete(key);
      this.clientById.delete(entry.txn.id);
    });
    return entry;
  }

  private clientResponse(entry: ClientEntry, res: SipResponse): void {
    const req = entry.txn.request;
    if (res.status < 200 && entry.pendingCancel) {
      const fire = entry.pendingCancel;
      entry.pendingCancel = undefined;
      fire();
    }
    if (res.status >= 200) entry.pendingCancel = undefined;
    // 200 to CANCEL is not passed up, as with drachtio-server (sofia swallows it).
    if (req.method === 'CANCEL' || !entry.app) return;
    let dlgId = entry.dialog?.id ?? '';
    const toTag = tagOf(getHeader(res, 'to'));
    const callId = getHeader(req, 'call-id') ?? '';
    const fromTag = tagOf(getHeader(req, 'from')) ?? '';
    if (req.method === 'INVITE' && !entry.dialog && toTag) dlgId = dialogId(callId, fromTag);
    if (req.method === 'INVITE' && res.status >= 200 && res.status < 300 && toTag) {
      const contact = contactUri(res);
      const seq = parseCSeq(getHeader(req, 'cseq') ?? '')?.seq ?? 1;
      if (entry.dialog) {
        if (contact) entry.dialog.remoteTarget = contact; // target refresh (§12.2.1.2)
        entry.dialog.inviteSeq = seq;
      } else if (!this.dialogs.get(dlgId)) {
        this.dialogs.add({
          id: dlgId, role: 'uac', callId, localTag: fromTag, remoteTag: toTag,
          local: getHeader(req, 'from') ?? '', remote: getHeader(res, 'to') ?? '',
          localSeq: seq, remoteSeq: 0, remoteTarget: contact ?? req.uri,
          routeSet: getHeaders(res, 'record-route').reverse(), peer: entry.txn.peer, app: entry.app, inviteSeq: seq,
        });
      }
    }
    const raw = messageText(res);
    entry.app.send(sipMessage(this.meta('network', raw.bytes, entry.txn.peer), entry.txn.id, dlgId, raw.text));
  }

  private clientTimeout(entry: ClientEntry): void {
    this.counters.transactionTimeouts++;
    const req = entry.txn.request;
    if (!entry.app || req.method === 'CANCEL') return;
    // The app learns about the timeout the way sofia reports it: a locally generated 408.
    const headers: Header[] = [getHeaders(req, 'via')[0] ?? '', getHeader(req, 'from'), getHeader(req, 'to'), getHeader(req, 'call-id'), getHeader(req, 'cseq')]
      .map((value, i) => ({ key: ['via', 'from', 'to', 'call-id', 'cseq'][i] ?? '', value: value ?? '' }));
    const raw = messageText({ kind: 'response', status: 408, reason: 'Request Timeout', headers, body: Buffer.alloc(0) });
    entry.app.send(sipMessage(this.meta('network', raw.bytes, entry.txn.peer), entry.txn.id, entry.dialog?.id ?? '', raw.text));
  }

  // ───────────────────────────── dialogs ─────────────────────────────

  /** UAS 2xx: retransmit on UDP until the ACK (§13.3.1.4); no ACK within 64·T1 ends the call with BYE. */
  private await2xxAck(d: Dialog, buf: Buffer): void {
    const { t1, t2 } = this.txnHost.timers;
    const pending = { buf, timers: [] as ReturnType<typeof setTimeout>[] };
    d.pending2xx = pending;
    const retransmit = (interval: number) => {
      pending.timers.push(setTimeout(() => {
        if (d.pending2xx !== pending) return;
        this.send(d.peer, buf);
        retransmit(Math.min(interval * 2, t2));
      }, interval));
    };
    if (d.peer.protocol === 'udp') retransmit(t1);
    pending.timers.push(setTimeout(() => {
      if (d.pending2xx === pending) this.ackTimeout(d);
    }, 64 * t1));
  }

  private ackTimeout(d: Dialog): void {
    this.counters.ackTimeouts++;
    this.log.info({ dialog: d.id }, 'no ACK for 2xx, sending BYE');
    this.dialogs.remove(d);
    const bye = this.inDialogRequest(d, 'BYE', [{ key: 'reason', value: 'SIP ;cause=200 ;text="ACK timeout"' }], Buffer.alloc(0));
    void this.dialogPeer(d).then((peer) => {
      if (!peer) return;
      this.newClient(bye, peer).txn.start();
      // As drachtio-server does, the app hears of the BYE as if it were an unsolicited request.
      const raw = messageText(bye);
      d.app.send(sipMessage(this.meta('application', raw.bytes, peer), 'unsolicited', d.id, raw.text));
    });
  }

  private inDialogRequest(d: Dialog, method: string, extra: Header[], body: Buffer, seq?: number): SipRequest {
    const cseq = seq ?? ++d.localSeq;
    const headers: Header[] = [
      { key: 'via', value: this.via(d.peer.protocol) },
      { key: 'max-forwards', value: '70' },
      ...d.routeSet.map((value) => ({ key: 'route', value })),
      { key: 'from', value: d.local },
      { key: 'to', value: d.remote },
      { key: 'call-id', value: d.callId },
      { key: 'cseq', value: `${cseq} ${method}` },
      ...extra,
    ];
    return { kind: 'request', method, uri: d.remoteTarget, headers, body };
  }

  /** Next hop for an in-dialog request: the open TCP connection if any, else route set / remote target. */
  private async dialogPeer(d: Dialog): Promise<Peer | undefined> {
    if (d.peer.protocol === 'tcp' && d.peer.conn && !d.peer.conn.destroyed) return d.peer;
    const first = d.routeSet[0];
    const target = first ? parseNameAddr(first)?.uri ?? d.remoteTarget : d.remoteTarget;
    return resolve(target, d.peer.protocol);
  }

  private appGone(app: AppConnection): void {
    for (const e of [...this.serverById.values()]) {
      if (e.app === app && e.txn.lastStatus < 200 && !e.txn.terminated) e.txn.respond(this.buildResponse(e.txn, 503));
    }
    for (const d of this.dialogs.all()) if (d.app === app) this.dialogs.remove(d);
  }

  // ───────────────────────────── app → engine ─────────────────────────────

  private fromApp(app: AppConnection, msg: WireMessage): void {
    const fail = (reason: string) => app.send(response(msg.msgId, false, [reason]));
    if (msg.type === 'proxy') return fail('proxy is not supported by the built-in engine');
    const txnId = msg.tokens[0] ?? '';
    const dlgId = msg.tokens[1] ?? '';
    let m: SipMessage;
    try {
      m = parseMessage(Buffer.from(msg.sip ?? '', 'utf8'), { fromApp: true });
    } catch (err) {
      const partial = err instanceof SipParseError ? err.partial : undefined;
      if (!partial) return fail(`invalid SIP message: ${(err as Error).message}`);
      m = partial;
    }
    if (m.kind === 'response') return this.appResponse(app, msg.msgId, txnId, m);
    if (dlgId) {
      void this.appInDialog(app, msg.msgId, dlgId, m).catch((err) => fail(String(err)));
      return;
    }
    if (txnId) {
      if (m.method === 'CANCEL') return this.appCancel(app, msg.msgId, txnId, m);
      return fail('only CANCEL may be sent inside a transaction');
    }
    void this.appNewRequest(app, msg.msgId, m).catch((err) => fail(String(err)));
  }

  private appResponse(app: AppConnection, msgId: string, txnId: string, m: SipResponse): void {
    const entry = this.serverById.get(txnId);
    if (!entry || entry.txn.terminated) {
      return app.send(response(msgId, false, [/CANCEL/i.test(getHeader(m, 'cseq') ?? '')
        ? '200 OK to incoming CANCEL is automatically generated by the stack'
        : 'Response not sent due to unknown transaction']));
    }
    const txn = entry.txn;
    if (txn.lastStatus >= 200) return app.send(response(msgId, false, ['final response already sent']));
    const req = txn.request;
    // A final response releases the entry's dialog (see newServer); read it first.
    const dialog = entry.dialog;
    const appTag = tagOf(getHeader(m, 'to'));
    if (appTag && !tagOf(getHeader(req, 'to'))) txn.toTag ??= appTag;
    const res = this.buildResponse(txn, m.status, m.reason || REASONS[m.status]);
    res.body = m.body;
    const dialogForming = (req.method === 'INVITE' || req.method === 'SUBSCRIBE') && m.status > 100 && m.status < 300;
    if (dialogForming && !dialog) res.headers.push(...req.headers.filter((h) => h.key === 'record-route'));
    let hasContact = false;
    for (const h of m.headers) {
      if (ENGINE_OWNED.has(h.key)) continue;
      if (h.key === 'contact') hasContact = true;
      res.headers.push({ key: h.key, value: this.localize(h.value, h.key === 'contact' ? txn.peer.protocol : undefined) });
    }
    if (dialogForming && !hasContact) res.headers.push({ key: 'contact', value: this.contact(txn.peer.protocol) });
    const buf = txn.respond(res);

    let dlgId = dialog?.id ?? '';
    const callId = getHeader(req, 'call-id') ?? '';
    const fromTag = tagOf(getHeader(req, 'from')) ?? '';
    if (!dialog && dialogForming) dlgId = dialogId(callId, fromTag);
    if (req.method === 'INVITE' && m.status >= 200 && m.status < 300) {
      let d = dialog;
      const seq = parseCSeq(getHeader(req, 'cseq') ?? '')?.seq ?? 1;
      if (d) {
        const contact = contactUri(req);
        if (contact) d.remoteTarget = contact;
        d.inviteSeq = seq;
      } else {
        d = {
          id: dlgId, role: 'uas', callId, localTag: txn.toTag ?? '', remoteTag: fromTag,
          local: getHeader(res, 'to') ?? '', remote: getHeader(req, 'from') ?? '',
          localSeq: 1 + Math.floor(Math.random() * 10_000), remoteSeq: seq, remoteTarget: contactUri(req) ?? req.uri,
          routeSet: getHeaders(req, 'record-route'), peer: txn.peer, app, inviteSeq: seq,
        };
        this.dialogs.add(d);
      }
      this.await2xxAck(d, buf);
    }
    app.send(sentOk(msgId, this.meta('application', buf.length, txn.peer), txnId, dlgId, buf.toString('utf8')));
  }

  private async appInDialog(app: AppConnection, msgId: string, dlgId: string, m: SipRequest): Promise<void> {
    const d = this.dialogs.get(dlgId);
    if (!d) return app.send(response(msgId, false, ['unable to find dialog for dialog id ' + dlgId]));
    const extra = this.appHeaders(m, d.peer.protocol);
    if (m.method === 'INVITE' && !extra.some((h) => h.key === 'contact')) extra.push({ key: 'contact', value: this.contact(d.peer.protocol) });
    const isAck = m.method === 'ACK';
    const req = this.inDialogRequest(d, m.method, extra, m.body, isAck ? d.inviteSeq : undefined);
    if (m.method === 'BYE') this.dialogs.remove(d);
    const peer = await this.dialogPeer(d);
    if (!peer) return app.send(response(msgId, false, ['unable to resolve next hop']));
    if (isAck) {
      const buf = serialize(req);
      d.lastAck = { seq: d.inviteSeq, buf };
      this.send(peer, buf);
      app.send(sentOk(msgId, this.meta('application', buf.length, peer), randomUUID(), undefined, buf.toString('utf8')));
      return;
    }
    const entry = this.newClient(req, peer, app, d);
    const buf = entry.txn.start();
    app.send(sentOk(msgId, this.meta('application', buf.length, peer), entry.txn.id, undefined, buf.toString('utf8')));
  }

  private appCancel(app: AppConnection, msgId: string, txnId: string, m: SipRequest): void {
    const inv = this.clientById.get(txnId);
    if (!inv || inv.txn.method !== 'INVITE' || inv.txn.finalStatus || inv.txn.terminated) {
      return app.send(response(msgId, false, ['unknown transaction id or final response already received']));
    }
    const req = inv.txn.request;
    const cseq = parseCSeq(getHeader(req, 'cseq') ?? '');
    // §9.1: same Request-URI, Call-ID, From, To, top Via (branch) and Route as the INVITE.
    const cancel: SipRequest = {
      kind: 'request', method: 'CANCEL', uri: req.uri, body: Buffer.alloc(0),
      headers: [
        { key: 'via', value: getHeaders(req, 'via')[0] ?? '' },
        { key: 'max-forwards', value: '70' },
        ...req.headers.filter((h) => h.key === 'route'),
        { key: 'from', value: getHeader(req, 'from') ?? '' },
        { key: 'to', value: getHeader(req, 'to') ?? '' },
        { key: 'call-id', value: getHeader(req, 'call-id') ?? '' },
        { key: 'cseq', value: `${cseq?.seq ?? 1} CANCEL` },
        ...m.headers.filter((h) => h.key === 'reason'),
      ],
    };
    const fire = () => { if (!inv.txn.finalStatus) this.newClient(cancel, inv.txn.peer).txn.start(); };
    if (inv.txn.state === 'calling') inv.pendingCancel = fire;
    else fire();
    const raw = messageText(cancel);
    app.send(sentOk(msgId, this.meta('application', raw.bytes, inv.txn.peer), randomUUID(), undefined, raw.text));
  }

  private async appNewRequest(app: AppConnection, msgId: string, m: SipRequest): Promise<void> {
    const routes = getHeaders(m, 'route');
    const firstRoute = routes[0];
    const next = firstRoute ? parseNameAddr(firstRoute)?.uri : m.uri;
    const peer = next ? await resolve(next, 'udp') : undefined;
    if (!peer) return app.send(response(msgId, false, [`unable to resolve destination ${next ?? m.uri}`]));
    const proto = peer.protocol;
    let from = this.localize(getHeader(m, 'from') ?? `<sip:anonymous@${this.hostport()}>`);
    if (!tagOf(from)) from += `;tag=${randomTag()}`;
    const to = this.localize(getHeader(m, 'to') ?? `<${m.uri}>`);
    const cseqIn = parseCSeq(getHeader(m, 'cseq') ?? '');
    const extra = this.appHeaders(m, proto);
    if (NEEDS_CONTACT.has(m.method) && !extra.some((h) => h.key === 'contact')) extra.push({ key: 'contact', value: this.contact(proto) });
    const req: SipRequest = {
      kind: 'request', method: m.method, uri: m.uri, body: m.body,
      headers: [
        { key: 'via', value: this.via(proto) },
        { key: 'max-forwards', value: /^\d{1,3}$/.test(getHeader(m, 'max-forwards') ?? '') ? getHeader(m, 'max-forwards') ?? '70' : '70' },
        ...routes.map((value) => ({ key: 'route', value })),
        { key: 'from', value: from },
        { key: 'to', value: to },
        { key: 'call-id', value: getHeader(m, 'call-id') ?? `${randomUUID()}@${this.advertised}` },
        { key: 'cseq', value: `${cseqIn?.seq ?? 1} ${m.method}` },
        ...extra,
      ],
    };
    const entry = this.newClient(req, peer, app);
    const buf = entry.txn.start();
    app.send(sentOk(msgId, this.meta('application', buf.length, peer), entry.txn.id, undefined, buf.toString('utf8')));
  }

  /** App headers minus the ones the engine owns, with `@localhost` made real. */
  private appHeaders(m: SipMessage, proto: Protocol): Header[] {
    return m.headers.filter((h) => !ENGINE_OWNED.has(h.key)).map((h) => ({ key: h.key, value: this.localize(h.value, h.key === 'contact' ? proto : undefined) }));
  }

  // ───────────────────────────── helpers ─────────────────────────────

  private hostport(): string {
    const host = net.isIPv6(this.advertised) ? `[${this.advertised}]` : this.advertised;
    return `${host}:${this.transport.port}`;
  }

  private via(proto: Protocol): string {
    return `SIP/2.0/${proto.toUpperCase()} ${this.hostport()};rport;branch=${newBranch()}`;
  }

  private contact(proto: Protocol): string {
    return `<sip:${this.hostport()}${proto === 'tcp' ? ';transport=tcp' : ''}>`;
  }

  /** drachtio-srf writes `user@localhost` when it does not know the server's address. */
  private localize(value: string, contactProto?: Protocol): string {
    if (!value.includes('@localhost')) return value;
    const tp = contactProto === 'tcp' ? ';transport=tcp' : '';
    return value.replace(/@localhost(?::\d+)?(?=[>;?\s]|$)/g, `@${this.hostport()}${tp}`);
  }

  private meta(source: SipMeta['source'], bytes: number, peer: Peer): SipMeta {
    return { source, bytes, protocol: peer.protocol, address: peer.address, port: peer.port };
  }
}

function answerable(req: SipRequest): boolean {
  return ['from', 'to', 'call-id', 'cseq'].every((k) => !!getHeader(req, k)) && !!parseVia(getHeaders(req, 'via')[0] ?? '');
}

function contactUri(msg: SipMessage): string | undefined {
  const c = getHeaders(msg, 'contact')[0];
  return c ? parseNameAddr(c)?.uri : undefined;
}

/** Turns a SIP URI into a transport address (IP literal, or a DNS A/AAAA lookup; no NAPTR/SRV). */
async function resolve(uri: string, fallback: Protocol): Promise<Peer | undefined> {
  const u = parseUri(uri);
  if (!u) return undefined;
  const tp = u.params.get('transport')?.toLowerCase();
  const protocol: Protocol = tp === 'tcp' ? 'tcp' : tp === 'udp' ? 'udp' : fallback;
  const host = u.host.replace(/^\[|\]$/g, '');
  const port = u.port ?? 5060;
  if (net.isIP(host)) return { protocol, address: host, port };
  try {
    const { address } = await dns.lookup(host);
    return { protocol, address, port };
  } catch {
    return undefined;
  }
}

function advertisedAddress(bind: string): string {
  if (bind !== '0.0.0.0' && bind !== '::') return bind;
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
