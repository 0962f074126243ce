// What the 設定サイト realm gives its pages beyond the foundation: its login hook, for every page
// behind login and for the pages of one login step.
import type { preHandlerAsyncHookHandler } from 'fastify';
import type { SiteContext } from '../foundation.ts';
import type { LoginStep } from './steps.ts';

export interface SettingsContext extends SiteContext {
  /** Every page behind login: the session, the account and scope as of now, every login step done. */
  requireLogin: preHandlerAsyncHookHandler;
  /** The pages of one login step (steps.ts): open while it is the first step due. */
  requireStep(step: string): preHandlerAsyncHookHandler;
  steps: readonly LoginStep[];
}
