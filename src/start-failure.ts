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

/** The parts a process started, stopped in reverse order, each once, a failure logged and the next stopped all the same. */
export interface Parts {
  add(name: string, stop: () => Promise<void>): void;
  /** Idempotent: a second call (a second signal) waits for the first stop. */
  stopAll(): Promise<void>;
}

type PartsLogger = Record<'info' | 'debug' | 'error', (o: object, m: string) => void>;

/** `before`: runs first when the stop begins; `level`: of each part's 'stopped' line. */
export function partsInOrder(logger: PartsLogger, opts: { before?: () => void; level?: 'info' | 'debug' } = {}): Parts {
  const parts: { name: string; stop: () => Promise<void> }[] = [];
  let stopped: Promise<void> | undefined;
  const stopParts = async () => {
    opts.before?.();
    for (const part of parts.reverse()) {
      try {
        await part.stop();
        logger[opts.level ?? 'info']({ part: part.name }, 'stopped');
      } catch (err) {
        logger.error({ part: part.name, err: (err as Error).message }, 'stop failed');
      }
    }
  };
  return {
    add: (name, stop) => void parts.push({ name, stop }),
    stopAll: () => (stopped ??= stopParts()),
  };
}
