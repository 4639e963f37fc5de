import fc from 'fast-check';
import { checkRole, MAX_EMAIL_LENGTH, normalizeEmail, validateNewMember } from './member.validator';
import { TenancyException, TenancyExceptionCode } from './tenancy.exception';

function refusal(run: () => unknown): TenancyException {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TenancyException);
    expect((error as TenancyException).code).toBe(TenancyExceptionCode.INVALID_MEMBER);
    return error as TenancyException;
  }
  throw new Error('accepted');
}

describe('normalizeEmail', () => {
  it('trims and lowercases', () => {
    expect(normalizeEmail('  Alice.Smith+ops@Example.COM \n')).toBe('alice.smith+ops@example.com');
  });

  it.each([
    'a@b.co',
    "o'brien@example.ie",
    'first.last@sub.domain.example.org',
    'x_y-z@xn--bcher-kva.example',
    `${'l'.repeat(64)}@example.com`,
  ])('takes %s', (email) => {
    expect(normalizeEmail(email)).toBe(email.toLowerCase());
  });

  it.each([
    ['', 'email must not be empty'],
    ['   ', 'email must not be empty'],
    ['alice', 'email must be an address like name@example.com, got "alice"'],
    ['@example.com', 'email must be an address'],
    ['alice@', 'email must be an address'],
    ['alice@localhost', 'email must be an address'],
    ['alice@@example.com', 'email must be an address'],
    ['al ice@example.com', 'email must be an address'],
    ['alice@exa mple.com', 'email must be an address'],
    ['.alice@example.com', 'email must be an address'],
    ['alice.@example.com', 'email must be an address'],
    ['al..ice@example.com', 'email must be an address'],
    ['alice@-example.com', 'email must be an address'],
    ['alice@example..com', 'email must be an address'],
    ['"alice"@example.com', 'email must be an address'],
    ['alice@example.com\u0000', 'email must be an address'],
    ['élise@example.com', 'email must be an address'],
    [`${'l'.repeat(65)}@example.com`, 'email must be an address'],
    [`a@${`${'d'.repeat(60)}.`.repeat(5)}com`, 'email must be at most 254 characters, got 310'],
  ])('refuses %j, naming the field', (email, message) => {
    const error = refusal(() => normalizeEmail(email));
    expect(error.field).toBe('email');
    expect(error.message).toContain(message);
  });

  it.each([undefined, null, 42, ['a@b.co'], {}])('refuses %p', (email) => {
    expect(refusal(() => normalizeEmail(email)).message).toMatch(/^email must be a string/);
  });

  it('takes every ordinary address, whatever its case and surrounding space, and is idempotent', () => {
    fc.assert(
      fc.property(
        fc.emailAddress().filter((e) => e.length <= MAX_EMAIL_LENGTH && e.indexOf('@') <= 64),
        fc.constantFrom('', ' ', '\t', '\n'),
        fc.boolean(),
        (email, space, upper) => {
          const given = space + (upper ? email.toUpperCase() : email) + space;
          const normalized = normalizeEmail(given);
          expect(normalized).toBe(email.toLowerCase());
          expect(normalizeEmail(normalized)).toBe(normalized);
        },
      ),
    );
  });

  it('never takes a string without exactly the shape of an address', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (text) => {
        const lowered = text.trim().toLowerCase();
        const at = lowered.lastIndexOf('@');
        let accepted: string | undefined;
        try {
          accepted = normalizeEmail(text);
        } catch (error) {
          expect((error as TenancyException).field).toBe('email');
          return;
        }
        // Whatever gets through is plain ASCII, with one @ and a dotted domain.
        expect(accepted).toMatch(/^[\x21-\x7e]+$/);
        expect(at).toBeGreaterThan(0);
        expect(accepted.split('@')).toHaveLength(2);
        expect(accepted.slice(at + 1)).toContain('.');
      }),
    );
  });
});

describe('checkRole and validateNewMember', () => {
  it('takes the two roles', () => {
    expect(checkRole('admin')).toBe('admin');
    expect(checkRole('member')).toBe('member');
  });

  it.each(['owner', 'Admin', '', undefined, 1])('refuses the role %p, naming the field', (role) => {
    const error = refusal(() => checkRole(role));
    expect(error.field).toBe('role');
    expect(error.message).toContain('role must be one of admin, member');
  });

  it('normalizes the email and checks the role, email first', () => {
    expect(validateNewMember({ email: ' Bob@Example.com', role: 'member' })).toEqual({
      email: 'bob@example.com',
      role: 'member',
    });
    expect(refusal(() => validateNewMember({ email: 'nope', role: 'nope' as never })).field).toBe('email');
  });
});
