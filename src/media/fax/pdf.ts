// A received FAX (spandsp's or FreeSWITCH's TIFF/F file) as a PDF that standard viewers open.
// libtiff (the library spandsp itself writes the file with) decodes each page's T.4/T.6 image
// into rows; pdf-lib builds the document, each page one 1-bit image at the page's own resolution
// (FAX pixels are not square: 204×98 or 204×196 dpi), so the PDF page has the paper's size.
import koffi from 'koffi';
import { concatTransformationMatrix, drawObject, PDFDocument, PDFName, popGraphicsState, pushGraphicsState } from 'pdf-lib';

export interface FaxPage {
  width: number;
  height: number;
  /** Pixels per inch. */
  xDpi: number;
  yDpi: number;
}

export interface FaxDocument {
  pdf: Uint8Array;
  pages: FaxPage[];
}

const TAG = { imageWidth: 256, imageLength: 257, photometric: 262, xResolution: 282, yResolution: 283, resolutionUnit: 296 } as const;
const RESUNIT_CENTIMETER = 3;
const PHOTOMETRIC_MINISWHITE = 0;

interface LibTiff {
  open(path: string): unknown;
  close(tif: unknown): void;
  u32(tif: unknown, tag: number): number;
  u16(tif: unknown, tag: number): number;
  float(tif: unknown, tag: number): number;
  scanlineSize(tif: unknown): number;
  readScanline(tif: unknown, row: Uint8Array, index: number): boolean;
  nextDirectory(tif: unknown): boolean;
}

let libtiff: LibTiff | undefined;

/** libtiff 6 (Debian libtiff6, which libspandsp2 depends on). */
function loadLibTiff(): LibTiff {
  if (libtiff) return libtiff;
  const lib = koffi.load('libtiff.so.6');
  const TIFFOpen = lib.func('void *TIFFOpen(const char *name, const char *mode)');
  const TIFFClose = lib.func('void TIFFClose(void *tif)');
  const TIFFGetField = lib.func('int TIFFGetField(void *tif, uint32_t tag, ...)');
  const TIFFReadDirectory = lib.func('int TIFFReadDirectory(void *tif)');
  const TIFFScanlineSize64 = lib.func('int64_t TIFFScanlineSize64(void *tif)');
  // libtiff prints its errors and warnings on stderr by default; ours are reported as exceptions.
  lib.func('void *TIFFSetErrorHandler(void *handler)')(null);
  lib.func('void *TIFFSetWarningHandler(void *handler)')(null);
  const TIFFReadScanline = lib.func('int TIFFReadScanline(void *tif, _Out_ uint8_t *buf, uint32_t row, uint16_t sample)');
  const field = (type: string) => (tif: unknown, tag: number): number => {
    const out = [0];
    return TIFFGetField(tif, tag, koffi.out(koffi.pointer(type)), out) === 1 ? out[0]! : NaN;
  };
  libtiff = {
    open: (path) => TIFFOpen(path, 'r'),
    close: (tif) => TIFFClose(tif),
    u32: field('uint32_t'),
    u16: field('uint16_t'),
    float: field('float'),
    scanlineSize: (tif) => Number(TIFFScanlineSize64(tif)),
    readScanline: (tif, row, index) => TIFFReadScanline(tif, row, index, 0) === 1,
    nextDirectory: (tif) => TIFFReadDirectory(tif) === 1,
  };
  return libtiff;
}

interface DecodedPage extends FaxPage {
  /** Rows of packed bits, 1 = black. */
  bits: Uint8Array;
}

/** Every page of a TIFF/F file, decoded. A page that cannot be read whole ends the list (pages before it are kept). */
export function readFaxTiff(path: string): DecodedPage[] {
  const t = loadLibTiff();
  const tif = t.open(path);
  if (!tif) throw new Error(`cannot open TIFF ${path}`);
  const pages: DecodedPage[] = [];
  try {
    do {
      const width = t.u32(tif, TAG.imageWidth);
      const height = t.u32(tif, TAG.imageLength);
      if (!(width > 0 && height > 0)) break;
      const perCm = t.u16(tif, TAG.resolutionUnit) === RESUNIT_CENTIMETER ? 2.54 : 1;
      const xDpi = (t.float(tif, TAG.xResolution) || 204) * perCm;
      const yDpi = (t.float(tif, TAG.yResolution) || 98) * perCm;
      const rowBytes = t.scanlineSize(tif);
      const bits = new Uint8Array(rowBytes * height);
      let ok = true;
      for (let r = 0; r < height && ok; r++) ok = t.readScanline(tif, bits.subarray(r * rowBytes, (r + 1) * rowBytes), r);
      if (!ok) break;
      // TIFF/F is min-is-white (0 = white); normalise to 1 = black for the PDF image below.
      if (t.u16(tif, TAG.photometric) !== PHOTOMETRIC_MINISWHITE) for (let i = 0; i < bits.length; i++) bits[i] = ~bits[i]! & 0xff;
      pages.push({ width, height, xDpi: Math.round(xDpi), yDpi: Math.round(yDpi), bits });
    } while (t.nextDirectory(tif));
  } finally {
    t.close(tif);
  }
  return pages;
}

/** The pages as a PDF: each page is the image at its physical size (points = pixels / dpi · 72). */
export async function faxPagesToPdf(pages: DecodedPage[], meta: { title: string; created: Date }): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(meta.title);
  doc.setCreationDate(meta.created);
  doc.setProducer('chakushin');
  for (const p of pages) {
    const image = doc.context.flateStream(p.bits, {
      Type: 'XObject', Subtype: 'Image', Width: p.width, Height: p.height,
      ColorSpace: 'DeviceGray', BitsPerComponent: 1,
      // 1 = black in our rows; DeviceGray 1 is white, so the decode range is inverted.
      Decode: [1, 0],
    });
    const ref = doc.context.register(image);
    const w = (p.width / p.xDpi) * 72;
    const h = (p.height / p.yDpi) * 72;
    const page = doc.addPage([w, h]);
    page.node.setXObject(PDFName.of('Fax'), ref);
    page.pushOperators(pushGraphicsState(), concatTransformationMatrix(w, 0, 0, h, 0, 0), drawObject('Fax'), popGraphicsState());
  }
  return doc.save();
}

/** TIFF file → PDF and its pages' geometry. No page: pdf is empty (nothing was received). */
export async function faxTiffToPdf(path: string, meta: { title: string; created: Date }): Promise<FaxDocument> {
  const decoded = readFaxTiff(path);
  if (decoded.length === 0) return { pdf: new Uint8Array(0), pages: [] };
  const pdf = await faxPagesToPdf(decoded, meta);
  return { pdf, pages: decoded.map(({ width, height, xDpi, yDpi }) => ({ width, height, xDpi, yDpi })) };
}
