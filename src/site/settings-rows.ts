// The numbered rows of a settings form (送信先メールアドレス1..5, 発信電話番号1..30): a row whose flag
// is checked needs a value, a value must pass its rule, and no value may stand twice. Each refusal
// is keyed by the row's field, so the page shows it next to that field.
export interface RowRules {
  /** The form field of row n (address3, number12). */
  field(n: number): string;
  /** A value's refusal message, or undefined when it is acceptable. */
  refusal(value: string): string | undefined;
  flagWithoutValue: string;
  duplicate: string;
}

export function rowErrors(rows: readonly { n: number; value: string; flag: boolean }[], rules: RowRules): Record<string, string> {
  const errors: Record<string, string> = {};
  const seen = new Set<string>();
  for (const r of rows) {
    if (!r.value) {
      if (r.flag) errors[rules.field(r.n)] = rules.flagWithoutValue;
      continue;
    }
    const refusal = rules.refusal(r.value);
    if (refusal) errors[rules.field(r.n)] = refusal;
    else if (seen.has(r.value)) errors[rules.field(r.n)] = rules.duplicate;
    seen.add(r.value);
  }
  return errors;
}

/** Whether the body posts a row beyond the limit (address6, number31…): refused, not ignored. */
export function hasExtraRows(body: Record<string, unknown>, prefixes: readonly string[], max: number): boolean {
  return Object.keys(body).some((k) => prefixes.some((p) => k.startsWith(p) && /^\d+$/.test(k.slice(p.length)) && Number(k.slice(p.length)) > max));
}
