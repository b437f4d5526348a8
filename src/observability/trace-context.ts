/**
 * W3C Trace Context: the `traceparent` a caller sends (`00-<trace-id>-<parent-id>-<flags>`) is
 * validated, kept in the job data (`traceparent`) and written into the job's log records as
 * `traceparent` and `trace_id`, so a deletion can be found by the trace that asked for it.
 * https://www.w3.org/TR/trace-context/#traceparent-header
 */
import { z } from 'zod';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-[^\s]*)?$/;

/** Why `value` is not a usable traceparent, or undefined when it is. */
export function findTraceparentProblem(value: string): string | undefined {
  const match = TRACEPARENT.exec(value);
  if (!match) return 'must be 00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>, lower case';
  const [, version, traceId, parentId, , rest] = match;
  if (version === 'ff') return 'version ff is invalid';
  if (version === '00' && rest !== undefined) return 'version 00 has exactly four fields';
  if (/^0+$/.test(traceId!)) return 'the trace-id must not be all zeros';
  if (/^0+$/.test(parentId!)) return 'the parent-id must not be all zeros';
  return undefined;
}

/** A traceparent as the job data keeps it: the four fields of version 00 (55 characters). */
export const traceparentSchema = z
  .string()
  .max(512)
  .superRefine((value, ctx) => {
    const problem = findTraceparentProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((value) => value.slice(0, 55));

/** The trace id of a valid traceparent. */
export function traceIdOf(traceparent: string): string {
  return traceparent.slice(3, 35);
}

/** The log fields of a job's trace: none for a job enqueued without one. */
export function traceFields(traceparent: string | undefined): { traceparent?: string; trace_id?: string } {
  if (traceparent === undefined || findTraceparentProblem(traceparent) !== undefined) return {};
  return { traceparent, trace_id: traceIdOf(traceparent) };
}
