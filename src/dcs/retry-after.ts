const DELTA_SECONDS = /^\s*(\d{1,10})\s*$/;
/** An HTTP-date always names a weekday or month; bare numbers that Date.parse would accept are not dates. */
const HAS_LETTER = /[A-Za-z]/;

/**
 * Milliseconds to wait from a `Retry-After` header: delta-seconds (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2015 07:28:00 GMT`, relative to `now`; a past date gives 0). Undefined when the
 * header is absent or unreadable. Of a repeated header the first value counts.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: Date): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const delta = DELTA_SECONDS.exec(text);
  if (delta) return Number(delta[1]) * 1000;
  if (!HAS_LETTER.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
