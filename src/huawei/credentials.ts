import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';

/**
 * AK/SK credentials. The SK and the security token live in private fields and never print:
 * `toString`, `util.inspect`, `JSON.stringify` and pino all see a masked form.
 */
export class Credentials {
  readonly #accessKeyId: string;
  readonly #secretKey: KeyObject;
  readonly #securityToken: string | undefined;
  /** True for temporary credentials (with a security token). A plain field: copies keep it. */
  readonly temporary: boolean;

  constructor(accessKeyId: string, secretAccessKey: string, securityToken?: string) {
    this.#accessKeyId = accessKeyId;
    this.#secretKey = createSecretKey(Buffer.from(secretAccessKey, 'utf8'));
    this.#securityToken = securityToken === '' ? undefined : securityToken;
    this.temporary = this.#securityToken !== undefined;
    // Every own enumerable field is safe to print; a copy (pino's redaction makes one) prints only these.
    this.maskedAccessKeyId = maskSecret(accessKeyId);
  }

  /** The AK, as the Authorization header names it. Not an own property, so copies never carry it. */
  get accessKeyId(): string {
    return this.#accessKeyId;
  }

  readonly maskedAccessKeyId: string;

  /** Lower-case hex HMAC-SHA256 of `data` keyed with the SK's UTF-8 bytes (no key derivation). */
  hmacHex(data: string): string {
    return createHmac('sha256', this.#secretKey).update(data, 'utf8').digest('hex');
  }

  /** The temporary-credential token to send as `X-Security-Token`, if any. */
  securityToken(): string | undefined {
    return this.#securityToken;
  }

  toString(): string {
    return `Credentials(${this.maskedAccessKeyId}${this.temporary ? ', temporary' : ''})`;
  }

  toJSON(): Record<string, string | boolean> {
    return { accessKeyId: this.maskedAccessKeyId, temporary: this.temporary };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** `abcd****` for a value of eight characters or more (four shown is then at most half), `****` otherwise. */
export function maskSecret(value: string): string {
  return value.length >= 8 ? `${value.slice(0, 4)}****` : '****';
}
