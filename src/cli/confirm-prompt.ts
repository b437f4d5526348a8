import { createInterface } from 'node:readline/promises';

/** True when a person can answer a prompt: stdin and stderr are both terminals. */
export function isInteractiveTerminal(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

/**
 * Asks `question` on the terminal; true only for an explicit "yes" (or "y"). The prompt goes to
 * stderr so stdout stays the command's output.
 */
export async function askConfirmation(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
