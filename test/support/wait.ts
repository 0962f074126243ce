// Polls until a value is what a test waits for, or the time is up (then returns the last value, for the assertion to show).
export async function waitFor<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
