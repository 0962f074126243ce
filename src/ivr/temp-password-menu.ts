// The 仮パスワード設定 menus (patterns A and B) on an IVR call: the caller check of caller-check.ts
// for the access number dialled, and flow A or B with the real actors.
import type pg from 'pg';
import { createActor, toPromise } from 'xstate';
import { tempPasswordA } from '../../flows/temp-password-a.ts';
import { tempPasswordB } from '../../flows/temp-password-b.ts';
import type { FlowOutcome } from '../../flows/temp-password-common.ts';
import type { Config } from '../config.ts';
import type { MediaSession } from '../media/port.ts';
import { decide, type AccessNumber, type Decision } from './caller-check.ts';
import { flowActors } from './flow-actors.ts';
import { flowOptionsFromConfig } from './flow-options.ts';
import type { IvrMenu } from './menu.ts';

export function tempPasswordMenu(access: AccessNumber, pool: pg.Pool, config: Config): IvrMenu {
  return {
    pattern: access.pattern,
    decide(facts, contract) {
      const d = decide({ ...facts, access }, contract);
      if (d.action !== 'run') return d;
      return {
        action: 'run',
        run: async (session) => {
          const out = await runFlow(d, session, pool, config);
          return { ...out, ...(out.unit ?? out.service ? { unit: out.unit ?? out.service } : {}) };
        },
      };
    },
  };
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
