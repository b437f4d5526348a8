import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/observability/logger.js';

/** A real pino logger whose JSON records are kept in memory for assertions. */
export function captureLogger(level = 'debug'): {
  logger: Logger;
  records: Record<string, any>[];
  text(): string;
} {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(line);
      done();
    },
  });
  const logger = createLogger({ level, destination: stream });
  return {
    logger,
    get records() {
      return lines.map((l) => JSON.parse(l) as Record<string, any>);
    },
    text: () => lines.join('\n'),
  };
}
