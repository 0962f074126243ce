// Branches and tags need fresh unpredictable bytes for every request and dialog. Drawing them from a
// pool refilled 4 KB at a time costs one CSPRNG call per few hundred tokens instead of one per token.
import { randomFillSync } from 'node:crypto';

const pool = Buffer.allocUnsafeSlow(4096);
let used = pool.length;

export function randomToken(bytes: number, encoding: 'hex' | 'base64url'): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const token = pool.toString(encoding, used, used + bytes);
  used += bytes;
  return token;
}
