// Ready means every listener of the service is up. The operations port comes up before the settings
// site (and, with workers, before their listeners): until each has said it is up, /healthz answers
// 503 naming what it waits for, so a load balancer or a script waiting for 200 never meets a refused
// connection on the site.
import type { HealthCheck } from './server.ts';

export interface Readiness {
  /** The /healthz check: fails while any expected listener is not up. */
  check: HealthCheck;
  /** Marks one listener up. */
  up(name: string): void;
}

/** `listeners`: the names /healthz waits for, beyond the operations port itself. */
export function createReadiness(listeners: string[]): Readiness {
  const waiting = new Set(listeners);
  return {
    check: {
      name: 'listeners',
      async check() {
        if (waiting.size) throw new Error(`starting: waiting for ${[...waiting].join(', ')}`);
      },
    },
    up: (name) => void waiting.delete(name),
  };
}
