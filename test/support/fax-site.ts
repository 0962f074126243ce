// The FAX path and a settings site on one database, for the sites' 受信FAX内容確認 tests: real FAXes
// come in through SIP (test/fax/stack.ts: engine, spandsp receiver, outbox, SMTP catcher), the
// site shows them; more rows for paging go in through the store, as the receiver writes them.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { ConfigInput } from '../../src/config.ts';
import { insertFaxReception, type NewFaxReception } from '../../src/store/fax.ts';
import { startFaxStack, type FaxStack } from '../fax/stack.ts';
import { startSiteHarness, type SiteHarness } from './site.ts';

const run = promisify(execFile);

export interface FaxSite {
  stack: FaxStack;
  h: SiteHarness;
  stop(): Promise<void>;
}

export async function startFaxSite(provisioning: unknown, siteOverrides: ConfigInput = {}): Promise<FaxSite> {
  const stack = await startFaxStack({ site: { publicUrl: 'https://settings.example.jp' } });
  const h = await startSiteHarness(provisioning, siteOverrides, { db: stack.db });
  return {
    stack,
    h,
    async stop() {
      await h.stop();
      await stack.close();
    },
  };
}

/** A small real PDF (one A4 page, ghostscript), for rows that need a document without a FAX call. */
export async function tinyPdf(): Promise<Buffer> {
  const { stdout } = await run('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', '-sDEVICE=pdfwrite', '-sOutputFile=-', '-c', 'showpage'], { encoding: 'buffer' });
  return stdout as unknown as Buffer;
}

let seq = 0;
/** `count` receptions of `number`, one a minute back from `newest` (newest first in the returned ids). */
export async function insertReceptions(h: SiteHarness, number: string, count: number, over: Partial<NewFaxReception> = {}, newest = h.clock.now()): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const at = new Date(newest.getTime() - i * 60_000);
    const id = await insertFaxReception(h.db.pool, {
      callId: `site-test-${process.pid}-${++seq}`, calledNumber: number, callerNumber: '0612345678', absentReason: null,
      inviteAt: at, receivedAt: at, endedAt: new Date(at.getTime() + 20_000), remoteIdent: '', pages: 1, resolution: '204x196',
      result: 'complete', t30Code: 0, t30Reason: 'OK', transport: 'g711', pdf: null, expiresAt: new Date(at.getTime() + 30 * 86_400_000), ...over,
    });
    ids.push(id!);
  }
  return ids;
}

/** pdfinfo's page count of a PDF file (poppler), after checking it starts as a PDF does. */
export async function pdfPageCount(file: string): Promise<number> {
  const head = (await readFile(file)).subarray(0, 5).toString('latin1');
  if (head !== '%PDF-') throw new Error(`not a PDF: starts with ${JSON.stringify(head)}`);
  const { stdout } = await run('pdfinfo', [file]);
  return Number(/^Pages:\s+(\d+)$/m.exec(stdout)?.[1]);
}
