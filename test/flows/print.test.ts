import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { parseConfig } from '../../src/config.ts';
import { flowOptionsFromConfig } from '../../flows/temp-password-common.ts';
import { tempPasswordA } from '../../flows/temp-password-a.ts';
import { tempPasswordB } from '../../flows/temp-password-b.ts';

describe('visualiser export', () => {
  it.each([
    ['A', tempPasswordA],
    ['B', tempPasswordB],
  ] as const)('pattern %s: the printed config is a machine with the same states', (_, machine) => {
    const printed = createMachine(JSON.parse(JSON.stringify(machine.config)));
    expect(Object.keys(printed.root.states)).toEqual(Object.keys(machine.root.states));
    expect(Object.keys(printed.root.states)).toContain('storing');
  });
});

describe('flowOptionsFromConfig', () => {
  it('takes timeouts, attempts and the required digit from ivr config', () => {
    const ivr = parseConfig({ ivr: { maxAttempts: 4, patternBRequiredDigit: '7', firstDigitTimeoutMs: 6000 } }).ivr;
    expect(flowOptionsFromConfig(ivr)).toEqual({ firstDigitTimeoutMs: 6000, interDigitTimeoutMs: 3000, maxAttempts: 4, requiredDigit: '7' });
  });
});
