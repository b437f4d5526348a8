/**
 * What a service process may print: JSON log records on stdout and, on stderr, nothing but the
 * one-line `dcs-cleanup: ...` messages of the CLI. A stack trace or a raw error object printed by a
 * library breaks log shipping and may show internal paths.
 */
export function findUnstructuredOutput(stdout: string, stderr: string, max = 20): string[] {
  const bad: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      record = undefined;
    }
    if (typeof record !== 'object' || record === null || !('level' in record)) bad.push(`stdout: ${line}`);
  }
  for (const line of stderr.split('\n')) {
    if (line.trim() !== '' && !line.startsWith('dcs-cleanup: ')) bad.push(`stderr: ${line}`);
  }
  return bad.slice(0, max);
}
