// 受信FAX内容確認 (002: 「受信したFAXのダウンロード、および受信日時などを確認します」) as both settings
// sites show it: the number's kept receptions newest first, paged; each one's PDF as a download;
// a delete after a confirmation page. The site registers it under a path that names the number,
// already checked against the login's scope, and gives its own frame and words. Every download and
// delete is audited in the store's transaction (fax.download, fax.delete); the store takes the
// number with every id, so a reception of another number is never listed, given or deleted.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { faxResultText } from '../domain/fax.ts';
import { tokyoTime } from '../mail/format.ts';
import { deleteFaxReception, downloadFaxPdf, getFaxReception, listFaxReceptions, type FaxReceptionRow } from '../store/fax.ts';
import type { SiteContext } from './foundation.ts';
import { askedPage, paged, pageWindow } from './paging.ts';

/** Receptions a page: a phone's screen or two of stacked entries. */
export const FAX_PER_PAGE = 10;

export const FAX_MSG = {
  deleted: '受信FAXを削除しました。',
  notFound: { title: '受信FAXが見つかりません', message: 'この受信FAXは見つかりません。すでに削除されたか、保存期間を過ぎています。' },
};

export interface FaxReceptionsSite {
  /** The number whose receptions these are (in the login's scope: checked before these pages run). */
  numberOf(req: FastifyRequest): string;
  /** Who is acting, for the audit. */
  actorOf(req: FastifyRequest): string;
  /** The list's path for a number, with the site's prefix: links, the delete form, the redirect after it. */
  listPath(number: string): string;
  /** Where the list's 戻る leads (the service's menu). */
  backOf(req: FastifyRequest): { href: string; label: string };
  /** Draws a shared view (fax-received, fax-delete) in the site's frame. */
  render(req: FastifyRequest, reply: FastifyReply, view: string, data: Record<string, unknown>, status?: number): FastifyReply;
  /** The column of the caller (pattern A 発信者, the legacy site 発信者通知番号). */
  callerLabel: string;
}

/** One reception as the list and the confirmation show it. */
function line(r: FaxReceptionRow, listPath: string) {
  return {
    id: r.id,
    receivedAt: tokyoTime(r.receivedAt),
    caller: r.callerNumber ?? (r.absentReason ? `非通知理由：${r.absentReason}` : ''),
    pages: r.pages,
    result: faxResultText(r),
    pdfHref: r.hasPdf ? `${listPath}/${r.id}/pdf` : undefined,
    deleteHref: `${listPath}/${r.id}/delete`,
  };
}

/** The PDF's name as saved: the number and Japan time of reception (fax-0611113333-20261207-101503.pdf). */
export const pdfFilename = (number: string, receivedAt: Date) => `fax-${number}-${tokyoTime(receivedAt).replace(/\//g, '').replace(' ', '-').replace(/:/g, '')}.pdf`;

/** A reception id in a URL: digits only, else no such page. */
const idOf = (req: FastifyRequest) => {
  const id = (req.params as { id: string }).id;
  return /^[1-9]\d{0,14}$/.test(id) ? Number(id) : undefined;
};

/** Registers `${FAX_RECEPTIONS_PAGE}` and its download and delete under the site's path of a number. */
export function registerFaxReceptions(app: FastifyInstance, ctx: SiteContext, site: FaxReceptionsSite, page: string): void {
  const { pool, clock, config } = ctx.deps;
  const notFound = (req: FastifyRequest, reply: FastifyReply) => ctx.errorPage(req, reply, 404, FAX_MSG.notFound);
  const who = (req: FastifyRequest) => ({ actor: site.actorOf(req), source: req.ip, at: clock.now() });
  const hints = [
    `受信したFAXは、受信日から${config.fax.retentionDays}日間保存されます。保存期間を過ぎたFAXは自動的に削除されます。`,
    '「ダウンロード」で、受信したFAXをPDF形式で保存できます。',
  ];

  app.get(page, async (req, reply) => {
    const number = site.numberOf(req);
    const listPath = site.listPath(number);
    const query = req.query as Record<string, string | undefined>;
    const read = (offset: number) => listFaxReceptions(pool, number, { offset, limit: FAX_PER_PAGE }, clock.now());
    const askedOffset = (askedPage(query.page) - 1) * FAX_PER_PAGE;
    let list = await read(askedOffset);
    const w = pageWindow(list.total, query.page, FAX_PER_PAGE);
    // A page past the end (receptions deleted or expired meanwhile): the last real one.
    if (w.offset !== askedOffset) list = await read(w.offset);
    return site.render(req, reply, 'fax-received', {
      title: '受信FAX内容確認',
      notice: query.deleted ? FAX_MSG.deleted : undefined,
      paged: paged(w, list.rows.map((r) => line(r, listPath))),
      listPath,
      callerLabel: site.callerLabel,
      hints,
      back: site.backOf(req),
    });
  });

  // The PDF, as a download; audited with the reception's id in the store's transaction. No HEAD
  // route: a HEAD would be audited as a download that never sent the file.
  app.get(`${page}/:id/pdf`, { exposeHeadRoute: false }, async (req, reply) => {
    const id = idOf(req);
    const number = site.numberOf(req);
    const got = id === undefined ? undefined : await downloadFaxPdf(pool, number, id, who(req));
    if (!got) return notFound(req, reply);
    return reply
      .type('application/pdf')
      .header('content-disposition', `attachment; filename="${pdfFilename(number, got.receivedAt)}"`)
      .header('cache-control', 'no-store')
      .send(got.pdf);
  });

  // 削除: a confirmation page first; the POST (CSRF-checked like every POST) deletes.
  app.get(`${page}/:id/delete`, async (req, reply) => {
    const id = idOf(req);
    const number = site.numberOf(req);
    const r = id === undefined ? undefined : await getFaxReception(pool, number, id, clock.now());
    if (!r) return notFound(req, reply);
    const listPath = site.listPath(number);
    return site.render(req, reply, 'fax-delete', { title: '受信FAXの削除', reception: line(r, listPath), callerLabel: site.callerLabel, back: { href: listPath, label: '戻る' } });
  });
  app.post(`${page}/:id/delete`, async (req, reply) => {
    const id = idOf(req);
    const number = site.numberOf(req);
    if (id === undefined || !(await deleteFaxReception(pool, number, id, who(req)))) return notFound(req, reply);
    return reply.redirect(`${site.listPath(number)}?deleted=1`, 303);
  });
}
