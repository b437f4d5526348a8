/**
 * Property-based fuzzing of everything that reads input from outside (issue 7): the task-file
 * parsers, the id and payload validation, the error-body parser, the classifier and the signer.
 * On any input each either answers or throws its own typed CleanupError: never a TypeError,
 * RangeError, URIError or SyntaxError escaping from inside.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CleanupError, type ErrorCode } from '../../src/errors.js';
import { openTaskSource } from '../../src/intake/task-source.js';
import { readLineBlocks } from '../../src/intake/line-blocks.js';
import { sniffFormat } from '../../src/intake/task-format.js';
import { isValidId, validateId } from '../../src/dcs/ids.js';
import { parseJobData, parseTaskInput } from '../../src/queue/job-contract.js';
import { parseErrorBody, MAX_ERROR_MSG_CHARS } from '../../src/dcs/error-body.js';
import { ACTIONS, classifyAttempt } from '../../src/dcs/classify.js';
import { classifyNetworkError } from '../../src/dcs/network-error.js';
import { parseRetryAfter } from '../../src/dcs/retry-after.js';
import { buildNetworkOutcome, buildResponseOutcome } from '../../src/dcs/attempt-outcome.js';
import { signRequest, type QueryParams } from '../../src/huawei/signer.js';
import { Credentials } from '../../src/huawei/credentials.js';
import { loadConfig } from '../../src/config/config.js';
import { fromChunks } from '../support/byte-source.js';

const RUNS = 300;

/** Runs `fn`; passes when it returns, or throws a CleanupError with one of `codes`. */
function expectTypedOutcome<T>(fn: () => T, codes: readonly ErrorCode[]): T | undefined {
  try {
    return fn();
  } catch (err) {
    expect(err, `${String(err)}`).toBeInstanceOf(CleanupError);
    expect(codes).toContain((err as CleanupError).code);
    return undefined;
  }
}

async function expectTypedRejection(
  work: () => Promise<unknown>,
  codes: readonly ErrorCode[],
): Promise<void> {
  try {
    await work();
  } catch (err) {
    expect(err, `${String(err)}`).toBeInstanceOf(CleanupError);
    expect(codes).toContain((err as CleanupError).code);
  }
}

/** Any JavaScript value, odd prototypes and boxed values included. */
const anyValue = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withSparseArray: true,
  withNullPrototype: true,
  withObjectString: true,
  withUnicodeString: true,
});

/** Strings with the characters that break naive code: lone surrogates, NUL, controls, RTL marks. */
const nastyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({
    unit: fc.constantFrom('\uD800', '\uDFFF', '\0', '\r', '\n', '%', '/', '\u202E', '\uFEFF', 'a', 'é', '😀'),
    maxLength: 40,
  }),
);

const byteChunks = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 });

