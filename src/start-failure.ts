// A part of the service that could not start, said in one line an operator can act on:
// which part, why, and what to set. The CLI prints it without a stack trace.
export class StartFailure extends Error {}

/** Runs one part's start; any failure becomes a StartFailure naming the part. */
export async function startPart<T>(part: string, hint: string | undefined, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if (err instanceof StartFailure) throw err;
    throw new StartFailure(`${part} did not start: ${describe(err)}${hint ? `; ${hint}` : ''}`, { cause: err });
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e.code === 'EADDRINUSE') return `${e.address ?? ''}${e.port ? `:${e.port}` : ''} is in use by another program`.trimStart();
  if (e.code === 'EACCES') return `permission denied (${e.message})`;
  return e.message;
}
