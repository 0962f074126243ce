// The moment writes off the call path wait, so that those made meanwhile go in the same statement
// (database.batchWindowMs): call journal events, call records, mail claims, sent mails.

/** Resolves after `ms` (0: at the next turn of the event loop, after the I/O of this one). */
export function batchWindow(ms: number): Promise<void> {
  return new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
}
