/**
 * The circuit breaker for authentication and configuration failures.
 *
 *   closed --(first auth_failed / misconfigured / forbidden answer)--> open: queue paused for every worker,
 *                                                                state kept in Redis with the why
 *   open --(probe succeeds, or `dcs-cleanup resume`)--> closed: queue resumed
 *
 * Huawei locks an AK/SK for 5 minutes after more than 5 failed authentications in a row, so the
 * first failure must stop all sending: the queue is paused (no worker fetches), every process learns
 * it at once from a Redis pub/sub message, and in-flight jobs check `isOpen()` before each request.
 * While open, one process at a time (a Redis lock) probes with one cheap signed call per interval.
 *
 * Pauses and resumes made without the breaker (`dcs-cleanup resume`, the API, Bull Board) publish
 * nothing: listening processes also re-read the queue's paused flag every 500 ms, and a job that
 * arrives while the local view says open re-reads it at once (a job handed out means the queue ran).
 * BullMQ queue events would tell the same, but every process would then parse every job's events,
 * a CPU cost per job and process close to BullMQ's own (measured in bench/README.md, 0a51436).
 */
import type { Queue } from 'bullmq';
import type { RedisClient } from './redis-connection.js';
import { QUEUE_NAME } from './job-contract.js';

export interface CircuitState {
  open: boolean;
  /** The verdict that opened it: `auth_failed`, `misconfigured` or `forbidden` (or `manual`). */
  action?: string;
  reason?: string;
  http_status?: number;
  error_code?: string;
  request_id?: string;
  project_id?: string;
  region?: string;
  /** The refused task, for a `forbidden` pause: its DELETE is the probe. */
  instance_id?: string;
  task_id?: string;
  opened_at?: string;
}

export interface CircuitBreaker {
  /** This process's view, updated at once by open() and close(), and by other processes (see header). */
  isOpen(): boolean;
  /** Re-reads the queue's paused flag now (unless this process is opening or closing); resolves isOpen(). */
  refresh(): Promise<boolean>;
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
  connection: RedisClient;
  prefix: string;
  queue: Queue;
  /** Follow other processes' pauses and resumes (workers); producers and the CLI do not need it. */
  listen?: boolean;
  /** How often a listening process re-reads the paused flag (default 500 ms). */
  followIntervalMs?: number;
  /**
   * Told when this process opens the breaker (first opener only) or closes it: the
   * `breaker.opened` and `breaker.closed` events (src/events). Never awaited, never throws here.
   */
  onTransition?: (transition: 'opened' | 'closed', state: CircuitState) => void;
}

const OPEN_SCRIPT = `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`;

/** The breaker's Redis hash for one account's queue (`dcs-cleanup` for the default account). */
export function circuitKey(prefix: string, queueName: string = QUEUE_NAME): string {
  return `${prefix}:${queueName}:circuit`;
}

/** The one reader of the breaker's hash: closed when it is absent. */
export async function readCircuitState(
  connection: RedisClient,
  prefix: string,
  queueName: string = QUEUE_NAME,
): Promise<CircuitState> {
  const raw = await connection.hgetall(circuitKey(prefix, queueName));
  if (Object.keys(raw).length === 0) return { open: false };
  return {
    open: true,
    ...raw,
    http_status:
      raw.http_status === undefined || raw.http_status === '' ? undefined : Number(raw.http_status),
  };
}

const OPENED = 'open';
const CLOSED = 'closed';

export async function createCircuitBreaker(options: CircuitBreakerOptions): Promise<CircuitBreaker> {
  const { connection, queue } = options;
  // One breaker per account queue: B's refusal pauses only B's queue.
  const key = circuitKey(options.prefix, queue.name);
  const lockKey = `${key}:probe-lock`;
  const closeListeners: (() => void)[] = [];
  const channel = `${key}:events`;
  let open = false;
  let timer: NodeJS.Timeout | undefined;
  let follower: NodeJS.Timeout | undefined;
  let subscriber: RedisClient | undefined;
  // A re-read of the paused flag must not undo a transition made meanwhile, or under way here
  // (between open()'s first line and its queue.pause(), the flag still says "running").
  let version = 0;
  let transitions = 0;

  const setOpen = (value: boolean): void => {
    version++;
    const wasOpen = open;
    open = value;
    if (wasOpen && !value) for (const l of closeListeners) l();
  };

  async function transition(body: () => Promise<void>): Promise<void> {
    transitions++;
    try {
      await body();
    } finally {
      transitions--;
    }
  }

  async function refresh(): Promise<boolean> {
    if (transitions > 0) return open;
    const seen = version;
    const paused = await queue.isPaused();
    if (seen === version && transitions === 0 && paused !== open) setOpen(paused);
    return open;
  }

  const announce = (message: string): Promise<unknown> => connection.publish(channel, message).catch(() => 0);

  async function close(): Promise<void> {
    const before = options.onTransition ? await read().catch(() => undefined) : undefined;
    await transition(async () => {
      await connection.del(key);
      await queue.resume();
      setOpen(false);
      await announce(CLOSED);
    });
    if (before?.open) options.onTransition?.('closed', { ...before, open: false });
  }

  const read = (): Promise<CircuitState> => readCircuitState(connection, options.prefix, queue.name);

  if (options.listen ?? false) {
    subscriber = connection.duplicate();
    // A duplicate does not inherit listeners: without one, ioredis prints every reconnect failure.
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, message: string) => setOpen(message === OPENED));
    await subscriber.subscribe(channel);
    follower = setInterval(() => {
      refresh().catch(() => undefined);
    }, options.followIntervalMs ?? 500);
    follower.unref();
  }
  setOpen((await read()).open);

  return {
    isOpen: () => open,
    refresh,
    async open(state) {
      let first = false;
      await transition(async () => {
        setOpen(true);
        const fields: Record<string, string> = { opened_at: new Date().toISOString() };
        for (const [k, v] of Object.entries(state)) if (v !== undefined) fields[k] = String(v);
        // Written in one step only when absent: the first opener's why is kept, and only it logs fatal.
        first = (await connection.eval(OPEN_SCRIPT, 1, key, ...Object.entries(fields).flat())) === 1;
        await queue.pause();
        await announce(OPENED);
      });
      if (first)
        options.onTransition?.('opened', { open: true, ...state, opened_at: new Date().toISOString() });
      return first;
    },
    close,
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
        if (await probe(state)) await close();
      };
      timer = setInterval(() => {
        tick().catch(() => undefined);
      }, intervalMs);
      timer.unref();
    },
    onClose(listener) {
      closeListeners.push(listener);
    },
    stop() {
      if (timer) clearInterval(timer);
      if (follower) clearInterval(follower);
      // disconnect, not quit: a quit would wait for a Redis that may be gone.
      subscriber?.disconnect();
      return Promise.resolve();
    },
  };
}
