import { randomUUID } from 'node:crypto';
import { type TenantId } from '@seismo/storage';
import { type Role } from './access';

/**
 * A person in a tenant, known by email. Today a member signs in only through API keys
 * made for them; the stored row (migration 0005) already has a nullable password_hash,
 * and sessions and two-factor secrets will be tables keyed by the member's id, so
 * password login can come without changing what a member is here.
 */
export interface Member {
  readonly id: string;
  readonly tenantId: TenantId;
  /** Lowercase, validated (member.validator.ts). */
  readonly email: string;
  readonly role: Role;
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

/** What an admin gives to add a member. */
export interface NewMember {
  readonly email: string;
  readonly role: Role;
}

/** A member's id: random, so it says nothing about the email and survives a change of it. */
export function newMemberId(): string {
  return `mem_${randomUUID()}`;
}
