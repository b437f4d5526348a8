/**
 * Child processes and what the kernel says about them. CPU and memory of a measured process are read
 * from /proc by the orchestrator, so the measured process runs no code of ours to be measured.
 */
import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;
const DEV_NULL = openSync('/dev/null', 'w');

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../dist/bin/cli.js', import.meta.url));
const PROBE = new URL('./probe.js', import.meta.url).href;

/** Every child started by the benchmark, so an interrupted run leaves none behind. */
const children = new Set();

/** User + system CPU of `pid` in milliseconds (10 ms resolution). */
export function readCpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** Resident set size (VmRSS) and its peak (VmHWM) of `pid`, in MB. */
export function readRssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** Load averages and the machine, for the record. */
export function readLoadAverage() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

/**
 * Starts `node [nodeArgs] script args` with `env` on top of a minimal environment.
 * stdout goes to /dev/null unless `stdout: 'pipe'`; stderr is kept (last 8 KiB) for error messages.
 * With `probe: file`, bench/lib/probe.js is preloaded and appends memory samples to `file`.
 */
export function startNode(script, args, options = {}) {
  const nodeArgs = [...(options.nodeArgs ?? [])];
  const env = { PATH: process.env.PATH ?? '', ...options.env };
  if (options.probe !== undefined) {
    nodeArgs.push('--expose-gc', '--import', PROBE);
    env.BENCH_PROBE_FILE = options.probe;
  }
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd: ROOT,
    env,
    stdio: [options.stdin ?? 'ignore', options.stdout === 'pipe' ? 'pipe' : DEV_NULL, 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d.toString('utf8')).slice(-8192);
  });
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve(code ?? signal ?? -1);
    });
  });
  return { child, pid: child.pid, exited, stderr: () => stderr };
}

/** Waits for the process to exit within `timeoutMs`; kills it (SIGKILL) and throws past that. */
export async function waitForExit(proc, timeoutMs, what) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const result = await Promise.race([proc.exited, timeout]);
  clearTimeout(timer);
  if (result === 'timeout') {
    proc.child.kill('SIGKILL');
    throw new Error(`${what} did not exit within ${timeoutMs} ms; stderr: ${proc.stderr()}`);
  }
  return result;
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProcess(proc, graceMs = 10_000) {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  try {
    await waitForExit(proc, graceMs, 'child');
  } catch {
    // Killed by waitForExit.
  }
}

/** Kills every child still running (on an error or an interrupt). */
export function killAllChildren() {
  for (const child of children) child.kill('SIGKILL');
}

/** Reads the first stdout line of a child started with `stdout: 'pipe'`, within `timeoutMs`. */
export function readLines(proc) {
  const lines = [];
  const waiters = [];
  let buffer = '';
  proc.child.stdout.on('data', (d) => {
    buffer += d.toString('utf8');
    for (let i = buffer.indexOf('\n'); i !== -1; i = buffer.indexOf('\n')) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      const waiter = waiters.shift();
      if (waiter) waiter.resolve(line);
      else lines.push(line);
    }
  });
  return {
    next(timeoutMs, what) {
      if (lines.length > 0) return Promise.resolve(lines.shift());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${what}: no output within ${timeoutMs} ms; stderr: ${proc.stderr()}`)),
          timeoutMs,
        );
        const waiter = {
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        };
        waiters.push(waiter);
        void proc.exited.then((code) => {
          if (!waiters.includes(waiter)) return;
          waiters.splice(waiters.indexOf(waiter), 1);
          clearTimeout(timer);
          reject(new Error(`${what}: exited (${code}) before answering; stderr: ${proc.stderr()}`));
        });
      });
    },
  };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the process's CPU use stays under `maxMsPer100` per 100 ms twice in a row (startup done). */
export async function waitUntilQuiet(pid, timeoutMs = 10_000, maxMsPer100 = 10) {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  let last = readCpuMs(pid);
  while (quiet < 2 && Date.now() < deadline) {
    await sleep(100);
    const now = readCpuMs(pid);
    quiet = now - last <= maxMsPer100 ? quiet + 1 : 0;
    last = now;
  }
}

/**
 * Samples the CPU time of `pid` every `intervalMs` with wall-clock stamps (Date.now(), the clock BullMQ
 * stamps jobs with), until `stop()` or the process exits. `cpuBetween` then interpolates the CPU used
 * inside any window, e.g. from the first job's start to the last job's end.
 */
export function sampleCpu(pid, intervalMs = 20) {
  const samples = [];
  const take = () => {
    try {
      samples.push([Date.now(), readCpuMs(pid)]);
      return true;
    } catch {
      return false; // the process is gone
    }
  };
  take();
  const timer = setInterval(() => {
    if (!take()) clearInterval(timer);
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
    cpuBetween: (fromMs, toMs) => interpolate(samples, toMs) - interpolate(samples, fromMs),
  };
}

function interpolate(samples, atMs) {
  if (samples.length === 0) return NaN;
  if (atMs <= samples[0][0]) return samples[0][1];
  for (let i = 1; i < samples.length; i++) {
    const [t1, c1] = samples[i];
    if (atMs <= t1) {
      const [t0, c0] = samples[i - 1];
      return t1 === t0 ? c1 : c0 + ((c1 - c0) * (atMs - t0)) / (t1 - t0);
    }
  }
  return samples.at(-1)[1];
}
