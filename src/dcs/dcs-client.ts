import { Pool } from 'undici';
import { findEndpointProblem } from '../config/config.js';
import { CleanupError } from '../errors.js';
import { createStaticCredentialProvider, type CredentialProvider } from '../huawei/credential-provider.js';
import { Credentials } from '../huawei/credentials.js';
import type { QueryParams } from '../huawei/signer.js';
import type { Logger } from '../observability/logger.js';
import type { AttemptOutcome } from './attempt-outcome.js';
import { DEFAULT_RETRY_TIMING, type RetryTiming } from './retry-loop.js';
import { MAX_LIST_BODY_BYTES, fetchPageWithRetries, type PageParser } from './fetch-page.js';
import { validateId } from './ids.js';
import { performSignedCall, type CallContext, type SignedCall } from './perform-signed-call.js';
import { RequestDeadlines } from './request-deadlines.js';
import { parseInstancePage, parseTaskPage, type DcsInstance, type DcsTask } from './schemas.js';

export type { AttemptOutcome } from './attempt-outcome.js';
export type { DcsInstance, DcsTask } from './schemas.js';

/** The list calls' documented maximum `limit`; the default page size, as calls are rate-limited. */
export const MAX_PAGE_SIZE = 1000;

export interface DcsClientOptions {
  /** Base URL, e.g. `https://dcs.cn-north-4.myhuaweicloud.com`; plain http only to loopback. */
  endpoint: string;
  /** Fixed keys, or a provider that refreshes them (every call asks it). */
  credentials: Credentials | CredentialProvider;
  /** Defaults 5 s, 15 s, 15 s. */
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /** Overall deadline of one call, from dispatch to the last body byte (default 30 s). */
  requestTimeoutMs?: number;
  /** Most sockets kept open to the endpoint (default 128). */
  connections?: number;
  /** Clock for X-Sdk-Date and HTTP-date Retry-After (default: the system clock). */
  now?: () => Date;
  /** Gets one debug record per call: method, path, status, error_code, request_id, duration_ms. */
  logger?: Logger;
  /** Most bytes read of an error body (default 64 KiB); past that the connection is dropped. */
  maxErrorBodyBytes?: number;
  /** Retries of one list page after a transient answer (5xx, timeout, 429, busy); default 4. */
  pageRetries?: number;
  /** The waits between those retries: the retry policy's in-process timing (default DEFAULT_RETRY_TIMING). */
  retryTiming?: RetryTiming;
}

export interface TaskRef {
  projectId: string;
  instanceId: string;
  taskId: string;
}

export interface InstanceRef {
  projectId: string;
  instanceId: string;
}

export interface CallOptions {
  /** Aborts the call, even in flight; the outcome is then a network error of kind `aborted`. */
  signal?: AbortSignal;
  /** W3C trace id of the job's caller: written into the call's debug record (`trace_id`). */
  traceId?: string | undefined;
}

export interface ListTasksOptions extends CallOptions {
  /** Window on the task's creation time, sent as `start_time` / `end_time` (UTC). */
  startTime?: Date;
  endTime?: Date;
  /** 1..1000, default 1000. */
  pageSize?: number;
}

export interface ListInstancesOptions extends CallOptions {
  pageSize?: number;
}

export type ProbeOutcome = AttemptOutcome & { ok: boolean };

/** A signed DCS REST client on one keep-alive undici Pool. Call `close()` when done. */
export interface DcsClient {
  /**
   * One signed DELETE. Never throws for HTTP or network failures: the outcome says what happened.
   * Throws INVALID_ID (nothing sent) when an id is invalid.
   */
  deleteBackgroundTask(ref: TaskRef, options?: CallOptions): Promise<AttemptOutcome>;
  /**
   * Every task of an instance, page by page (offset/limit). Throws INVALID_ID or INVALID_INPUT at
   * the call; a failed page throws DcsRequestError (DCS_PROTOCOL for an unreadable success body).
   * Offsets shift when tasks are deleted meanwhile: list first, then delete.
   */
  listBackgroundTasks(ref: InstanceRef, options?: ListTasksOptions): AsyncIterable<DcsTask>;
  /** Every instance of the project, page by page; errors as for listBackgroundTasks. */
  listInstances(projectId: string, options?: ListInstancesOptions): AsyncIterable<DcsInstance>;
  /** One cheap signed call (`GET instances?offset=0&limit=1`); `ok` when DCS answered 2xx. */
  probe(projectId: string, options?: CallOptions): Promise<ProbeOutcome>;
  /** Waits for calls in flight, then closes every socket. */
  close(): Promise<void>;
  /** True once close() was called: every later call fails at once, nothing is sent. */
  readonly closed: boolean;
}

