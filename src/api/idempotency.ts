/**
 * `Idempotency-Key` on the POST routes that start work (`/v1/deletions`, `/v1/purges`, `/v1/events`):
 * the same key with the same body within 24 h answers the first answer again (status and body, with
 * `Idempotent-Replayed: true`) and starts nothing; the same key with another body is 422
 * IDEMPOTENCY_KEY_REUSED; a second request while the first still runs is 409 IDEMPOTENCY_KEY_IN_USE.
 *
 * Keys are scoped per token label and route, and stored only as a digest:
 * `<prefix>:idempotency:<sha256(label, route, key)>`, a JSON string. The first request claims the key
 * with SET NX (`pending`, a short TTL, so a crash does not hold the key for a day), runs, then
 * writes its answer for 24 h. Only success answers are kept: after an error the key is released
 * and a retry runs again (an error started nothing to repeat).
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RedisClient } from '../queue/redis-connection.js';
import { ApiError } from './api-error.js';
import { withRedis } from './redis-guard.js';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const IDEMPOTENCY_TTL_SEC = 24 * 3600;
/** How long a claim without an answer holds the key: longer than any request (a purge's listing). */
export const IDEMPOTENCY_PENDING_TTL_SEC = 15 * 60;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export interface IdempotencyDeps {
  connection: RedisClient;
  prefix: string;
}

type Stored =
  | { state: 'pending'; body_sha256: string }
  | { state: 'done'; body_sha256: string; status: number; body: unknown };

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The Redis key of `key` presented by the token `label` on `route`: a digest, never the key. */
export function idempotencyRedisKey(prefix: string, label: string, route: string, key: string): string {
  return `${prefix}:idempotency:${sha256(JSON.stringify([label, route, key]))}`;
}

/** The request's key, undefined without the header; INVALID_INPUT naming the header when malformed. */
export function readIdempotencyKey(request: FastifyRequest): string | undefined {
  const raw = request.headers[IDEMPOTENCY_HEADER];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !KEY_PATTERN.test(raw)) {
    throw new ApiError('INVALID_INPUT', 'invalid Idempotency-Key header', [
      { field: 'Idempotency-Key', message: 'one value of 1 to 255 visible ASCII characters (a UUID, say)' },
    ]);
  }
  return raw;
}

/**
 * Runs `work` once per key: `status` is the status its result is answered with. Without the header
 * (and without a `key` of the route's own, such as a CloudEvent's source and id) it just runs
 * `work`. `body` is the validated request body (its digest tells two bodies apart).
 */
export async function runIdempotent<T>(
  deps: IdempotencyDeps,
  call: { request: FastifyRequest; reply: FastifyReply; body: unknown; status: number; key?: string },
  work: () => Promise<T>,
): Promise<T | FastifyReply> {
  const { request, reply } = call;
  const key = readIdempotencyKey(request) ?? call.key;
  if (key === undefined) return work();
  const route = `${request.method} ${request.routeOptions.url ?? request.url}`;
  const redisKey = idempotencyRedisKey(deps.prefix, request.tokenLabel ?? '', route, key);
  const bodySha = sha256(JSON.stringify(call.body ?? null));
  const pending: Stored = { state: 'pending', body_sha256: bodySha };
  const { connection } = deps;
  for (let tries = 0; ; tries++) {
    const claimed = await withRedis(connection, () =>
      connection.set(redisKey, JSON.stringify(pending), 'EX', IDEMPOTENCY_PENDING_TTL_SEC, 'NX'),
    );
    if (claimed === 'OK') break;
    const text = await withRedis(connection, () => connection.get(redisKey));
    // Expired or released between the two calls: claim again (twice at most).
    if (text === null && tries < 2) continue;
    const stored = parseStored(text);
    if (stored === undefined || stored.body_sha256 !== bodySha) {
      throw new ApiError(
        'IDEMPOTENCY_KEY_REUSED',
        'this Idempotency-Key was used with another request body within 24 h: use a new key for a new request',
      );
    }
    if (stored.state === 'pending') {
      throw new ApiError(
        'IDEMPOTENCY_KEY_IN_USE',
        'a request with this Idempotency-Key is still running: retry once it answered',
      );
    }
    return reply.status(stored.status).header('idempotent-replayed', 'true').send(stored.body);
  }
  let result: T;
  try {
    result = await work();
  } catch (err) {
    await connection.del(redisKey).catch(() => 0);
    throw err;
  }
  if (reply.sent) {
    await connection.del(redisKey).catch(() => 0);
    return result;
  }
  // A handler answering another success than the contract's first one sets it on the reply (a purge's 202).
  const status = reply.statusCode === 200 ? call.status : reply.statusCode;
  const done: Stored = { state: 'done', body_sha256: bodySha, status, body: result };
  await withRedis(connection, () =>
    connection.set(redisKey, JSON.stringify(done), 'EX', IDEMPOTENCY_TTL_SEC),
  );
  return result;
}

function parseStored(text: string | null): Stored | undefined {
  if (text === null) return undefined;
  try {
    const value = JSON.parse(text) as Partial<Stored>;
    return typeof value.body_sha256 === 'string' ? (value as Stored) : undefined;
  } catch {
    return undefined;
  }
}
