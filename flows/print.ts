// Prints a flow's state chart as a snippet to paste into the xstate visualiser
// (https://stately.ai/viz): `npx tsx flows/print.ts a` (or b, or warp). Guards, actions and actors
// keep their names; their code and the dynamic inputs are left out.
import { tempPasswordA } from './temp-password-a.ts';
import { tempPasswordB } from './temp-password-b.ts';
import { voiceWarpFlow } from './voice-warp.ts';

const machines = { a: tempPasswordA, b: tempPasswordB, warp: voiceWarpFlow };
const which = process.argv[2]?.toLowerCase();

if (which !== 'a' && which !== 'b' && which !== 'warp') {
  console.error('usage: npx tsx flows/print.ts a|b|warp');
  process.exit(2);
}
const config = JSON.stringify(machines[which].config, null, 2);
console.log(`import { createMachine } from 'xstate';\n\nexport const machine = createMachine(${config});`);
