/**
 * The circuit breaker for authentication and configuration failures.
 *
 *   closed --(first auth_failed / misconfigured answer)--> open: queue paused for every worker,
 *                                                                state kept in Redis with the why
 *   open --(probe succeeds, or `dcs-cleanup resume`)--> closed: queue resumed
 *
 * Huawei locks an AK/SK for 5 minutes after more than 5 failed authentications in a row, so the
 * first failure must stop all sending: the queue is paused (no worker fetches), every process learns
 * it through BullMQ queue events, and in-flight jobs check `isOpen()` before each request. While
 * open, one process at a time (a Redis lock) probes with one cheap signed call per interval.
 */
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_NAME } from './job-contract.js';

export interface CircuitState {
  open: boolean;
  /** The verdict that opened it: `auth_failed` or `misconfigured` (or `manual`). */
  action?: string;
  reason?: string;
  http_status?: number;
  error_code?: string;
  request_id?: string;
  project_id?: string;
  region?: string;
  opened_at?: string;
}

export interface CircuitBreaker {
  /** This process's view, updated at once by open() and by queue events from other processes. */
  isOpen(): boolean;
  /** Opens the breaker and pauses the queue; resolves true when this call opened it. */
  open(state: Omit<CircuitState, 'open' | 'opened_at'>): Promise<boolean>;
  /** Closes the breaker and resumes the queue. */
  close(): Promise<void>;
  read(): Promise<CircuitState>;
  /** Starts the probe loop: `probe` is called at most once per interval across all processes. */
  startProbing(probe: (state: CircuitState) => Promise<boolean>, intervalMs: number): void;
  /** Registers a callback for when the breaker closes (in any process). */
  onClose(listener: () => void): void;
  stop(): Promise<void>;
}

export interface CircuitBreakerOptions {
  connection: Redis;
  prefix: string;
  queue: Queue;
  /** Listen to other processes' pause/resume (workers); producers and the CLI do not need it. */
  listen?: boolean;
}

const OPEN_SCRIPT = `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`;

export function circuitKey(prefix: string): string {
  return `${prefix}:${QUEUE_NAME}:circuit`;
}

export async function createCircuitBreaker(options: CircuitBreakerOptions): Promise<CircuitBreaker> {
  const { connection, queue } = options;
  const key = circuitKey(options.prefix);
  const lockKey = `${key}:probe-lock`;
  const closeListeners: (() => void)[] = [];
  let open = false;
  let timer: NodeJS.Timeout | undefined;
  let events: QueueEvents | undefined;
  let eventsConnection: Redis | undefined;

  const setOpen = (value: boolean): void => {
    const wasOpen = open;
    open = value;
    if (wasOpen && !value) for (const l of closeListeners) l();
  };

  async function read(): Promise<CircuitState> {
    const raw = await connection.hgetall(key);
    if (Object.keys(raw).length === 0) return { open: false };
    return {
      open: true,
      ...raw,
      http_status: raw.http_status === undefined ? undefined : Number(raw.http_status),
    };
  }

  if (options.listen ?? false) {
    eventsConnection = connection.duplicate();
    // A duplicate does not inherit listeners: without one, ioredis prints every reconnect failure.
    eventsConnection.on('error', () => undefined);
    events = new QueueEvents(QUEUE_NAME, {
      connection: eventsConnection,
      prefix: options.prefix,
      autorun: true,
    });
    // It reconnects by itself; unheard, BullMQ would print every connection error with its stack.
    events.on('error', () => undefined);
    events.on('paused', () => setOpen(true));
    events.on('resumed', () => setOpen(false));
    await events.waitUntilReady();
  }
  setOpen((await read()).open);

  return {
    isOpen: () => open,
    async open(state) {
      setOpen(true);
      const fields: Record<string, string> = { opened_at: new Date().toISOString() };
      for (const [k, v] of Object.entries(state)) if (v !== undefined) fields[k] = String(v);
      // Written in one step only when absent: the first opener's why is kept, and only it logs fatal.
      const first = (await connection.eval(OPEN_SCRIPT, 1, key, ...Object.entries(fields).flat())) === 1;
      await queue.pause();
      return first;
    },
    async close() {
      await connection.del(key);
      await queue.resume();
      setOpen(false);
    },
    read,
    startProbing(probe, intervalMs) {
      const tick = async (): Promise<void> => {
        if (!open) return;
        const state = await read();
        if (!state.open) {
          // Someone resumed the queue by hand while we were not listening.
          setOpen(false);
          return;
        }
        const locked = await connection.set(lockKey, String(process.pid), 'PX', intervalMs, 'NX');
        if (locked !== 'OK') return;
        if (await probe(state)) {
          await connection.del(key);
          await queue.resume();
          setOpen(false);
        }
      };
      timer = setInterval(() => {
        tick().catch(() => undefined);
      }, intervalMs);
      timer.unref();
    },
    onClose(listener) {
      closeListeners.push(listener);
    },
    async stop() {
      if (timer) clearInterval(timer);
      await events?.close();
      eventsConnection?.disconnect();
    },
  };
}
