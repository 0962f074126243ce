// One request handler on the drachtio-srf connection. Admission first: a request outside a dialog
// from an address that is not a configured trunk peer gets 403 and goes no further (the carrier's
// calls reach this service only through its softswitch). Then each INVITE is offered to each app in
// turn — the IVR (access numbers), then the 着信お知らせメール B2BUA (subscribed numbers); a call
// nobody takes gets 404. While the node drains (stopping) every new call gets 503 and so does OPTIONS,
// the dispatcher's probe in front of the nodes, from the same moment: it stops choosing this node while
// the calls it has finish. Requests inside a dialog never
// come here: drachtio-srf hands them to their dialog, and the dialog's peer is the one it was made with.
// Done in the app rather than in the SIP engine, so it holds the same with a real drachtio-server.
import type Srf from 'drachtio-srf';
import { Counter, type Registry } from 'prom-client';
import type { TrustedPeerMatcher } from './domain/trusted-peers.ts';
import type { Logger } from './logger.ts';

/** Takes the call (and answers it) and returns true, or returns false having sent nothing. */
export type InviteHandler = (req: Srf.SrfRequest, res: Srf.SrfResponse) => boolean | Promise<boolean>;

export interface Admission {
  isTrustedPeer: TrustedPeerMatcher;
  /** sip.admitUntrustedSources: let every source in (testing only). */
  admitUntrustedSources: boolean;
}

export interface DispatchOptions {
  logger: Logger;
  accepting?: () => boolean;
  /** Without it every source is let in (apps driven alone, as in the notify tests and benchmarks). */
  admission?: Admission;
  registry?: Registry;
}

const ALLOW = 'INVITE, ACK, CANCEL, BYE, INFO, OPTIONS';
/** Methods that may arrive outside a dialog and that the service does not serve: answered here, after admission. */
const OTHER_METHODS = ['options', 'register', 'subscribe', 'notify', 'message', 'publish', 'refer', 'info', 'update', 'bye'] as const;

export function dispatchInvites(srf: Srf, handlers: InviteHandler[], opts: DispatchOptions): void {
  const { admission } = opts;
  const refused = opts.registry
    ? new Counter({
        name: 'chakushin_sip_requests_refused_total',
        help: 'SIP requests outside a dialog refused with 403: the source is not a trusted trunk peer',
        labelNames: ['method'],
        registers: [opts.registry],
      })
    : undefined;
  const log = opts.logger.child({ part: 'sip-dispatch' });

  /** Answers 403 and returns false when the source may not come in. */
  function admitted(req: Srf.SrfRequest, res: Srf.SrfResponse): boolean {
    if (!admission || admission.admitUntrustedSources || admission.isTrustedPeer(req.source_address)) return true;
    refused?.inc({ method: req.method });
    log.debug({ callId: req.get('Call-ID'), method: req.method, source: req.source_address }, 'refused: not a trusted trunk peer');
    res.send(403);
    return false;
  }

  srf.invite(async (req: Srf.SrfRequest, res: Srf.SrfResponse) => {
    if (!admitted(req, res)) return;
    // Shutting down: let the softswitch route the call elsewhere.
    if (opts.accepting && !opts.accepting()) return res.send(503, { headers: { 'Retry-After': '5' } });
    try {
      for (const handle of handlers) if (await handle(req, res)) return;
      res.send(404);
    } catch (err) {
      log.error({ callId: req.get('Call-ID'), err: (err as Error).message }, 'INVITE handling failed');
      if (!res.finalResponseSent) res.send(500);
    }
  });
  if (!admission) return;
  for (const method of OTHER_METHODS) {
    const route = (srf as unknown as Record<string, (h: (req: Srf.SrfRequest, res: Srf.SrfResponse) => void) => void>)[method]!;
    route.call(srf, (req, res) => {
      if (!admitted(req, res)) return;
      // OPTIONS is the trunk's keep-alive and the dispatcher's probe: 503 while draining, as INVITEs get.
      // The rest have no dialog to belong to, or are not served.
      if (method === 'options') {
        if (opts.accepting && !opts.accepting()) res.send(503, { headers: { 'Retry-After': '5' } });
        else res.send(200, { headers: { Allow: ALLOW } });
      }
      else if (method === 'bye' || method === 'info' || method === 'update') res.send(481);
      else res.send(405, { headers: { Allow: ALLOW } });
    });
  }
}