describe('task-file parsers on arbitrary bytes', () => {
  it('readLineBlocks throws nothing but INVALID_INPUT', async () => {
    await fc.assert(
      fc.asyncProperty(byteChunks, fc.integer({ min: 1, max: 64 }), async (chunks, maxLineBytes) => {
        await expectTypedRejection(async () => {
          for await (const block of readLineBlocks(fromChunks(...chunks), { maxLineBytes }))
            expect(typeof block.text).toBe('string');
        }, ['INVALID_INPUT']);
      }),
      { numRuns: RUNS },
    );
  });

  it('sniffFormat throws nothing but INVALID_INPUT and replays every byte', async () => {
    await fc.assert(
      fc.asyncProperty(byteChunks, async (chunks) => {
        await expectTypedRejection(async () => {
          const { format, source } = await sniffFormat(fromChunks(...chunks));
          expect(['csv', 'jsonl']).toContain(format);
          const replayed: number[] = [];
          for await (const chunk of source) replayed.push(...chunk);
          expect(replayed).toEqual(chunks.flatMap((c) => [...c]));
        }, ['INVALID_INPUT']);
      }),
      { numRuns: RUNS },
    );
  });

  it('a task source on stdin (sniff, spool, validate, read again) throws nothing but INVALID_INPUT', async () => {
    const text = fc
      .array(
        fc.oneof(
          nastyString,
          fc.constantFrom(
            'project_id,instance_id,task_id\n',
            '{"project_id":"p","instance_id":"i","task_id":"t"}\n',
            ',',
            '"',
            '\r\n',
          ),
        ),
        { maxLength: 12 },
      )
      .map((parts) => Buffer.from(parts.join(''), 'utf8'));
    await fc.assert(
      fc.asyncProperty(fc.oneof(text, fc.uint8Array({ maxLength: 600 })), async (bytes) => {
        const source = await openTaskSource({ path: '-', stdin: fromChunks(bytes), maxLineBytes: 256 });
        try {
          await expectTypedRejection(async () => {
            const report = await source.validate();
            let valid = 0;
            for await (const task of source.readValidTasks()) valid += task.task_id.length > 0 ? 1 : 0;
            expect(valid).toBe(report.valid);
          }, ['INVALID_INPUT']);
        } finally {
          await source.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('id and payload validation on any value', () => {
  it('isValidId answers a boolean and validateId returns the id or throws INVALID_ID naming the field', () => {
    fc.assert(
      fc.property(fc.oneof(anyValue, nastyString), nastyString, (value, field) => {
        const valid = isValidId(value);
        expect(typeof valid).toBe('boolean');
        const result = expectTypedOutcome(() => validateId(value, field), ['INVALID_ID']);
        if (valid) expect(result).toBe(value);
        else expect(result).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
  });

  it('parseTaskInput and parseJobData throw nothing but INVALID_INPUT and INVALID_JOB', () => {
    const almostTask = fc.record(
      {
        project_id: fc.oneof(anyValue, nastyString),
        instance_id: fc.oneof(anyValue, nastyString),
        task_id: fc.oneof(anyValue, nastyString),
        region: fc.oneof(anyValue, nastyString),
        schema_version: fc.oneof(fc.constant(1), anyValue),
        reason: fc.oneof(anyValue, nastyString),
        run_id: fc.oneof(anyValue, nastyString),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(anyValue, almostTask), (value) => {
        expectTypedOutcome(() => parseTaskInput(value, 'tasks[0]'), ['INVALID_INPUT']);
        expectTypedOutcome(() => parseJobData(value), ['INVALID_JOB']);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('error-body parser and classifier on any answer', () => {
  const jsonish = fc.oneof(
    fc.json({ maxDepth: 4 }),
    fc
      .record(
        { error_code: fc.jsonValue(), error_msg: fc.jsonValue(), request_id: fc.jsonValue() },
        { requiredKeys: [] },
      )
      .map((o) => JSON.stringify(o)),
    fc
      .record({
        error: fc.oneof(fc.jsonValue(), fc.record({ code: fc.jsonValue(), message: fc.jsonValue() })),
      })
      .map((o) => JSON.stringify(o)),
    nastyString,
    fc.constantFrom(
      '',
      '{',
      '<html>502 Bad Gateway</html>',
      '\uFEFF{"error_code":"111400070"}',
      '{"error_code":'.repeat(1000),
      '['.repeat(5000),
    ),
  );

  it('parseErrorBody never throws and keeps its fields short', () => {
    fc.assert(
      fc.property(fc.option(jsonish, { nil: undefined }), (text) => {
        const fields = parseErrorBody(text);
        for (const value of [fields.errorCode, fields.errorMsg, fields.requestId]) {
          if (value !== undefined) {
            expect(typeof value).toBe('string');
            expect(value.length).toBeLessThanOrEqual(MAX_ERROR_MSG_CHARS);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  const statuses = fc.oneof(fc.integer({ min: 100, max: 599 }), fc.integer(), fc.double());
  const attempt: fc.Arbitrary<Parameters<typeof classifyAttempt>[0]> = fc.oneof(
    fc.record({
      status: statuses,
      errorCode: fc.option(
        fc.oneof(nastyString, fc.constantFrom('APIGW.0308', '111400070', '111404022', 'APIGW.0101', '')),
        { nil: undefined },
      ),
    }),
    fc.record({
      networkError: fc.constantFrom('timeout', 'reset', 'refused', 'dns', 'aborted', 'other'),
    }),
  );

  it('classifyAttempt gives one of the documented actions for any result', () => {
    fc.assert(
      fc.property(attempt, (result) => {
        const verdict = classifyAttempt(result);
        expect(ACTIONS).toContain(verdict.action);
        expect(typeof verdict.reason).toBe('string');
      }),
      { numRuns: RUNS },
    );
  });

  it('builds an outcome from any status, headers and body without throwing', () => {
    const headerValue = fc.oneof(nastyString, fc.array(nastyString, { maxLength: 3 }));
    const headers = fc.dictionary(
      fc.constantFrom('retry-after', 'x-request-id', 'content-type', 'x-other'),
      headerValue,
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 599 }),
        headers,
        fc.option(jsonish, { nil: undefined }),
        fc.date(),
        (status, h, body, now) => {
          const outcome = buildResponseOutcome({ status, headers: h, errorBody: body }, now, 12);
          expect(ACTIONS).toContain(outcome.verdict.action);
          if (outcome.retryAfterMs !== undefined) expect(outcome.retryAfterMs).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('parseRetryAfter answers a non-negative number of ms or undefined', () => {
    fc.assert(
      fc.property(
        fc.option(
          fc.oneof(
            nastyString,
            fc.array(nastyString, { maxLength: 2 }),
            fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toUTCString())),
          ),
          { nil: undefined },
        ),
        fc.date(),
        (value, now) => {
          const ms = parseRetryAfter(value, now);
          if (ms !== undefined) {
            expect(Number.isFinite(ms) || Number.isNaN(now.getTime())).toBe(true);
            if (!Number.isNaN(ms)) expect(ms).toBeGreaterThanOrEqual(0);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('classifyNetworkError names a kind for any thrown value, cyclic causes included', () => {
    const cyclic = fc.constant(null).map(() => {
      const a: Record<string, unknown> = { name: 'Error', message: 'a' };
      const b: Record<string, unknown> = { cause: a, errors: [a] };
      a.cause = b;
      return a;
    });
    fc.assert(
      fc.property(
        fc.oneof(
          anyValue,
          cyclic,
          fc.record({ code: anyValue, name: anyValue, message: anyValue, cause: anyValue, errors: anyValue }),
        ),
        fc.boolean(),
        (err, aborted) => {
          expect(['timeout', 'reset', 'refused', 'dns', 'aborted', 'other']).toContain(
            classifyNetworkError(err, aborted),
          );
          expect(ACTIONS).toContain(buildNetworkOutcome(err, aborted, 1).verdict.action);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('signer on any request', () => {
  const queryValue = fc.oneof(nastyString, fc.integer(), fc.double(), fc.boolean());
  const query: fc.Arbitrary<QueryParams> = fc.dictionary(
    nastyString,
    fc.oneof(queryValue, fc.array(queryValue, { maxLength: 3 }), fc.constant(undefined)),
    { maxKeys: 5 },
  );
  const url = fc.oneof(
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc
      .array(
        fc.oneof(
          nastyString,
          fc
            .uint8Array({ maxLength: 8 })
            .map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('')),
        ),
        { maxLength: 4 },
      )
      .map((segments) => `https://dcs.cn-north-4.myhuaweicloud.com/${segments.join('/')}`),
    nastyString,
  );
  const date = fc.oneof(
    fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z') }),
    fc.date(),
  );

  it('signs, or throws INVALID_INPUT, whatever the method, URL, query, headers, body, keys and clock', () => {
    fc.assert(
      fc.property(
        nastyString,
        url,
        fc.option(query, { nil: undefined }),
        fc.dictionary(nastyString, nastyString, { maxKeys: 5 }),
        fc.option(fc.oneof(nastyString, fc.uint8Array({ maxLength: 64 })), { nil: undefined }),
        fc.tuple(nastyString, nastyString, fc.option(nastyString, { nil: undefined })),
        date,
        (method, target, q, headers, body, [ak, sk, token], now) => {
          const signed = expectTypedOutcome(
            () =>
              signRequest(
                { method, url: target, query: q, headers, body },
                new Credentials(ak, sk, token),
                now,
              ),
            ['INVALID_INPUT'],
          );
          if (signed !== undefined) expect(signed.authorization).toMatch(/Signature=[0-9a-f]{64}$/);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('configuration on any environment', () => {
  it('loadConfig throws nothing but INVALID_CONFIG, and never puts a value in its message', () => {
    const names = fc.constantFrom(
      'REDIS_URL',
      'CLEANUP_PREFIX',
      'DCS_REGION',
      'DCS_ENDPOINT',
      'DCS_PROJECT_ID',
      'LOG_LEVEL',
      'WORKER_CONCURRENCY',
      'API_PORT',
      'RETRY_THROTTLE_MIN_MS',
      'RETRY_THROTTLE_MAX_MS',
      'CLOUD_SDK_SK',
    );
    fc.assert(
      fc.property(fc.dictionary(names, fc.oneof(nastyString, fc.constant('SECRET-VALUE-1234567'))), (env) => {
        try {
          loadConfig(env);
        } catch (err) {
          expect(err).toBeInstanceOf(CleanupError);
          expect((err as CleanupError).code).toBe('INVALID_CONFIG');
          expect((err as CleanupError).message).not.toContain('SECRET-VALUE-1234567');
        }
      }),
      { numRuns: RUNS },
    );
  });
});
