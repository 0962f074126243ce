// The real actors the pure flows in flows/ run with: questions and announcements on the
// call's media session, and the temp-password store.
import type pg from 'pg';
import { fromPromise } from 'xstate';
import type { AskInput, SayInput, StoreInput } from '../../flows/temp-password-common.ts';
import type { CollectResult, MediaSession } from '../media/port.ts';
import { setTempPassword } from '../store/temp-passwords.ts';

export function flowActors(session: MediaSession, pool: pg.Pool, ttlHours: number) {
  return {
    // Barge-in: a key pressed during the prompt stops it and stays buffered for collect().
    ask: fromPromise<CollectResult, AskInput>(async ({ input }) => {
      if (input.flushBuffered) session.flushDigits();
      await session.play(input.prompts, { bargeIn: true });
      return session.collect(input.collect);
    }),
    say: fromPromise<void, SayInput>(async ({ input }) => {
      await session.play(input.prompts);
    }),
    store: fromPromise<void, StoreInput>(async ({ input }) => {
      await setTempPassword(pool, {
        loginNumber: input.targetNumber,
        realm: input.pattern === 'A' ? 'site' : input.service,
        authUnit: input.pattern === 'A' ? input.authUnit : undefined,
        password: input.password,
        ttlHours,
      });
    }),
  };
}
