// Subscribers used by the notify tests, loaded through the real provisioning path.
import type pg from 'pg';
import type { Pattern, Region } from '../../src/domain/subscriber.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';

export const CALLED = '0611112222';
export const CALLER = '0612345678';

export function subscriber(over: { number?: string; target?: string; services?: string[]; notify?: Record<string, unknown>; blocked?: string[]; pattern?: Pattern; region?: Region; id?: string } = {}) {
  const number = over.number ?? CALLED;
  return {
    id: over.id ?? `C${number}`, region: over.region ?? 'west', pattern: over.pattern ?? 'A', authUnit: 'line',
    numbers: [
      {
        number, role: 'main', services: over.services ?? ['chakushin_mail'],
        ...(over.target ? { target: over.target } : {}),
        notify: { started: true, destinations: [{ address: `pc.${number}@example.jp`, send: true }], ...over.notify },
        blocked: over.blocked ?? [],
      },
    ],
  };
}

export async function provision(pool: pg.Pool, ...contracts: ReturnType<typeof subscriber>[]): Promise<void> {
  await applyProvisioning(pool, { contracts });
}
