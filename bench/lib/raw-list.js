/**
 * Baseline of the purge benchmark: list every instance of the project, then every task of each,
 * page by page (limit 1000, the purge's page size), `concurrency` instances at a time, with undici
 * and an inline signer; parse each page and count. Env BENCH_LIST (JSON): { url, concurrency }.
 * Prints {"tasks": N}.
 */
import { createHash, createHmac } from 'node:crypto';
import { Pool } from 'undici';
import { CREDENTIALS, PROJECT_ID } from './inventory.js';

const PAGE = 1000;
const { url, concurrency } = JSON.parse(process.env.BENCH_LIST ?? '{}');
const { host } = new URL(url);
const pool = new Pool(url, { connections: concurrency });
const emptyBodyHash = createHash('sha256').digest('hex');

async function get(path, offset) {
  const sdkDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const query = `limit=${PAGE}&offset=${offset}`;
  const canonical = `GET\n${path}/\n${query}\ncontent-type:application/json\nhost:${host}\nx-project-id:${PROJECT_ID}\nx-sdk-date:${sdkDate}\n\ncontent-type;host;x-project-id;x-sdk-date\n${emptyBodyHash}`;
  const hash = createHash('sha256').update(canonical).digest('hex');
  const signature = createHmac('sha256', CREDENTIALS.sk)
    .update(`SDK-HMAC-SHA256\n${sdkDate}\n${hash}`)
    .digest('hex');
  const { statusCode, body } = await pool.request({
    method: 'GET',
    path: `${path}?${query}`,
    headers: {
      'content-type': 'application/json',
      host,
      'x-project-id': PROJECT_ID,
      'x-sdk-date': sdkDate,
      authorization: `SDK-HMAC-SHA256 Access=${CREDENTIALS.ak}, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=${signature}`,
    },
  });
  if (statusCode !== 200) throw new Error(`GET ${path}: ${statusCode} ${await body.text()}`);
  return body.json();
}

async function listAll(path, field, totalOf) {
  const items = [];
  for (let offset = 0; ;) {
    const page = await get(path, offset);
    items.push(...page[field]);
    offset += page[field].length;
    if (page[field].length < PAGE || offset >= Number(totalOf(page))) return items;
  }
}

const instances = await listAll(`/v2/${PROJECT_ID}/instances`, 'instances', (p) => p.instance_num);
let next = 0;
let tasks = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < instances.length) {
      const { instance_id: id } = instances[next++];
      for (let offset = 0; ;) {
        const page = await get(`/v2/${PROJECT_ID}/instances/${id}/tasks`, offset);
        tasks += page.tasks.length;
        offset += page.tasks.length;
        if (page.tasks.length < PAGE || offset >= Number(page.task_count)) break;
      }
    }
  }),
);
await pool.close();
process.stdout.write(`${JSON.stringify({ tasks })}\n`);
