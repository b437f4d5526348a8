/** Longest `error_msg` kept: enough for any real DCS message, bounded for logs and dead letters. */
export const MAX_ERROR_MSG_CHARS = 512;
/** Real codes are short (`111400070`, `APIGW.0308`); anything longer is not a code worth keeping whole. */
const MAX_CODE_CHARS = 64;
const MAX_REQUEST_ID_CHARS = 128;

/** What an error body says, each field undefined when the body does not say it. */
export interface ErrorBodyFields {
  errorCode?: string | undefined;
  errorMsg?: string | undefined;
  requestId?: string | undefined;
}

/**
 * Reads a DCS or gateway error body. Understands `{"error_code","error_msg"}`,
 * `{"error":{"code","message"}}` and the gateway's `{"error_code","error_msg","request_id"}`.
 * Pure and total: an empty, HTML, truncated or otherwise unreadable body gives `{}`.
 */
export function parseErrorBody(text: string | undefined): ErrorBodyFields {
  const json = parseJsonObject(text);
  if (json === undefined) return {};
  const nested = isObject(json.error) ? json.error : undefined;
  return {
    errorCode: readText(json.error_code, MAX_CODE_CHARS) ?? readText(nested?.code, MAX_CODE_CHARS),
    errorMsg: readText(json.error_msg, MAX_ERROR_MSG_CHARS) ?? readText(nested?.message, MAX_ERROR_MSG_CHARS),
    requestId: readText(json.request_id, MAX_REQUEST_ID_CHARS),
  };
}

function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  // Cheap rejection of HTML pages and empty bodies before paying for JSON.parse and its exception.
  const start = firstNonSpace(text);
  if (start === -1 || text.charCodeAt(start) !== 0x7b /* { */) return undefined;
  try {
    const value: unknown = JSON.parse(start === 0 ? text : text.slice(start));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function firstNonSpace(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // space, tab, CR, LF and a byte-order mark
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0xfeff) return i;
  }
  return -1;
}

function readText(value: unknown, maxChars: number): string | undefined {
  // Some gateways send numeric codes (111400070 rather than "111400070").
  const text = typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
  if (text === '') return undefined;
  return text.length > maxChars ? text.slice(0, maxChars) : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
