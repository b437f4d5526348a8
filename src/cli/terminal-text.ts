/**
 * Text from elsewhere (what DCS sent, job data a foreign producer wrote) made safe for a terminal:
 * control characters could move the cursor, rewrite earlier lines, set the window title or hide
 * text (ESC sequences, 8-bit CSI), and bidirectional overrides could reorder what is shown. Each
 * becomes `?`. JSON.stringify escapes only C0 controls, so JSON output goes through here too.
 */

// C0 but tab and newline, DEL, C1, and the bidirectional embedding, override and isolate marks.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every terminal control character replaced by `?`. */
export function toTerminalText(text: string): string {
  return text.replace(UNSAFE, '?');
}

/** `value` with every string in it (keys included) passed through {@link toTerminalText}. */
export function toTerminalSafe(value: unknown): unknown {
  if (typeof value === 'string') return toTerminalText(value);
  if (Array.isArray(value)) return value.map(toTerminalSafe);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [toTerminalText(k), toTerminalSafe(v)]));
  }
  return value;
}
