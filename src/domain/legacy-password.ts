// The legacy site's password (サービス設定ホームページ, 000 p.143/p.147): 4–8 half-width letters
// and digits, not digits only, not the current password. The shared shape rule with its limits.
import { passwordShapeRefusal } from './password.ts';

export const LEGACY_PASSWORD_MIN = 4;
export const LEGACY_PASSWORD_MAX = 8;

export type LegacyPasswordRefusal = NonNullable<ReturnType<typeof passwordShapeRefusal>>;

export function legacyPasswordRefusal(candidate: string, sameAsCurrent: boolean): LegacyPasswordRefusal | undefined {
  return passwordShapeRefusal(candidate, LEGACY_PASSWORD_MIN, LEGACY_PASSWORD_MAX, sameAsCurrent);
}
