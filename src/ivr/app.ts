// 仮パスワード設定 on the wire: an INVITE to an access number is checked (caller ID, audio),
// answered with the built-in or FreeSWITCH media, and handed to the pure flow for its
// pattern. Every call leaves an ivr_call record, whatever happens.
import type pg from 'pg';
import type Srf from 'drachtio-srf';
import { createActor, toPromise } from 'xstate';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { tempPasswordA } from '../../flows/temp-password-a.ts';
import { tempPasswordB } from '../../flows/temp-password-b.ts';
import type { FlowOutcome } from '../../flows/temp-password-common.ts';
import { flowOptionsFromConfig } from './flow-options.ts';
import { HangupError, UnsupportedMediaError, type MediaServer, type MediaSession } from '../media/port.ts';
import { parseInfoDtmf } from '../media/info-dtmf.ts';
import { PortsExhaustedError } from '../media/port-pool.ts';
import { findContractOfCaller } from '../store/subscribers.ts';
import { insertIvrCall, type IvrCallRecord } from '../store/ivr-calls.ts';
import { accessNumberOf, callerNumberOf, decide, normaliseNumber, offersAudio, type AccessNumber, type Decision } from './caller-check.ts';
import { flowActors } from './flow-actors.ts';

export interface IvrDeps {
  srf: Srf;
  pool: pg.Pool;
  media: MediaServer;
  config: Config;
  logger: Logger;
}

export interface IvrApp {
  /** Handles the INVITE if its Request-URI is an access number; false otherwise. */
  handleInvite(req: Srf.SrfRequest, res: Srf.SrfResponse): boolean;
  /** Calls in progress (for graceful shutdown and metrics). */
  activeCalls(): number;
  /**
   * Wait up to graceMs for calls in progress to end by themselves, then hang up on the rest
   * (recorded as cut_off). A flow is bounded by its timeouts, but a shutdown must not wait minutes.
   */
  drain(graceMs?: number): Promise<void>;
}

export function createIvrApp(deps: IvrDeps): IvrApp {
  const { config, logger } = deps;
  const active = new Set<Promise<void>>();
  const stopping = new AbortController();

  return {
    handleInvite(req, res) {
      const dialled = normaliseNumber(req.uri);
      const access = dialled ? accessNumberOf(dialled, config.ivr.accessNumbers) : null;
      if (!access || !dialled) return false;
      const call = runCall(deps, req, res, dialled, access, stopping.signal).catch((err) =>
        logger.error({ callId: req.get('Call-ID'), err: (err as Error).message }, 'ivr call failed'),
      );
      active.add(call);
      void call.finally(() => active.delete(call));
      return true;
    },
    activeCalls: () => active.size,
    async drain(graceMs = 30_000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(active), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      if (active.size) {
        logger.warn({ calls: active.size }, 'hanging up IVR calls still in progress');
        stopping.abort();
      }
      await Promise.all(active);
    },
  };
}

