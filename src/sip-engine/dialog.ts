// Dialog state (RFC 3261 §12) as the engine keeps it on behalf of the app.
import type { AppConnection } from './app-link.ts';
import type { Peer } from './transport.ts';

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
  /** CSeq of the INVITE whose 2xx the dialog layer is retransmitting / waiting to be ACKed. */
  inviteSeq: number;
  /** UAS: the 2xx being retransmitted until ACK (§13.3.1.4). */
  pending2xx?: { buf: Buffer; timers: ReturnType<typeof setTimeout>[] };
  /** UAC: the ACK sent for the current 2xx, re-sent when the 2xx is retransmitted. */
  lastAck?: { seq: number; buf: Buffer };
}

export function dialogId(callId: string, fromTag: string): string {
  return `${callId};from-tag=${fromTag}`;
}

export function tagsKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}|${localTag}|${remoteTag}`;
}

export class DialogStore {
  private byId = new Map<string, Dialog>();
  private byTags = new Map<string, Dialog>();

  get size(): number {
    return this.byId.size;
  }

  add(d: Dialog): void {
    this.byId.set(d.id, d);
    this.byTags.set(tagsKey(d.callId, d.localTag, d.remoteTag), d);
  }

  get(id: string): Dialog | undefined {
    return this.byId.get(id);
  }

  find(callId: string, localTag: string, remoteTag: string): Dialog | undefined {
    return this.byTags.get(tagsKey(callId, localTag, remoteTag));
  }

  remove(d: Dialog): void {
    if (d.pending2xx) for (const t of d.pending2xx.timers) clearTimeout(t);
    d.pending2xx = undefined;
    if (this.byId.get(d.id) === d) this.byId.delete(d.id);
    const k = tagsKey(d.callId, d.localTag, d.remoteTag);
    if (this.byTags.get(k) === d) this.byTags.delete(k);
  }

  all(): Dialog[] {
    return [...this.byId.values()];
  }
}
