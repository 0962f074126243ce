// What a 回線情報通知 session holds: the お客さまID that logged in and where it is in the steps
// of an application. A session carries one realm only (the settings site's `login` or this), and
// each realm's pages check only their own key, so a login of one never opens the other's pages.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Clock } from '../../domain/clock.ts';
import type { LineInfoSetting } from '../../domain/line-info.ts';
import { dueForTouch, sessionExpired, type SessionLimits } from '../session.ts';

/** The steps after choosing providers, in order; a page of a later step needs its predecessors done. */
export const STAGES = ['consent', 'applicant', 'confirm', 'done'] as const;
export type Stage = (typeof STAGES)[number];

export interface ApplicantForm {
  name: string;
  phone: string;
  mail: string;
  completionMail: boolean;
}

export interface LineInfoFlow {
  setting: LineInfoSetting;
  providerIds: string[];
  stage: Stage;
  /** Idempotency key of this application: the 変更内容確認 page carries it, 変更 is accepted once per key. */
  token: string;
  applicant?: ApplicantForm;
  applicationId?: number;
}

export interface LineInfoLoginState {
  customerId: string;
  at: number;
  lastSeen: number;
  flow?: LineInfoFlow;
}

declare module 'fastify' {
  interface Session {
    lineInfo?: LineInfoLoginState;
  }
}

export type LineInfoCheck = { ok: true; state: LineInfoLoginState } | { ok: false; why: 'none' | 'timeout' | 'gone' };

/** The session's 回線情報通知 login, within the site's idle and absolute limits, of a line that still exists. */
export async function checkLineInfoLogin(req: FastifyRequest, pool: pg.Pool, clock: Clock, limits: SessionLimits): Promise<LineInfoCheck> {
  const state = req.session.get('lineInfo');
  if (!state) return { ok: false, why: 'none' };
  const now = clock.now().getTime();
  if (sessionExpired(state, now, limits)) {
    await req.session.destroy();
    return { ok: false, why: 'timeout' };
  }
  const { rowCount } = await pool.query('select 1 from line_info_line where customer_id = $1', [state.customerId]);
  if (!rowCount) {
    await req.session.destroy();
    return { ok: false, why: 'gone' };
  }
  if (dueForTouch(state, now)) req.session.set('lineInfo', { ...state, lastSeen: now });
  return { ok: true, state };
}

/** Replaces the flow of the logged-in session (undefined ends it). */
export function setFlow(req: FastifyRequest, flow: LineInfoFlow | undefined): void {
  const state = req.session.get('lineInfo')!;
  req.session.set('lineInfo', { ...state, flow });
}

export function redirectToLineInfoLogin(reply: FastifyReply, base: string, why: 'none' | 'timeout' | 'gone') {
  return reply.redirect(why === 'timeout' ? `${base}/?timeout=1` : `${base}/`, 303);
}
