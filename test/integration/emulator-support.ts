import { request } from 'undici';
import { DEMO_CREDENTIALS, type Emulator } from '../../src/emulator/emulator.js';
import { Credentials } from '../../src/huawei/credentials.js';
import { buildQueryString, signRequest, type QueryParams } from '../../src/huawei/signer.js';

export const DEMO_KEY = new Credentials(DEMO_CREDENTIALS.ak, DEMO_CREDENTIALS.sk);
export const PROJECT_ID = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
export const OTHER_PROJECT_ID = 'ffeeddccbbaa99887766554433221100';

export interface CallOptions {
  query?: QueryParams;
  credentials?: Credentials;
  /** Signing time; default now. */
  at?: Date;
  /** Sent with the request and signed when the signer signs that name. */
  headers?: Record<string, string>;
  /** Changes the headers after signing (tampering, removing a signed header). */
  afterSigning?: (headers: Record<string, string>) => void;
}

export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => any;
}

/** A request signed by the project's signer, sent with undici; the whole body is read. */
export async function callSigned(base: string, method: string, path: string, options: CallOptions = {}) {
  const qs = buildQueryString(options.query);
  const url = `${base}${path}${qs ? `?${qs}` : ''}`;
  const projectId = /^\/v2\/([^/]+)/.exec(path)?.[1];
  const headers = {
    'Content-Type': 'application/json',
    ...(projectId ? { 'X-Project-Id': projectId } : {}),
    ...options.headers,
  };
  const signed = signRequest(
    { method, url, headers },
    options.credentials ?? DEMO_KEY,
    options.at ?? new Date(),
  );
  options.afterSigning?.(signed.headers);
  return send(method, url, signed.headers);
}

/** Sends as is (no signing) and reads the whole body. */
export async function send(
  method: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<CallResult> {
  const res = await request(url, { method: method as 'GET', headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
}

export function taskPath(instanceId: string, taskId: string, projectId = PROJECT_ID): string {
  return `/v2/${projectId}/instances/${instanceId}/tasks/${taskId}`;
}

export function tasksPath(instanceId: string, projectId = PROJECT_ID): string {
  return `/v2/${projectId}/instances/${instanceId}/tasks`;
}

/** A hex id of 32 characters made from `n`, so tests read which task is which. */
export function taskId(n: number): string {
  return n.toString(16).padStart(32, '0');
}

/** One instance in PROJECT_ID with the given tasks; returns the instance id. */
export function seedInstance(emulator: Emulator, tasks: Parameters<Emulator['addTasks']>[1]): string {
  const instance = emulator.addInstance(PROJECT_ID, { name: 'test-instance' });
  emulator.addTasks(instance.instance_id, tasks);
  return instance.instance_id;
}
