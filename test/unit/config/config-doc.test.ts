import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/config.js';

interface Row {
  defaultText: string;
  description: string;
}

/** The rows of the variables table in docs/configuration.md, by variable name. */
function readDocTable(): Map<string, Row> {
  const text = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  const rows = new Map<string, Row>();
  for (const line of text.split('\n')) {
    const match = /^\|\s*`([A-Z0-9_]+)`\s*\|\s*(.*?)\s*\|\s*(.*?)\s*\|$/.exec(line);
    if (!match) continue;
    const [, name, defaultText, description] = match as unknown as [string, string, string, string];
    expect(rows.has(name), `${name} is documented twice`).toBe(false);
    rows.set(name, { defaultText, description });
  }
  return rows;
}

/** What the schema does with an unset variable, as the doc's Default column spells it. */
function schemaDefault(name: string): string {
  const schema = configSchema.shape[name as keyof typeof configSchema.shape];
  const result = schema.safeParse(undefined);
  expect(result.success, `${name} rejects an unset value, yet the doc needs a default`).toBe(true);
  return result.data === undefined ? 'unset' : `\`${String(result.data)}\``;
}

const variables = Object.keys(configSchema.shape);
const doc = readDocTable();

describe('docs/configuration.md and configSchema', () => {
  it('reads a table and a schema that are not empty', () => {
    expect(variables.length).toBeGreaterThan(10);
    expect(doc.size).toBeGreaterThan(10);
  });

  it('documents every variable of the schema', () => {
    expect(variables.filter((name) => !doc.has(name))).toEqual([]);
  });

  it('documents no variable the schema does not have', () => {
    expect([...doc.keys()].filter((name) => !variables.includes(name))).toEqual([]);
  });

  it.each(variables)('gives the default of %s', (name) => {
    expect(doc.get(name)?.defaultText).toBe(schemaDefault(name));
  });

  it.each(variables)('describes %s in the words of the schema', (name) => {
    const description = configSchema.shape[name as keyof typeof configSchema.shape].description;
    expect(description, `${name} has no .describe() in the schema`).toBeTruthy();
    expect(doc.get(name)?.description).toBe(description);
  });
});
