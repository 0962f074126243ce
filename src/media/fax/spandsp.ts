// Debian's libspandsp2 (0.0.6) through koffi: the T.30 FAX terminal (audio: fax_*, T.38:
// t38_terminal_*) FreeSWITCH's mod_spandsp and Asterisk use. Nothing of T.30 or the modems is
// written here; this file only declares the C functions and the one statistics struct we read.
// The library is loaded lazily, once: a machine without it runs everything else (see
// loadSpandsp), and FAX calls are then refused by the caller of this module.
import koffi, { type LibraryHandle } from 'koffi';

/** Why libspandsp could not be loaded, in one line with what to do. */
export class SpandspMissingError extends Error {
  override name = 'SpandspMissingError';
}

export const SPANDSP_INSTALL_HINT = 'apt-get install libspandsp2';

export interface T30Stats {
  bitRate: number;
  ecm: boolean;
  pagesTx: number;
  pagesRx: number;
  /** Pixels per metre of the most recent page. */
  xResolution: number;
  yResolution: number;
  width: number;
  length: number;
  badRows: number;
}

type Ptr = unknown;

export interface Spandsp {
  readonly library: string;
  faxInit(callingParty: boolean): Ptr;
  faxFree(s: Ptr): void;
  faxRx(s: Ptr, samples: Int16Array): void;
  faxRxFillin(s: Ptr, samples: number): void;
  /** Writes up to samples.length samples; returns how many. */
  faxTx(s: Ptr, samples: Int16Array): number;
  faxSetTransmitOnIdle(s: Ptr, on: boolean): void;
  faxGetT30(s: Ptr): Ptr;
  t38Init(callingParty: boolean, txPacket: bigint): Ptr;
  t38Free(s: Ptr): void;
  t38GetT30(s: Ptr): Ptr;
  t38GetCore(s: Ptr): Ptr;
  t38SendTimeout(s: Ptr, samples: number): number;
  t38RxIfp(core: Ptr, ifp: Uint8Array, seq: number): number;
  t38SetConfig(s: Ptr, config: number): void;
  t38SetMaxDatagramSize(core: Ptr, size: number): void;
  t38SetVersion(core: Ptr, version: number): void;
  /** 1 local TCF, 2 transferred TCF (T.38 data rate management). */
  t38SetRateManagement(core: Ptr, method: 1 | 2): void;
  t38SetRedundancyControl(core: Ptr, category: number, setting: number): void;
  t30SetRxFile(t30: Ptr, file: string, stopPage: number): void;
  t30SetTxFile(t30: Ptr, file: string, startPage: number, stopPage: number): void;
  t30SetTxIdent(t30: Ptr, ident: string): void;
  t30GetRxIdent(t30: Ptr): string;
  t30SetEcm(t30: Ptr, on: boolean): void;
  t30SetSupportedModems(t30: Ptr, modems: number): void;
  t30SetPhaseBHandler(t30: Ptr, handler: bigint | null): void;
  t30SetPhaseDHandler(t30: Ptr, handler: bigint | null): void;
  t30SetPhaseEHandler(t30: Ptr, handler: bigint | null): void;
  t30Terminate(t30: Ptr): void;
  t30Stats(t30: Ptr): T30Stats;
  completionText(code: number): string;
  /** Registers a JS function as a C callback; unregister() releases the slot. */
  register(kind: 'phaseB' | 'phaseD' | 'phaseE' | 't38Tx', fn: (...args: never[]) => unknown): bigint;
  unregister(handle: bigint): void;
  /** A copy of `len` bytes at a C pointer handed to a callback. */
  bytes(ptr: unknown, len: number): Buffer;
}

export const T30_ERR_OK = 0;
export const T30_ERR_T1_EXPIRED = 3;
export const T30_ERR_CALLDROPPED = 49;
export const T30_SUPPORT_V27TER = 0x01;
export const T30_SUPPORT_V29 = 0x02;
export const T30_SUPPORT_V17 = 0x04;
/** t38_set_redundancy_control categories (enum t38_packet_categories_e). */
export const T38_PACKET_CATEGORY = { indicator: 0, controlData: 1, controlDataEnd: 2, imageData: 3, imageDataEnd: 4 } as const;

let loaded: Spandsp | undefined;
let failure: SpandspMissingError | undefined;

