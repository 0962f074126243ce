// FAX reception on FreeSWITCH (production): mod_spandsp's `rxfax` on a drachtio-fsmrf endpoint,
// G.711 and T.38. FreeSWITCH answers the caller's audio, runs T.30 and writes the TIFF/F file into
// a folder both it and the app see (fax.freeswitchDir: FreeSWITCH's path, and the app's path of
// the same folder); the app turns the file into the PDF exactly as for the built-in receiver.
// A T.38 re-INVITE from the caller is relayed to the endpoint (FreeSWITCH accepts it with
// fax_enable_t38 and continues on T.38 itself); FreeSWITCH never starts a T.38 switch of its own
// (fax_enable_t38_request=false), since the caller's leg is ours, not FreeSWITCH's.
import { randomUUID } from 'node:crypto';
import { access, rm } from 'node:fs/promises';
import path from 'node:path';
import type Mrf from 'drachtio-fsmrf';
import type { MediaLogger } from './logger.ts';
import { faxTiffToPdf, type FaxDocument } from './fax/pdf.ts';
import { T30_ERR_CALLDROPPED, T30_ERR_OK, T30_ERR_T1_EXPIRED } from './fax/spandsp.ts';
import { type FaxReceiveOptions, type FaxReception, type FaxSession } from './port.ts';

const exists = (file: string) => access(file).then(() => true, () => false);

export interface FreeswitchFaxDirs {
  /** The folder as FreeSWITCH sees it (rxfax writes there). */
  freeswitchDir: string;
  /** The same folder as this process sees it. */
  appDir: string;
}

/** mod_spandsp's channel variables after rxfax (FreeSWITCH 1.10: mod_spandsp_fax.c). */
function receptionFrom(vars: Record<string, string | undefined>, doc: FaxDocument, failure?: { code: number; reason: string }): FaxReception {
  // rxfax broken off by the hang-up has set no result: the call dropped.
  failure ??= vars.variable_fax_result_code === undefined ? { code: T30_ERR_CALLDROPPED, reason: 'The call dropped prematurely' } : undefined;
  const code = failure?.code ?? (Number(vars.variable_fax_result_code) || 0);
  const success = !failure && vars.variable_fax_success === '1' && code === T30_ERR_OK;
  const pages = doc.pages.length;
  // From the file, in pixels per inch (mod_spandsp's fax_image_resolution is per metre).
  const first = doc.pages[0];
  return {
    result: pages === 0 ? 'failed' : success ? 'complete' : 'partial',
    pages,
    remoteIdent: (vars.variable_fax_remote_station_id ?? '').trim(),
    resolution: first ? `${first.xDpi}x${first.yDpi}` : null,
    t30Code: code,
    t30Reason: failure?.reason ?? vars.variable_fax_result_text ?? 'unknown',
    transport: vars.variable_has_t38 === 'true' || vars.variable_t38_peer ? 't38' : 'g711',
    pdf: pages ? doc.pdf : null,
  };
}

export async function openFreeswitchFax(
  ms: Mrf.MediaServer,
  dirs: FreeswitchFaxDirs,
  offerSdp: string,
  opts: FaxReceiveOptions,
  log: MediaLogger,
): Promise<FaxSession> {
  const ep = await ms.createEndpoint({ remoteSdp: offerSdp });
  const name = `fax-${randomUUID()}.tif`;
  const appFile = path.join(dirs.appDir, name);
  let settle!: (r: FaxReception) => void;
  const done = new Promise<FaxReception>((r) => (settle = r));
  let failure: { code: number; reason: string } | undefined;
  let identified = false;
  let ended = false;

  ep.addCustomEventListener('spandsp::rxfaxnegociateresult', () => (identified = true));
  const stopRxfax = () => void ep.api('uuid_break', ep.uuid).catch(() => undefined);
  const noFax = setTimeout(() => {
    if (identified) return;
    failure = { code: T30_ERR_T1_EXPIRED, reason: `no FAX answered within ${Math.round(opts.noFaxTimeoutMs / 1000)} s (T.30 T1): the caller is not a FAX` };
    stopRxfax();
  }, opts.noFaxTimeoutMs);
  const tooLong = setTimeout(() => {
    failure ??= { code: -1, reason: `reception longer than ${Math.round(opts.maxDurationMs / 1000)} s: ended` };
    stopRxfax();
  }, opts.maxDurationMs);

  async function finish(): Promise<void> {
    if (ended) return;
    ended = true;
    clearTimeout(noFax);
    clearTimeout(tooLong);
    let vars: Record<string, string | undefined> = {};
    try {
      vars = (await ep.getChannelVariables(true)) as Record<string, string | undefined>;
    } catch {
      // The channel is gone (the caller hung up): what the file holds is what came.
      failure ??= { code: T30_ERR_CALLDROPPED, reason: 'The call dropped prematurely' };
    }
    let doc: FaxDocument = { pdf: new Uint8Array(0), pages: [] };
    let keep = false;
    try {
      if (await exists(appFile)) doc = await faxTiffToPdf(appFile, { title: `FAX ${opts.callId}`, created: new Date() });
    } catch (err) {
      // The file is there but cannot be read here (libtiff missing, a damaged file): keep it for an operator.
      keep = true;
      log.error({ callId: opts.callId, file: appFile, err: (err as Error).message }, 'received FAX file cannot be read: kept');
    }
    if (!keep) await rm(appFile, { force: true });
    if (ep.connected) await ep.destroy().catch(() => undefined);
    settle(receptionFrom(vars, doc, failure));
  }

  await ep.set({
    fax_enable_t38: 'true',
    fax_enable_t38_request: 'false',
    fax_use_ecm: 'true',
    fax_ident: opts.ident.slice(0, 20),
    fax_verbose: 'false',
  });
  ep.on('destroy', () => void finish());
  void ep.execute('rxfax', path.posix.join(dirs.freeswitchDir, name)).then(
    () => finish(),
    () => finish(),
  );
  return {
    localSdp: ep.local.sdp,
    done,
    async modify(sdp) {
      // A T.38 switch or a session refresh: FreeSWITCH (mod_spandsp) decides; its answer goes back.
      // fsmrf resolves with FreeSWITCH's answer to the re-INVITE.
      return ep.modify(sdp);
    },
    async close() {
      stopRxfax();
      await finish();
    },
  };
}
