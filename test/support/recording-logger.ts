import type { Logger } from '../../src/logging.js';

/** One call of a logger method: its level, its fields (none for a bare message) and its message. */
export interface LogLine {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly message: string | undefined;
}

/**
 * A logger with every level enabled that hands each line to `record`; its children are itself.
 *
 * @example
 * ```ts
 * const lines: LogLine[] = [];
 * const logger = recordingLogger((line) => lines.push(line));
 * ```
 */
export function recordingLogger(record: (line: LogLine) => void): Logger {
  const at =
    (level: string) =>
    (fields: object | string, message?: string): void => {
      if (typeof fields === 'string') record({ level, fields: {}, message: fields });
      else record({ level, fields: fields as Record<string, unknown>, message });
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    isLevelEnabled: () => true,
    child: () => logger,
  };
  return logger;
}
