import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createMachine, type AnyStateMachine, type AnyStateNode } from 'xstate';
import { parseConfig } from '../../src/config.ts';
import { flowOptionsFromConfig } from '../../src/ivr/flow-options.ts';
import { tempPasswordA } from '../../flows/temp-password-a.ts';
import { tempPasswordB } from '../../flows/temp-password-b.ts';
import { voiceWarpFlow } from '../../flows/voice-warp.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

/** Runs `npx tsx flows/print.ts <which>` as a person would. */
async function print(which: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'flows/print.ts', which], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The machine the printed snippet builds: its JSON, given to createMachine as the visualiser does. */
function machineOf(snippet: string): AnyStateMachine {
  const match = /createMachine\(([\s\S]*)\);\s*$/.exec(snippet);
  if (!match) throw new Error(`not a createMachine snippet:\n${snippet.slice(0, 200)}`);
  return createMachine(JSON.parse(match[1]!));
}

/** A guard's or action's name; an inline function has none (and would be lost in the JSON). */
const name = (x: unknown) => (typeof x === 'string' ? x : ((x as { type?: string } | undefined)?.type ?? '<inline>'));

/** Every state with its type and every transition (event, guard, targets, actions): what the chart shows. */
function chart(machine: AnyStateMachine): string[] {
  const lines: string[] = [];
  const visit = (node: AnyStateNode) => {
    lines.push(`${node.id} ${node.type}`);
    for (const [event, transitions] of node.transitions) {
      for (const t of transitions) {
        const targets = (t.target ?? []).map((n: AnyStateNode) => n.id).join(',');
        const actions = t.actions.map(name).join(',');
        lines.push(`${node.id} --${event}${t.guard ? ` [${name(t.guard)}]` : ''}--> ${targets} / ${actions}${t.reenter ? ' (reenter)' : ''}`);
      }
    }
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root);
  return lines;
}

describe('flows/print.ts (the visualiser snippet)', () => {
  it.each([
    ['a', tempPasswordA],
    ['b', tempPasswordB],
    ['warp', voiceWarpFlow],
  ] as const)('flow %s: the snippet builds the same chart, every guard and action named', async (which, machine) => {
    const { code, stdout } = await print(which);
    expect(code).toBe(0);
    expect(stdout.startsWith("import { createMachine } from 'xstate';")).toBe(true);
    const printed = chart(machineOf(stdout));
    expect(printed).toEqual(chart(machine));
    expect(chart(machine).join('\n')).not.toContain('<inline>');
    expect(printed.join('\n')).toContain({ a: '[choseAdminAsAdditional]', b: '[mayRestart]', warp: '[mayRetryRefusedDestination]' }[which]);
  });

  it('refuses anything but a, b or warp with its usage and exit status 2', async () => {
    const { code, stdout, stderr } = await print('c');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('usage: npx tsx flows/print.ts a|b|warp');
  });
});

describe('flowOptionsFromConfig', () => {
  it('takes timeouts, attempts, the trailing-# window and the required digit from ivr config', () => {
    const ivr = parseConfig({ ivr: { maxAttempts: 4, patternBRequiredDigit: '7', firstDigitTimeoutMs: 6000, trailingHashWindowMs: 900 } }).ivr;
    expect(flowOptionsFromConfig(ivr)).toEqual({
      firstDigitTimeoutMs: 6000, interDigitTimeoutMs: 3000, maxAttempts: 4, trailingHashWindowMs: 900, requiredDigit: '7',
    });
  });
});
