// One INVITE handler on the drachtio-srf connection, asking each app in turn whether the
// call is its own: the IVR (access numbers), then the 着信お知らせメール B2BUA (subscribed
// numbers). A call nobody takes gets 404; while shutting down every call gets 503.
import type Srf from 'drachtio-srf';
import type { Logger } from './logger.ts';

/** Takes the call (and answers it) and returns true, or returns false having sent nothing. */
export type InviteHandler = (req: Srf.SrfRequest, res: Srf.SrfResponse) => boolean | Promise<boolean>;

export function dispatchInvites(srf: Srf, handlers: InviteHandler[], opts: { logger: Logger; accepting?: () => boolean }): void {
  srf.invite(async (req: Srf.SrfRequest, res: Srf.SrfResponse) => {
    // Shutting down: let the softswitch route the call elsewhere.
    if (opts.accepting && !opts.accepting()) return res.send(503, { headers: { 'Retry-After': '5' } });
    try {
      for (const handle of handlers) if (await handle(req, res)) return;
      res.send(404);
    } catch (err) {
      opts.logger.error({ callId: req.get('Call-ID'), err: (err as Error).message }, 'INVITE handling failed');
      if (!res.finalResponseSent) res.send(500);
    }
  });
}