async function runCall(
  deps: IvrDeps,
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  dialled: string,
  access: AccessNumber,
  stopping: AbortSignal,
): Promise<void> {
  const { srf, pool, media, config, logger } = deps;
  const callId = req.get('Call-ID');
  const startedAt = new Date();
  const log = logger.child({ callId, accessNumber: dialled });
  const record: IvrCallRecord = {
    callId, accessNumber: dialled, caller: null, pattern: access.pattern, unit: null, target: null,
    outcome: 'rejected', reason: null, startedAt, endedAt: startedAt,
  };
  let session: MediaSession | undefined;
  let dialog: Srf.Dialog | undefined;
  let callerGone = false;
  let cutOff: (() => void) | undefined;
  try {
    const caller = callerNumberOf(
      {
        sourceAddress: req.source_address,
        from: req.get('From'),
        pAssertedIdentity: req.has('P-Asserted-Identity') ? req.get('P-Asserted-Identity') : null,
        privacy: req.has('Privacy') ? req.get('Privacy') : null,
      },
      config.sip.trustedPeers,
    );
    if (caller.kind === 'number') record.caller = caller.number;
    const contract = caller.kind === 'number' ? ((await findContractOfCaller(pool, caller.number)) ?? null) : null;
    const decision = decide({ hasAudio: offersAudio(req.body ?? ''), caller, access }, contract);
    log.info({ action: decision.action, reason: 'reason' in decision ? decision.reason : undefined }, 'ivr call');

    if (decision.action === 'reject') {
      record.reason = decision.reason;
      // RFC 3261 warn-code 304: media type not available.
      res.send(488, { headers: { Warning: '304 chakushin "no audio stream: data calls are not served"' } });
      return;
    }
    try {
      session = await media.open(req.body, { callId });
    } catch (err) {
      if (err instanceof PortsExhaustedError) {
        // Overload, not the caller's fault: the softswitch may try another server.
        record.reason = 'no_media_port';
        res.send(503, { headers: { 'Retry-After': '5' } });
        return;
      }
      if (!(err instanceof UnsupportedMediaError)) throw err;
      record.reason = 'unsupported_media';
      res.send(488, { headers: { Warning: err.warning } });
      return;
    }
    const answered = session;
    // Service shutdown after the grace: ends play/collect at once, like a hangup.
    cutOff = () => void answered.close();
    stopping.addEventListener('abort', cutOff, { once: true });
    dialog = await srf.createUAS(req, res, { localSdp: answered.localSdp });
    dialog.on('destroy', () => {
      callerGone = true;
      void answered.close();
    });
    dialog.on('info', (info: Srf.SrfRequest, infoRes: Srf.SrfResponse) => {
      const digit = parseInfoDtmf(info.get('Content-Type'), info.body ?? '');
      infoRes.send(digit === undefined ? 415 : 200);
      if (digit !== undefined) answered.injectDigit(digit);
    });

    if (decision.action === 'announce') {
      record.outcome = 'rejected';
      record.reason = decision.reason;
      await answered.play([{ prompt: decision.prompt }]);
      return;
    }
    const outcome = await runFlow(decision, answered, pool, config);
    record.outcome = outcome.outcome;
    record.unit = outcome.unit ?? outcome.service ?? null;
    record.target = outcome.target ?? null;
    record.reason = outcome.failedStep ?? null;
  } catch (err) {
    if (err instanceof HangupError || callerGone) {
      record.outcome = 'caller_hung_up';
    } else {
      record.outcome = 'rejected';
      record.reason = 'internal_error';
      log.error({ err: (err as Error).message }, 'ivr call error');
      if (!dialog && !res.finalResponseSent) res.send(500);
    }
  } finally {
    // The signal is shared by every call: a finished call must not stay registered on it.
    if (cutOff) stopping.removeEventListener('abort', cutOff);
    if (stopping.aborted && !callerGone && record.outcome !== 'completed') {
      record.outcome = 'cut_off';
      record.reason = 'service_stopping';
    }
    if (dialog && !callerGone) {
      // Without a callback drachtio-srf returns a promise; a BYE that crosses the caller's must not go unhandled.
      await (dialog.destroy() as unknown as Promise<void>).catch((err: Error) => log.debug({ err: err.message }, 'BYE not sent'));
    }
    await session?.close();
    record.endedAt = new Date();
    log.info({ outcome: record.outcome, reason: record.reason, unit: record.unit }, 'ivr call ended');
    await insertIvrCall(pool, record).catch((err) => log.error({ err: (err as Error).message }, 'ivr call record not written'));
  }
}

function runFlow(decision: Extract<Decision, { action: 'run' }>, session: MediaSession, pool: pg.Pool, config: Config): Promise<FlowOutcome> {
  const actors = flowActors(session, pool, config.ivr.tempPasswordTtlHours);
  const options = flowOptionsFromConfig(config.ivr);
  const actor =
    decision.pattern === 'A'
      ? createActor(tempPasswordA.provide({ actors }), {
          input: { caller: { number: decision.caller.number, role: decision.caller.role }, contract: decision.contract, options },
        })
      : createActor(tempPasswordB.provide({ actors }), { input: { caller: decision.caller, contract: decision.contract, options } });
  // toPromise subscribes to errors too, so a failing actor rejects here instead of going unhandled.
  const done = toPromise(actor);
  actor.start();
  return done;
}
