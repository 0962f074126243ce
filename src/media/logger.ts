// The slice of a pino logger the media code uses, so callers can pass theirs or none.
export interface MediaLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => undefined;
export const silentLogger: MediaLogger = { debug: noop, info: noop, warn: noop, error: noop };
