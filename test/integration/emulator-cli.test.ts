import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { callSigned, send, taskPath } from './emulator-support.js';

const CLI = new URL('../../dist/bin/cli.js', import.meta.url);
// `npm test` builds first; a bare `vitest run` without dist/ skips this file rather than test stale code.
const built = existsSync(new URL('../../dist/cli/emulator-command.js', import.meta.url));

let child: ChildProcess | undefined;

afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
});

function startCli(args: string[]): { child: ChildProcess; firstLine: Promise<string>; stderr: () => string } {
  const proc = spawn(process.execPath, [CLI.pathname, 'emulator', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: proc.stdout });
  const firstLine = new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`exited ${code} before its first line: ${stderr}`)));
  });
  firstLine.catch(() => undefined);
  return { child: proc, firstLine, stderr: () => stderr };
}

describe.skipIf(!built)('dcs-cleanup emulator (built CLI)', () => {
  it('prints its URL and ids as one JSON line, serves signed calls with the flags given, and stops on SIGTERM', async () => {
    const cli = startCli([
      '--port',
      '0',
      '--instances',
      '2',
      '--tasks-per-instance',
      '4',
      '--fail-rate',
      '1',
    ]);
    cli.child.stdout!.resume();
    const started = JSON.parse(await cli.firstLine);
    expect(started).toMatchObject({
      event: 'emulator_started',
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      projects: [
        {
          project_id: expect.stringMatching(/^[0-9a-f]{32}$/),
          instance_ids: [expect.any(String), expect.any(String)],
        },
      ],
      tasks: 8,
    });
    expect(cli.stderr()).toMatch(/demo AK\/SK/);
    const [instanceId] = started.projects[0].instance_ids;
    const path = taskPath(instanceId, '0'.repeat(32), started.projects[0].project_id);
    expect((await callSigned(started.url, 'DELETE', path)).status).toBeGreaterThanOrEqual(500);
    expect((await send('GET', `${started.url}/__emulator/stats`)).json().deletions.requestsByTask).toEqual({
      ['0'.repeat(32)]: 1,
    });
    const exited = once(cli.child, 'exit');
    cli.child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
  });
});
