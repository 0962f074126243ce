// 仮パスワード設定 on the wire: an INVITE to an access number becomes an IvrCall (call.ts), run
// under the injected call tracker, which bounds how many run at once and drains them at shutdown.
import type pg from 'pg';
import type Srf from 'drachtio-srf';
import type { CallTracker } from '../call-tracker.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { nationalNumberOf } from '../domain/caller-id.ts';
import type { TrustedPeerMatcher } from '../domain/trusted-peers.ts';
import type { MediaServer } from '../media/port.ts';
import { accessNumberOf } from './caller-check.ts';
import { IvrCall } from './call.ts';

export interface IvrDeps {
  srf: Srf;
  pool: pg.Pool;
  media: MediaServer;
  config: Config;
  logger: Logger;
  /** Calls in progress: capacity (ivr.maxCalls), activeCalls(), drain(). */
  calls: CallTracker;
  isTrustedPeer: TrustedPeerMatcher;
}

export interface IvrApp {
  /** Handles the INVITE if its Request-URI is an access number; false otherwise. */
  handleInvite(req: Srf.SrfRequest, res: Srf.SrfResponse): boolean;
}

export function createIvrApp(deps: IvrDeps): IvrApp {
  const { config } = deps;
  return {
    handleInvite(req, res) {
      const dialled = nationalNumberOf(req.uri);
      const access = dialled ? accessNumberOf(dialled, config.ivr.accessNumbers) : null;
      if (!access || !dialled) return false;
      if (!deps.calls.hasRoom()) {
        res.send(503, { headers: { 'Retry-After': '5' } });
        return true;
      }
      const call = new IvrCall(deps, req, res, dialled, access);
      deps.calls.run(call, () => call.run());
      return true;
    },
  };
}