/**
 * The library, loaded on first use. `library` is the file name or path given to dlopen
 * (fax.spandspLibrary; Debian: libspandsp.so.2). Throws SpandspMissingError when it is absent.
 */
export function loadSpandsp(library = 'libspandsp.so.2'): Spandsp {
  if (loaded?.library === library) return loaded;
  if (failure && failure.message.includes(library)) throw failure;
  let lib: LibraryHandle;
  try {
    lib = koffi.load(library);
  } catch (err) {
    failure = new SpandspMissingError(
      `FAX reception needs libspandsp2 (${library}: ${(err as Error).message.split('\n')[0]}); install it with: ${SPANDSP_INSTALL_HINT}`,
    );
    throw failure;
  }
  loaded = bind(lib, library);
  return loaded;
}

function bind(lib: LibraryHandle, library: string): Spandsp {
  const stats = koffi.struct('t30_stats_t', {
    bit_rate: 'int', error_correcting_mode: 'int', pages_tx: 'int', pages_rx: 'int', pages_in_file: 'int',
    x_resolution: 'int', y_resolution: 'int', width: 'int', length: 'int', image_size: 'int', encoding: 'int',
    bad_rows: 'int', longest_bad_row_run: 'int', error_correcting_mode_retries: 'int', current_status: 'int',
  });
  const protos = {
    phaseB: koffi.proto('int t30_phase_b_handler_t(void *s, void *user_data, int result)'),
    phaseD: koffi.proto('int t30_phase_d_handler_t(void *s, void *user_data, int result)'),
    phaseE: koffi.proto('void t30_phase_e_handler_t(void *s, void *user_data, int completion_code)'),
    t38Tx: koffi.proto('int t38_tx_packet_handler_t(void *s, void *user_data, const uint8_t *buf, int len, int count)'),
  };
  const f = (sig: string) => lib.func(sig);
  const fax_init = f('void *fax_init(void *s, int calling_party)');
  const fax_free = f('int fax_free(void *s)');
  const fax_rx = f('int fax_rx(void *s, int16_t *amp, int len)');
  const fax_rx_fillin = f('int fax_rx_fillin(void *s, int len)');
  const fax_tx = f('int fax_tx(void *s, _Out_ int16_t *amp, int max_len)');
  const fax_set_transmit_on_idle = f('void fax_set_transmit_on_idle(void *s, int on)');
  const fax_get_t30_state = f('void *fax_get_t30_state(void *s)');
  const t38_terminal_init = f('void *t38_terminal_init(void *s, int calling_party, t38_tx_packet_handler_t *handler, void *user_data)');
  const t38_terminal_free = f('int t38_terminal_free(void *s)');
  const t38_terminal_get_t30_state = f('void *t38_terminal_get_t30_state(void *s)');
  const t38_terminal_get_t38_core_state = f('void *t38_terminal_get_t38_core_state(void *s)');
  const t38_terminal_send_timeout = f('int t38_terminal_send_timeout(void *s, int samples)');
  const t38_terminal_set_config = f('void t38_terminal_set_config(void *s, int config)');
  const t38_core_rx_ifp_packet = f('int t38_core_rx_ifp_packet(void *s, const uint8_t *buf, int len, uint16_t seq_no)');
  const t38_set_max_datagram_size = f('void t38_set_max_datagram_size(void *s, int size)');
  const t38_set_t38_version = f('void t38_set_t38_version(void *s, int version)');
  const t38_set_data_rate_management_method = f('void t38_set_data_rate_management_method(void *s, int method)');
  const t38_set_redundancy_control = f('void t38_set_redundancy_control(void *s, int category, int setting)');
  const t30_set_rx_file = f('void t30_set_rx_file(void *s, const char *file, int stop_page)');
  const t30_set_tx_file = f('void t30_set_tx_file(void *s, const char *file, int start_page, int stop_page)');
  const t30_set_tx_ident = f('int t30_set_tx_ident(void *s, const char *id)');
  const t30_get_rx_ident = f('const char *t30_get_rx_ident(void *s)');
  const t30_set_ecm_capability = f('int t30_set_ecm_capability(void *s, int enabled)');
  const t30_set_supported_modems = f('int t30_set_supported_modems(void *s, int modems)');
  const t30_set_phase_b_handler = f('void t30_set_phase_b_handler(void *s, t30_phase_b_handler_t *h, void *user_data)');
  const t30_set_phase_d_handler = f('void t30_set_phase_d_handler(void *s, t30_phase_d_handler_t *h, void *user_data)');
  const t30_set_phase_e_handler = f('void t30_set_phase_e_handler(void *s, t30_phase_e_handler_t *h, void *user_data)');
  const t30_terminate = f('void t30_terminate(void *s)');
  const t30_get_transfer_statistics = lib.func('t30_get_transfer_statistics', 'void', ['void *', koffi.out(koffi.pointer(stats))]);
  const t30_completion_code_to_str = f('const char *t30_completion_code_to_str(int result)');

  return {
    library,
    faxInit: (calling) => {
      const s = fax_init(null, calling ? 1 : 0);
      if (!s) throw new Error('fax_init failed');
      return s;
    },
    faxFree: (s) => void fax_free(s),
    faxRx: (s, samples) => void fax_rx(s, samples, samples.length),
    faxRxFillin: (s, n) => void fax_rx_fillin(s, n),
    faxTx: (s, samples) => fax_tx(s, samples, samples.length) as number,
    faxSetTransmitOnIdle: (s, on) => fax_set_transmit_on_idle(s, on ? 1 : 0),
    faxGetT30: (s) => fax_get_t30_state(s),
    t38Init: (calling, tx) => {
      const s = t38_terminal_init(null, calling ? 1 : 0, tx, null);
      if (!s) throw new Error('t38_terminal_init failed');
      return s;
    },
    t38Free: (s) => void t38_terminal_free(s),
    t38GetT30: (s) => t38_terminal_get_t30_state(s),
    t38GetCore: (s) => t38_terminal_get_t38_core_state(s),
    t38SendTimeout: (s, n) => t38_terminal_send_timeout(s, n) as number,
    t38RxIfp: (core, ifp, seq) => t38_core_rx_ifp_packet(core, ifp, ifp.length, seq) as number,
    t38SetConfig: (s, c) => t38_terminal_set_config(s, c),
    t38SetMaxDatagramSize: (core, n) => t38_set_max_datagram_size(core, n),
    t38SetVersion: (core, v) => t38_set_t38_version(core, v),
    t38SetRateManagement: (core, m) => t38_set_data_rate_management_method(core, m),
    t38SetRedundancyControl: (core, c, n) => t38_set_redundancy_control(core, c, n),
    t30SetRxFile: (t30, file, stop) => t30_set_rx_file(t30, file, stop),
    t30SetTxFile: (t30, file, start, stop) => t30_set_tx_file(t30, file, start, stop),
    t30SetTxIdent: (t30, ident) => void t30_set_tx_ident(t30, ident),
    t30GetRxIdent: (t30) => (t30_get_rx_ident(t30) as string | null) ?? '',
    t30SetEcm: (t30, on) => void t30_set_ecm_capability(t30, on ? 1 : 0),
    t30SetSupportedModems: (t30, m) => void t30_set_supported_modems(t30, m),
    t30SetPhaseBHandler: (t30, h) => t30_set_phase_b_handler(t30, h, null),
    t30SetPhaseDHandler: (t30, h) => t30_set_phase_d_handler(t30, h, null),
    t30SetPhaseEHandler: (t30, h) => t30_set_phase_e_handler(t30, h, null),
    t30Terminate: (t30) => t30_terminate(t30),
    t30Stats: (t30) => {
      const out: Record<string, number> = {};
      t30_get_transfer_statistics(t30, out);
      return {
        bitRate: out.bit_rate!, ecm: out.error_correcting_mode !== 0, pagesTx: out.pages_tx!, pagesRx: out.pages_rx!,
        xResolution: out.x_resolution!, yResolution: out.y_resolution!, width: out.width!, length: out.length!, badRows: out.bad_rows!,
      };
    },
    completionText: (code) => (t30_completion_code_to_str(code) as string | null) ?? `T.30 completion code ${code}`,
    register: (kind, fn) => koffi.register(fn, koffi.pointer(protos[kind])) as unknown as bigint,
    unregister: (h) => koffi.unregister(h),
    bytes: (ptr, len) => Buffer.from(koffi.view(ptr, len)),
  };
}
