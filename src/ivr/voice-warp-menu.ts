// The ボイスワープ phone menu on an IVR call: who may use it (the subscriber's own line, its caller ID
// asserted by a trunk peer, the number subscribing voice_warp), and the flow with its actors — the
// media questions of the temp-password flows and a save through the settings store, so a change by
// phone obeys the same rules, writes the same audit row and is in effect for the next call.
import type pg from 'pg';
import { createActor, fromPromise, toPromise } from 'xstate';
import { voiceWarpFlow, type SaveInput } from '../../flows/voice-warp.ts';
import type { Contract } from '../domain/subscriber.ts';
import type { Config } from '../config.ts';
import type { VoiceWarpSettings } from '../domain/voice-warp.ts';
import type { MediaSession } from '../media/port.ts';
import { readVoiceWarpSettings, saveVoiceWarpChange } from '../store/voice-warp-settings.ts';
import { callerRefusal } from './caller-check.ts';
import { flowActors } from './flow-actors.ts';
import { flowOptionsFromConfig } from './flow-options.ts';
import type { IvrMenu, MenuDecision, MenuFacts, MenuOutcome } from './menu.ts';

type Refusal = Exclude<MenuDecision, { action: 'run' }>;
const notInService = (reason: string): Refusal => ({ action: 'announce', prompt: 'not_in_service', reason });

/** Who may set ボイスワープ by phone: the caller's own number, and only a number with the service. */
export function decideVoiceWarp(facts: MenuFacts, contract: Contract | null): { action: 'run'; number: string } | Refusal {
  const refused = callerRefusal(facts, contract);
  if (refused || facts.caller.kind !== 'number' || !contract) return refused ?? notInService('not_a_contract_number');
  const number = facts.caller.number;
  // An 認証用番号 belongs to a contract without being one of its lines: it sets nothing.
  const own = contract.numbers.find((n) => n.number === number);
  if (!own) return notInService('not_a_contract_number');
  if (!own.services.includes('voice_warp')) return notInService('no_voice_warp');
  return { action: 'run', number };
}

export function voiceWarpMenu(pool: pg.Pool, config: Pick<Config, 'ivr' | 'voiceWarp'>): IvrMenu {
  const limits = config.voiceWarp;
  return {
    pattern: null,
    decide(facts, contract) {
      const d = decideVoiceWarp(facts, contract);
      if (d.action !== 'run') return d;
      return { action: 'run', run: (session) => runVoiceWarpFlow(d.number, session) };
    },
  };

  async function runVoiceWarpFlow(number: string, session: MediaSession): Promise<MenuOutcome> {
    const settings = await readVoiceWarpSettings(pool, number, limits.ringSecondsDefault);
    const { ask, say } = flowActors(session, pool, config.ivr.tempPasswordTtlHours);
    const save = fromPromise<VoiceWarpSettings, SaveInput>(({ input }) =>
      saveVoiceWarpChange(pool, input.number, input.change, { actor: 'ivr', at: new Date() }, limits));
    const actor = createActor(voiceWarpFlow.provide({ actors: { ask, say, save } }), { input: { number, settings, options: flowOptionsFromConfig(config.ivr) } });
    const done = toPromise(actor);
    actor.start();
    const out = await done;
    return { outcome: out.outcome, target: number, ...(out.action ? { unit: out.action } : {}), ...(out.failedStep ? { failedStep: out.failedStep } : {}) };
  }
}
