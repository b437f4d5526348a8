import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';

/**
 * AK/SK credentials. The SK and the security token live in private fields and never print:
 * `toString`, `util.inspect`, `JSON.stringify` and pino all see a masked form.
 */
export class Credentials {
  readonly accessKeyId: string;
  readonly #secretKey: KeyObject;
  readonly #securityToken: string | undefined;

  constructor(accessKeyId: string, secretAccessKey: string, securityToken?: string) {
    this.accessKeyId = accessKeyId;
    this.#secretKey = createSecretKey(Buffer.from(secretAccessKey, 'utf8'));
    this.#securityToken = securityToken === '' ? undefined : securityToken;
  }

  /** Lower-case hex HMAC-SHA256 of `data` keyed with the SK's UTF-8 bytes (no key derivation). */
  hmacHex(data: string): string {
    return createHmac('sha256', this.#secretKey).update(data, 'utf8').digest('hex');
  }

  /** The temporary-credential token to send as `X-Security-Token`, if any. */
  securityToken(): string | undefined {
    return this.#securityToken;
  }

  /** The AK with all but its first four characters masked, for diagnostics. */
  get maskedAccessKeyId(): string {
    return maskSecret(this.accessKeyId);
  }

  toString(): string {
    return `Credentials(${this.maskedAccessKeyId}${this.#securityToken ? ', temporary' : ''})`;
  }

  toJSON(): Record<string, string | boolean> {
    return { accessKeyId: this.maskedAccessKeyId, temporary: this.#securityToken !== undefined };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** `abcd****` for any value of four characters or more, `****` otherwise. */
export function maskSecret(value: string): string {
  return value.length >= 8 ? `${value.slice(0, 4)}****` : '****';
}
