// Paging a long list (電話番号選択 of a large contract): which slice to show and the links around it.
/** 20 a page: one screen of a phone in the grid (two columns), two rows of a desktop's. */
export const NUMBERS_PER_PAGE = 20;

export interface Paged<T> {
  items: T[];
  page: number;
  pages: number;
  total: number;
  /** 1-based positions of the first and last item shown. */
  from: number;
  to: number;
}

/** The `asked` page of `all` (out-of-range or junk pages clamp to the nearest real one). */
export function pageOf<T>(all: readonly T[], asked: unknown, size = NUMBERS_PER_PAGE): Paged<T> {
  const pages = Math.max(1, Math.ceil(all.length / size));
  const n = Number.parseInt(String(asked ?? '1'), 10);
  const page = Math.min(pages, Math.max(1, Number.isFinite(n) ? n : 1));
  const items = all.slice((page - 1) * size, page * size);
  return { items, page, pages, total: all.length, from: items.length ? (page - 1) * size + 1 : 0, to: (page - 1) * size + items.length };
}
