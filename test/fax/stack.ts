// The FAXお知らせメール path of one process for tests: the built-in SIP engine, the notify B2BUA with
// the built-in endpoint's FAX receiver (spandsp), a real PostgreSQL database, the mail outbox worker
// and the built-in SMTP catcher; FAXes come from the project's own sender (src/cli/fax-sender.ts).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type Srf from 'drachtio-srf';
import { parseConfig, type Config, type ConfigInput } from '../../src/config.ts';
import { startSmtpCatcher, type SmtpCatcher } from '../../src/mail/catcher.ts';
import { catcherTransport, type Transporter } from '../../src/mail/transport.ts';
import { startMailWorker, type MailWorker } from '../../src/mail/worker.ts';
import { createBuiltinMediaServer, loadPromptLibrary, type BuiltinMediaServer } from '../../src/media/index.ts';
import type { NotifyApp } from '../../src/notify/app.ts';
import type { Engine } from '../../src/sip-engine/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { quietLogger } from '../mail/mailbox.ts';
import { connectNotifyApp, startTestEngine } from '../notify/stack.ts';

const run = promisify(execFile);

export interface FaxStack {
  db: TestDatabase;
  dir: string;
  config: Config;
  engine: Engine;
  media: BuiltinMediaServer;
  catcher: SmtpCatcher;
  app: NotifyApp;
  srf: Srf;
  sip: { host: string; port: number };
  close(): Promise<void>;
}

export async function startFaxStack(over: ConfigInput = {}): Promise<FaxStack> {
  const db = await createTestDatabase();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-fax-'));
  const config = parseConfig({ varDir: dir, ...over });
  const secret = 'fax-test';
  const engine = await startTestEngine(secret);
  const prompts = await loadPromptLibrary({ dir: 'prompts' });
  const media = await createBuiltinMediaServer({ host: '127.0.0.1', portMin: 0, portMax: 0, prompts, fax: { workDir: dir, spandspLibrary: config.fax.spandspLibrary } });
  const catcher = await startSmtpCatcher({ host: '127.0.0.1', port: 0, dir: path.join(dir, 'mail'), logger: quietLogger });
  const transport: Transporter = catcherTransport({ host: '127.0.0.1', port: catcher.port }, 2);
  const worker: MailWorker = startMailWorker({ pool: db.pool, listenUrl: db.url, transport, logger: quietLogger, concurrency: 2, pollMs: 200 });
  const { srf, app } = await connectNotifyApp(engine, secret, { pool: db.pool, config, spoolDir: path.join(dir, 'spool'), fax: media });
  return {
    db, dir, config, engine, media, catcher, app, srf, sip: engine.sipAddress,
    async close() {
      srf.disconnect();
      await app.stop(2000);
      await media.close();
      await worker.stop();
      transport.close();
      await catcher.close();
      await engine.close();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A FAX document of `pages` simple pages (a heading and a box each), made the way a tester would:
 * PostScript rendered by ghostscript's tiffg3 device at fine resolution (204×196 dpi), 1728 pixels
 * wide and `rows` high (short pages keep the calls short).
 */
export async function makeFaxTiff(dir: string, pages: number, rows = 1100): Promise<string> {
  const ps = path.join(dir, `doc-${pages}.ps`);
  const tif = path.join(dir, `doc-${pages}.tif`);
  const page = (n: number) => `/Helvetica findfont 36 scalefont setfont 60 ${Math.round((rows / 196) * 72) - 80} moveto (chakushin FAX page ${n}) show
4 setlinewidth 60 60 moveto 300 0 rlineto 0 120 rlineto -300 0 rlineto closepath stroke showpage`;
  await writeFile(ps, `%!PS\n${Array.from({ length: pages }, (_, i) => page(i + 1)).join('\n')}\n`);
  await run('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', '-sDEVICE=tiffg3', '-r204x196', `-g1728x${rows}`, `-sOutputFile=${tif}`, ps]);
  return tif;
}
