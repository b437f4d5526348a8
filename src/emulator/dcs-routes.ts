/**
 * The three DCS calls, answered from the inventory. Checks run in the order a request's parts are
 * validated (path ids, then query, then existence):
 *
 *   DELETE /v2/{project_id}/instances/{instance_id}/tasks/{task_id}
 *     instance id not a UUID        -> 400 111400061
 *     task id not 32 hex            -> 400 111400070
 *     project or instance unknown   -> 404 111404022 (the path's project is authoritative)
 *     task unknown on the instance  -> 404 111404023 (undocumented at Huawei: this emulator's choice;
 *                                      the classifier reads any such 404 as "already gone")
 *     task EXECUTING/WAITING/CREATED -> 400 111400017 (a background task is running: try later)
 *     otherwise the task is removed -> 200 {"message":""} (or 204 without a body, by option)
 *   GET /v2/{project_id}/instances/{instance_id}/tasks?offset&limit&start_time&end_time
 *     newest first; the time window filters `created_at`, both ends inclusive to the second
 *   GET /v2/{project_id}/instances?offset&limit   (insertion order)
 *
 * Bad `offset`/`limit`/`start_time`/`end_time` -> 400 111400063.
 */
import type { EmulatorState, TimeWindow } from './emulator-state.js';
import type { ApiRoute } from './fault-injector.js';
import { FINAL_TASK_STATUSES, INSTANCE_ID_PATTERN, TASK_ID_PATTERN } from './state-file.js';

export interface MatchedRoute {
  route: ApiRoute;
  projectId: string;
  instanceId?: string;
  taskId?: string;
}

/** Either a body to send with `status`, or an error code; `deleted` when a task was removed. */
export interface DcsAnswer {
  status: number;
  body?: string;
  errorCode?: string;
  deleted?: boolean;
}

const DELETED_BODY = '{"message":""}';
const TIME_PATTERN = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;

/** The API a method and path name, or undefined (the gateway's 404 APIGW.0101). */
export function matchDcsRoute(method: string | undefined, path: string): MatchedRoute | undefined {
  const s = path.split('/');
  if (s[0] !== '' || s[1] !== 'v2' || s[3] !== 'instances' || !s[2]) return undefined;
  const projectId = s[2];
  if (s.length === 4 && method === 'GET') return { route: 'listInstances', projectId };
  if (s[5] !== 'tasks' || !s[4]) return undefined;
  if (s.length === 6 && method === 'GET') return { route: 'listTasks', projectId, instanceId: s[4] };
  if (s.length === 7 && s[6] && method === 'DELETE') {
    return { route: 'delete', projectId, instanceId: s[4], taskId: s[6] };
  }
  return undefined;
}

export interface AnswerOptions {
  deleteSuccessStatus: 200 | 204;
}

/** Answers a matched, authenticated, unthrottled request from `state`. */
export function answerDcsRoute(
  state: EmulatorState,
  match: MatchedRoute,
  query: URLSearchParams,
  options: AnswerOptions,
): DcsAnswer {
  if (match.route === 'listInstances') return listInstances(state, match.projectId, query);
  const instanceId = match.instanceId ?? '';
  if (!INSTANCE_ID_PATTERN.test(instanceId)) return { status: 400, errorCode: '111400061' };
  if (match.route === 'listTasks') return listTasks(state, match.projectId, instanceId, query);
  return deleteTask(state, match.projectId, instanceId, match.taskId ?? '', options);
}

function deleteTask(
  state: EmulatorState,
  projectId: string,
  instanceId: string,
  taskId: string,
  options: AnswerOptions,
): DcsAnswer {
  if (!TASK_ID_PATTERN.test(taskId)) return { status: 400, errorCode: '111400070' };
  const instance = state.findInstance(instanceId);
  if (instance === undefined || instance.projectId !== projectId)
    return { status: 404, errorCode: '111404022' };
  const task = instance.tasks.get(taskId);
  if (task === undefined) return { status: 404, errorCode: '111404023' };
  if (!FINAL_TASK_STATUSES.has(task.task.status)) return { status: 400, errorCode: '111400017' };
  state.deleteTask(taskId);
  return options.deleteSuccessStatus === 204
    ? { status: 204, body: '', deleted: true }
    : { status: 200, body: DELETED_BODY, deleted: true };
}

function listTasks(
  state: EmulatorState,
  projectId: string,
  instanceId: string,
  query: URLSearchParams,
): DcsAnswer {
  const page = parsePage(query);
  const window = parseWindow(query);
  if (page === undefined || window === undefined) return { status: 400, errorCode: '111400063' };
  const instance = state.findInstance(instanceId);
  if (instance === undefined || instance.projectId !== projectId)
    return { status: 404, errorCode: '111404022' };
  const tasks = state.listTasks(instance, window);
  const slice = tasks.slice(page.offset, page.offset + page.limit).map((t) => t.task);
  return { status: 200, body: JSON.stringify({ task_count: String(tasks.length), tasks: slice }) };
}

function listInstances(state: EmulatorState, projectId: string, query: URLSearchParams): DcsAnswer {
  const page = parsePage(query);
  if (page === undefined) return { status: 400, errorCode: '111400063' };
  if (!state.hasProject(projectId)) return { status: 404, errorCode: '111404022' };
  const instances = state.listInstances(projectId);
  const slice = instances.slice(page.offset, page.offset + page.limit);
  return { status: 200, body: JSON.stringify({ instance_num: instances.length, instances: slice }) };
}

/** `offset` >= 0 (default 0) and `limit` 1..1000 (default 10), decimal digits only. */
export function parsePage(query: URLSearchParams): { offset: number; limit: number } | undefined {
  const offset = parseInteger(query.get('offset'), 0);
  const limit = parseInteger(query.get('limit'), 10);
  if (offset === undefined || limit === undefined || limit < 1 || limit > 1000) return undefined;
  return { offset, limit };
}

/** `start_time`/`end_time` as `yyyyMMddHHmmss` UTC; undefined when either is malformed or start > end. */
export function parseWindow(query: URLSearchParams): TimeWindow | undefined {
  const start = query.get('start_time');
  const end = query.get('end_time');
  const startMs = start === null ? undefined : parseCompactTime(start);
  const endSecondMs = end === null ? undefined : parseCompactTime(end);
  if (Number.isNaN(startMs) || Number.isNaN(endSecondMs)) return undefined;
  // The end second is inclusive: created_at carries milliseconds.
  const endMs = endSecondMs === undefined ? undefined : endSecondMs + 999;
  if (startMs !== undefined && endMs !== undefined && startMs > endMs) return undefined;
  return { startMs, endMs };
}

/** Ms since the epoch of a `yyyyMMddHHmmss` UTC time; NaN when malformed or not a real date. */
export function parseCompactTime(value: string): number {
  const m = TIME_PATTERN.exec(value);
  if (!m) return NaN;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const date = new Date(ms);
  const exact = date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && date.getUTCHours() === h;
  return exact && mi < 60 && s < 60 ? ms : NaN;
}

function parseInteger(value: string | null, fallback: number): number | undefined {
  if (value === null) return fallback;
  if (!/^\d{1,9}$/.test(value)) return undefined;
  return Number(value);
}
