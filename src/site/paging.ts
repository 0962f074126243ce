// Paging a long list (電話番号選択 of a large contract, 受信FAX内容確認): which slice to show and the
// links around it. One rule for the page asked: junk or out of range clamps to the nearest real page.
/** 20 a page: one screen of a phone in the grid (two columns), two rows of a desktop's. */
export const NUMBERS_PER_PAGE = 20;

export interface PageWindow {
  page: number;
  pages: number;
  total: number;
  /** The first item's index (0-based) and how many at most. */
  offset: number;
  size: number;
}

export interface Paged<T> {
  items: T[];
  page: number;
  pages: number;
  total: number;
  /** 1-based positions of the first and last item shown. */
  from: number;
  to: number;
}

/** The page a query asks for, as a page number from 1 (junk: 1; no list is a million pages long). */
export function askedPage(asked: unknown): number {
  const n = Number.parseInt(String(asked ?? '1'), 10);
  return Math.min(1_000_000, Math.max(1, Number.isFinite(n) ? n : 1));
}

/** The `asked` page of `total` items (a list kept elsewhere, e.g. in PostgreSQL), clamped to the last one. */
export function pageWindow(total: number, asked: unknown, size: number): PageWindow {
  const pages = Math.max(1, Math.ceil(total / size));
  const page = Math.min(pages, askedPage(asked));
  return { page, pages, total, offset: (page - 1) * size, size };
}

/** A window with the items it shows. */
export function paged<T>(w: PageWindow, items: T[]): Paged<T> {
  return { items, page: w.page, pages: w.pages, total: w.total, from: items.length ? w.offset + 1 : 0, to: w.offset + items.length };
}

/** The `asked` page of `all`. */
export function pageOf<T>(all: readonly T[], asked: unknown, size = NUMBERS_PER_PAGE): Paged<T> {
  const w = pageWindow(all.length, asked, size);
  return paged(w, all.slice(w.offset, w.offset + size));
}
