// The flows take plain options; the IVR reads them from its config section.
import type { FlowOptions } from '../../flows/temp-password-common.ts';
import type { Config } from '../config.ts';

/** Flow options from the `ivr` config section (pattern B's maxRestarts is left at its default). */
export function flowOptionsFromConfig(ivr: Config['ivr']): FlowOptions & { requiredDigit: string } {
  return {
    firstDigitTimeoutMs: ivr.firstDigitTimeoutMs,
    interDigitTimeoutMs: ivr.interDigitTimeoutMs,
    maxAttempts: ivr.maxAttempts,
    trailingHashWindowMs: ivr.trailingHashWindowMs,
    requiredDigit: ivr.patternBRequiredDigit,
  };
}
