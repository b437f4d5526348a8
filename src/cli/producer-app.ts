/**
 * What the short producer commands (`dlq`, `runs`) share: an App on a producer connection, Redis
 * checked before any work, closed after it; and output that text from elsewhere cannot drive the
 * terminal with (terminal-text.ts).
 */
import { createApp, pingRedis, type App } from '../app.js';
import { loadConfig } from '../config/config.js';
import { toTerminalSafe, toTerminalText } from './terminal-text.js';

/** Runs `body` with an App whose Redis answered PING; closes the App after it. */
export async function withProducerApp<T>(body: (app: App) => Promise<T>): Promise<T> {
  const app = createApp(loadConfig(), { role: 'producer' });
  try {
    await pingRedis(app.connection);
    return await body(app);
  } finally {
    await app.close();
  }
}

/** Prints a line, or a JSON value indented; labels, reasons and DCS text in it are made safe. */
export function printSafe(value: unknown): void {
  const text = typeof value === 'string' ? value : JSON.stringify(toTerminalSafe(value), null, 2);
  process.stdout.write(`${toTerminalText(text)}\n`);
}
