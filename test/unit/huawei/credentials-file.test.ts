import { describe, expect, it } from 'vitest';
import { parseCredentialsProfile } from '../../../src/huawei/credentials-file.js';
import { CleanupError } from '../../../src/errors.js';

const FILE = `; KooCLI / SDK credentials
[default]
ak = DEFAULTAK
sk = default-sk

[prod]
AK=PRODAK0001
sk = prod sk with = sign
security_token = tok-123
project_id = 0a1b2c3d
# end
`;

describe('parseCredentialsProfile', () => {
  it('reads the named profile, keys case-insensitive, values after the first =', () => {
    expect(parseCredentialsProfile(FILE, 'prod', 'f')).toEqual({
      ak: 'PRODAK0001',
      sk: 'prod sk with = sign',
      securityToken: 'tok-123',
      projectId: '0a1b2c3d',
    });
    expect(parseCredentialsProfile(FILE, 'default', 'f')).toMatchObject({
      ak: 'DEFAULTAK',
      sk: 'default-sk',
    });
  });

  it('names a missing profile or key, never a value', () => {
    expect(() => parseCredentialsProfile(FILE, 'staging', 'credentials file /x')).toThrow(
      /credentials file \/x: no profile \[staging\]/,
    );
    try {
      parseCredentialsProfile('[p]\nak = SOMEAK\n', 'p', 'f');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(CleanupError);
      expect((err as Error).message).toBe('f: profile [p] has no sk');
      expect((err as Error).message).not.toContain('SOMEAK');
    }
  });
});