/** Creates the client and its connection pool (no socket is opened before the first call). */
export function createDcsClient(options: DcsClientOptions): DcsClient {
  const base = parseEndpoint(options.endpoint);
  const pool = new Pool(base.origin, {
    connections: options.connections ?? 128,
    pipelining: 1,
    connect: { timeout: options.connectTimeoutMs ?? 5_000 },
    headersTimeout: options.headersTimeoutMs ?? 15_000,
    bodyTimeout: options.bodyTimeoutMs ?? 15_000,
  });
  const context: CallContext = {
    dispatcher: pool,
    origin: base.origin,
    basePath: base.path,
    credentials:
      options.credentials instanceof Credentials
        ? createStaticCredentialProvider(options.credentials)
        : options.credentials,
    now: options.now ?? (() => new Date()),
    logger: options.logger,
    maxErrorBodyBytes: options.maxErrorBodyBytes ?? 64 * 1024,
    maxSuccessBodyBytes: MAX_LIST_BODY_BYTES,
    deadlines: new RequestDeadlines(options.requestTimeoutMs ?? 30_000),
  };
  const pageRetry = {
    retries: options.pageRetries ?? 4,
    timing: options.retryTiming ?? DEFAULT_RETRY_TIMING,
  };
  let closing: Promise<void> | undefined;

  async function* paginate<T>(call: SignedCall, pageSize: number, parse: PageParser<T>): AsyncGenerator<T> {
    let offset = 0;
    for (;;) {
      const query = { ...call.query, offset, limit: pageSize };
      const page = await fetchPageWithRetries(context, { ...call, query }, parse, pageRetry);
      yield* page.items;
      offset += page.items.length;
      // A short page is the last one; the total spares a request for an empty page after a full one.
      if (page.items.length < pageSize || offset >= page.total) return;
    }
  }

  return {
    async deleteBackgroundTask(ref, callOptions) {
      const projectId = validateId(ref.projectId, 'project_id');
      const instanceId = validateId(ref.instanceId, 'instance_id');
      const taskId = validateId(ref.taskId, 'task_id');
      const { outcome } = await performSignedCall(context, {
        method: 'DELETE',
        path: `/v2/${projectId}/instances/${instanceId}/tasks/${taskId}`,
        projectId,
        signal: callOptions?.signal,
        keepSuccessBody: false,
        traceId: callOptions?.traceId,
      });
      return outcome;
    },

    listBackgroundTasks(ref, listOptions = {}) {
      const projectId = validateId(ref.projectId, 'project_id');
      const instanceId = validateId(ref.instanceId, 'instance_id');
      const call: SignedCall = {
        method: 'GET',
        path: `/v2/${projectId}/instances/${instanceId}/tasks`,
        query: buildWindowQuery(listOptions.startTime, listOptions.endTime),
        projectId,
        signal: listOptions.signal,
        keepSuccessBody: true,
      };
      const pageSize = checkPageSize(listOptions.pageSize);
      return paginate(call, pageSize, (text) => parseTaskPage(text, { projectId, instanceId }));
    },

    listInstances(projectIdInput, listOptions = {}) {
      const projectId = validateId(projectIdInput, 'project_id');
      const path = `/v2/${projectId}/instances`;
      const call: SignedCall = {
        method: 'GET',
        path,
        projectId,
        signal: listOptions.signal,
        keepSuccessBody: true,
      };
      return paginate(call, checkPageSize(listOptions.pageSize), (text) =>
        parseInstancePage(text, projectId),
      );
    },

    async probe(projectIdInput, callOptions) {
      const projectId = validateId(projectIdInput, 'project_id');
      const { outcome } = await performSignedCall(context, {
        method: 'GET',
        path: `/v2/${projectId}/instances`,
        query: { offset: 0, limit: 1 },
        projectId,
        signal: callOptions?.signal,
        keepSuccessBody: false,
      });
      return {
        ...outcome,
        ok: outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300,
      };
    },

    get closed() {
      return closing !== undefined;
    },

    close() {
      closing ??= pool.close().finally(() => context.deadlines.close());
      return closing;
    },
  };
}

function parseEndpoint(endpoint: string): { origin: string; path: string } {
  const problem = findEndpointProblem(endpoint);
  if (problem !== undefined) {
    throw new CleanupError(
      'INVALID_CONFIG',
      `endpoint ${problem}, got ${JSON.stringify(endpoint.slice(0, 80))}`,
      {
        field: 'endpoint',
      },
    );
  }
  const url = new URL(endpoint);
  return { origin: url.origin, path: url.pathname.replace(/\/+$/, '') };
}

function checkPageSize(pageSize: number | undefined): number {
  if (pageSize === undefined) return MAX_PAGE_SIZE;
  if (Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= MAX_PAGE_SIZE) return pageSize;
  throw new CleanupError('INVALID_INPUT', `pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}`, {
    field: 'pageSize',
  });
}

/** The list-tasks window: `start_time` / `end_time` as `yyyyMMddHHmmss` in UTC. */
function buildWindowQuery(startTime: Date | undefined, endTime: Date | undefined): QueryParams {
  const start = formatWindowTime(startTime, 'startTime');
  const end = formatWindowTime(endTime, 'endTime');
  if (start !== undefined && end !== undefined && start > end) {
    throw new CleanupError('INVALID_INPUT', 'startTime must not be after endTime', { field: 'startTime' });
  }
  return { start_time: start, end_time: end };
}

function formatWindowTime(date: Date | undefined, field: string): string | undefined {
  if (date === undefined) return undefined;
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new CleanupError('INVALID_INPUT', `${field} must be a valid Date`, { field });
  }
  return date.toISOString().replace(/\D/g, '').slice(0, 14);
}
