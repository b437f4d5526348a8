import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACTIONS, classifyAttempt, type Action, type NetworkErrorKind } from '../../src/dcs/classify.js';
import { errorCodeForOutcome } from '../../src/dcs/dcs-request-error.js';
import { ERROR_CODES } from '../../src/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

/** The rows of the first table under the heading `title`, each as its trimmed cells. */
function tableUnder(title: string): string[][] {
  const start = doc.indexOf(`\n${title}\n`);
  if (start === -1) throw new Error(`docs/errors.md has no heading ${title}`);
  const lines = doc.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

/** The backticked names in a cell: "`a`, `b`" -> ['a', 'b']. */
function names(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}

describe('docs/errors.md', () => {
  it('lists exactly the ERROR_CODES of src/errors.ts', () => {
    const documented = tableUnder('## Error codes').map((row) => names(row[0]!)[0]);
    expect([...documented].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('lists exactly the ACTIONS of the classifier, with the code a list call throws for each', () => {
    const rows = tableUnder('## Actions');
    expect(rows.map((row) => names(row[0]!)[0]).sort()).toEqual([...ACTIONS].sort());
    for (const row of rows) {
      const action = names(row[0]!)[0] as Action;
      const thrown = errorCodeForOutcome({ verdict: { action, reason: 'doc' }, status: 400, durationMs: 0 });
      expect(names(row[2]!)[0], `code for ${action}`).toBe(thrown);
    }
  });

  it('states for every row of the classifier table the action classifyAttempt gives', () => {
    const rows = tableUnder('## Classifier table');
    expect(rows.length).toBeGreaterThanOrEqual(20);
    for (const [status, codeCell, actionCell] of rows) {
      const codes = codeCell === '(none)' ? [undefined] : names(codeCell!);
      expect(codes.length, `codes of row ${status} ${codeCell}`).toBeGreaterThan(0);
      for (const errorCode of codes) {
        const verdict = classifyAttempt({ status: Number(status), errorCode });
        expect(verdict.action, `${status} ${errorCode ?? '(none)'}`).toBe(names(actionCell!)[0]);
      }
    }
  });

  it('documents every network error kind, all retried', () => {
    const kinds = tableUnder('### Network errors').map((row) => names(row[0]!)[0] as NetworkErrorKind);
    expect(kinds.sort()).toEqual(['aborted', 'dns', 'other', 'refused', 'reset', 'timeout']);
    for (const errorKind of kinds) expect(classifyAttempt({ networkError: errorKind }).action).toBe('retry');
  });
});
