// What a 回線情報通知 session holds beside its owner (the お客さまID that logged in): where it is in
// the steps of an application. Its pages accept only sessions this realm opened, so a line-info login
// never opens a settings-site page, nor the reverse.
import type { FastifyRequest } from 'fastify';
import type { LineInfoSetting } from '../../domain/line-info.ts';

export const LINE_INFO_REALM = 'line_info';

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

export interface LineInfoState {
  flow?: LineInfoFlow;
}

declare module 'fastify' {
  interface Session {
    lineInfo?: LineInfoState;
  }
}

/** Replaces the flow of the logged-in session (undefined ends it). */
export function setFlow(req: FastifyRequest, flow: LineInfoFlow | undefined): void {
  req.session.set('lineInfo', { ...req.session.get('lineInfo'), flow });
}
