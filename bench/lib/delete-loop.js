/**
 * Sends signed DELETEs for a range of inventory tasks, `concurrency` at a time, without any queue.
 * Env BENCH_LOOP (JSON): { mode, url, concurrency, tasksPerInstance }, where mode is
 *   plain  undici Pool.request and a minimal inline signer (the least a signed DELETE can cost);
 *   ours   this project's DCS client (createDcsClient().deleteBackgroundTask);
 *   sdk    the official @huaweicloud/huaweicloud-sdk-core (its AK/SK signer and its axios stack).
 * Protocol: prints `ready` once set up; then each stdin line `<from> <count>` runs one batch and
 * answers one JSON line {wallMs, statuses}; exits when stdin ends. The orchestrator reads its CPU
 * from /proc before the request and after the answer.
 */
import { createHash, createHmac } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';
import { createDcsClient } from '../../dist/dcs/dcs-client.js';
import { Credentials } from '../../dist/huawei/credentials.js';
import { CREDENTIALS, PROJECT_ID, listTasks } from './inventory.js';

const options = JSON.parse(process.env.BENCH_LOOP ?? '{}');
const send = await createSender(options.mode, options.url, options.concurrency);

process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  const [from, count] = line.split(' ').map(Number);
  const result = await runBatch(listTasks(options.tasksPerInstance, from, count));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
process.exit(0);

/** Sends every task's DELETE, `options.concurrency` at a time. */
async function runBatch(tasks) {
  const statuses = {};
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < tasks.length) {
        const status = await send(tasks[next++]);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  return { wallMs: performance.now() - started, statuses };
}

async function createSender(mode, url, concurrency) {
  if (mode === 'plain') return createPlainSender(url, concurrency);
  if (mode === 'ours') {
    const client = createDcsClient({
      endpoint: url,
      credentials: new Credentials(CREDENTIALS.ak, CREDENTIALS.sk),
    });
    return async (t) => {
      const outcome = await client.deleteBackgroundTask({
        projectId: t.project_id,
        instanceId: t.instance_id,
        taskId: t.task_id,
      });
      return outcome.status ?? outcome.networkError;
    };
  }
  if (mode === 'sdk') return createSdkSender(url);
  throw new Error(`unknown mode ${mode}`);
}

/** undici's plain request API and the fewest steps of SDK-HMAC-SHA256 for a bodiless DELETE. */
function createPlainSender(url, concurrency) {
  const { host } = new URL(url);
  const pool = new Pool(url, { connections: concurrency });
  const emptyBodyHash = createHash('sha256').digest('hex');
  let second = 0;
  let sdkDate = '';
  return async (t) => {
    const nowMs = Date.now();
    if (Math.floor(nowMs / 1000) !== second) {
      second = Math.floor(nowMs / 1000);
      sdkDate = new Date(nowMs).toISOString().replace(/[-:]|\.\d{3}/g, '');
    }
    const path = `/v2/${t.project_id}/instances/${t.instance_id}/tasks/${t.task_id}`;
    const canonical = `DELETE\n${path}/\n\ncontent-type:application/json\nhost:${host}\nx-project-id:${t.project_id}\nx-sdk-date:${sdkDate}\n\ncontent-type;host;x-project-id;x-sdk-date\n${emptyBodyHash}`;
    const hash = createHash('sha256').update(canonical).digest('hex');
    const signature = createHmac('sha256', CREDENTIALS.sk)
      .update(`SDK-HMAC-SHA256\n${sdkDate}\n${hash}`)
      .digest('hex');
    const { statusCode, body } = await pool.request({
      method: 'DELETE',
      path,
      headers: {
        'content-type': 'application/json',
        host,
        'x-project-id': t.project_id,
        'x-sdk-date': sdkDate,
        authorization: `SDK-HMAC-SHA256 Access=${CREDENTIALS.ak}, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=${signature}`,
      },
    });
    await body.dump();
    return statusCode;
  };
}

/**
 * The official SDK's client stack (HcClient: AK/SK signing, axios over Node's keep-alive agent), wired as
 * its ClientBuilder.build() wires it. The builder itself cannot load in 3.1.211: its user-agent module
 * requires `uuid`, which the package does not declare.
 */
async function createSdkSender(url) {
  const { BasicCredentials } = await import('@huaweicloud/huaweicloud-sdk-core/auth/BasicCredentials.js');
  const { HcClient } = await import('@huaweicloud/huaweicloud-sdk-core/HcClient.js');
  const { DefaultHttpClient } = await import('@huaweicloud/huaweicloud-sdk-core/http/DefaultHttpClient.js');
  const credentials = new BasicCredentials()
    .withAk(CREDENTIALS.ak)
    .withSk(CREDENTIALS.sk)
    .withProjectId(PROJECT_ID);
  const http = new DefaultHttpClient(
    { disableSslVerification: true, headers: { 'User-Agent': 'huaweicloud-usdk-nodejs/3.0' } },
    [url],
  );
  const client = new HcClient(http).withCredential(credentials).withEndpoints([url]);
  return async (t) => {
    try {
      const response = await client.sendRequest({
        method: 'DELETE',
        url: '/v2/{project_id}/instances/{instance_id}/tasks/{task_id}',
        contentType: 'application/json',
        pathParams: { project_id: t.project_id, instance_id: t.instance_id, task_id: t.task_id },
        headers: {},
        queryParams: {},
        data: {},
      });
      return response.httpStatusCode;
    } catch (err) {
      return err.httpStatusCode ?? err.status ?? 'error';
    }
  };
}
