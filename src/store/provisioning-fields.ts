// Fields that several parts of a provisioning file share, each with the error that names its rule:
// a national number, a mail destination, a 転送先 (ボイスワープ's and 一括転送's).
import { z } from 'zod';
import { mailAddressProblem } from '../domain/mail-address.ts';
import { NATIONAL_NUMBER } from '../domain/phone-number.ts';
import { DESTINATION_MESSAGES, destinationRefusal } from '../domain/voice-warp.ts';

export const nationalNumber = z
  .string({ invalid_type_error: 'must be a string' })
  .regex(NATIONAL_NUMBER, 'must be a national number: 0 followed by 9–10 digits, no hyphens');

/** A 送信先: a mail address by the guide's rules, with its 送信 flag. */
export const mailDestination = z
  .object({
    address: z.string().superRefine((a, ctx) => {
      const problem = mailAddressProblem(a);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `mail address ${problem}` });
    }),
    send: z.boolean().default(true),
  })
  .strict();

/** Why a 転送先 of `ownNumber` is refused (the rule and its message), or undefined: ボイスワープ's rules, digits only. */
export function forwardDestinationProblem(destination: string, ownNumber: string): string | undefined {
  const refusal = destinationRefusal(destination, ownNumber);
  if (refusal) return `${refusal}: ${DESTINATION_MESSAGES[refusal]}`;
  return NATIONAL_NUMBER.test(destination) ? undefined : 'give the digits only, e.g. 0612345678';
}
