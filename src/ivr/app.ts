// The IVR on the wire: an INVITE to an access number — 仮パスワード設定 (ivr.accessNumbers) or the
// ボイスワープ phone menu (voiceWarp.accessNumber) — becomes an IvrCall (call.ts) with that number's
// menu, run under the injected call tracker, which bounds how many run at once and drains them at
// shutdown.
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
import type { IvrMenu } from './menu.ts';
import { tempPasswordMenu } from './temp-password-menu.ts';
import { voiceWarpMenu } from './voice-warp-menu.ts';

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

/** The digits of a Request-URI's user part (a service code such as 142 is no national number). */
function dialledDigits(uri: string): string {
  const user = uri.trim().replace(/^<|>$/g, '').replace(/^(?:sips?|tel):/i, '').split(/[@;?]/)[0] ?? '';
  return user.replace(/[-.() ]/g, '');
}

export function createIvrApp(deps: IvrDeps): IvrApp {
  const { config } = deps;
  const voiceWarp = voiceWarpMenu(deps.pool, config);
  /** The menu the dialled number offers, or undefined when it is no access number. */
  function menuFor(uri: string): { dialled: string; menu: IvrMenu } | undefined {
    const national = nationalNumberOf(uri);
    const access = national ? accessNumberOf(national, config.ivr.accessNumbers) : null;
    if (access && national) return { dialled: national, menu: tempPasswordMenu(access, deps.pool, config) };
    const digits = dialledDigits(uri);
    if (digits === config.voiceWarp.accessNumber) return { dialled: digits, menu: voiceWarp };
    return undefined;
  }
  return {
    handleInvite(req, res) {
      const found = menuFor(req.uri);
      if (!found) return false;
      if (!deps.calls.hasRoom()) {
        res.send(503, { headers: { 'Retry-After': '5' } });
        return true;
      }
      const call = new IvrCall(deps, req, res, found.dialled, found.menu);
      deps.calls.run(call, () => call.run());
      return true;
    },
  };
}
