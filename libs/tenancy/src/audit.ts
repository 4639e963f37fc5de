import { type TenantId } from '@seismo/storage';

/**
 * Who acted: a person through one of their keys, a service key, or whoever holds the
 * deployment's admin token (SEISMO_ADMIN_TOKEN), who is nobody in particular.
 */
export type Actor =
  | { readonly kind: 'deployment-admin' }
  | { readonly kind: 'member'; readonly memberId: string; readonly keyId: string }
  | { readonly kind: 'service-key'; readonly keyId: string }
  | { readonly kind: 'system' }
  /** Whoever followed a signed feedback link from an alert: the link is the credential, not a key. */
  | { readonly kind: 'feedback-link' };

export const DEPLOYMENT_ADMIN: Actor = { kind: 'deployment-admin' };

/** Seismo itself, acting on a schedule (the purge of a closed tenant once its grace period is over). */
export const SYSTEM: AuditContext = { actor: { kind: 'system' }, sourceIp: '' };

/** What every admin change is given, so the directory can record it with the change. */
export interface AuditContext {
  readonly actor: Actor;
  /** The request's source address, as the HTTP server saw it. */
  readonly sourceIp: string;
}

/** Every action the log records. */
export const AUDIT_ACTIONS = [
  'tenant.created',
  'tenant.updated',
  'tenant.billing_changed',
  'tenant.closed',
  'tenant.reopened',
  'tenant.exported',
  /** The one entry of a tenant erasure leaves: who erased it, when, and how many rows of each table. */
  'tenant.erased',
  'member.added',
  'member.role_changed',
  'member.removed',
  'key.created',
  'key.revoked',
  'subscription.created',
  'subscription.updated',
  'subscription.removed',
  'subscription.muted',
  'subscription.unmuted',
  'silence.created',
  'silence.removed',
  /** A dead alert delivery sent again (POST /v1/deliveries/{id}/retry). */
  'delivery.retried',
  /** A label on an anomaly (true_positive, false_positive or expected), by key or by a link in an alert. */
  'anomaly.feedback',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export function isAuditAction(value: unknown): value is AuditAction {
  return typeof value === 'string' && (AUDIT_ACTIONS as readonly string[]).includes(value);
}

export interface AuditEntry {
  readonly id: string;
  readonly tenantId: TenantId;
  /** Epoch milliseconds. */
  readonly at: number;
  readonly actor: Actor;
  readonly action: AuditAction;
  /** What was acted on: a tenant, member or key id. */
  readonly target: string;
  readonly sourceIp: string;
  /** What changed, for the reader: never a secret (no key, no hash). */
  readonly details: Readonly<Record<string, unknown>>;
}

export interface AuditQuery {
  /** Epoch milliseconds, inclusive. */
  readonly from?: number;
  /** Epoch milliseconds, exclusive. */
  readonly to?: number;
  readonly action?: AuditAction;
  readonly limit: number;
}

export const MAX_AUDIT_LIMIT = 1000;
