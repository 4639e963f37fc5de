import {
  applyDecorators,
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  Injectable,
  SetMetadata,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  actorOf,
  type AuditContext,
  DEPLOYMENT_ADMIN,
  isWellFormedApiKey,
  type KeyIdentity,
  requireScope,
  type Scope,
  type Tenant,
  verifyAdminToken,
} from '@seismo/tenancy';
import { type FastifyRequest } from 'fastify';
import { ApiTenantAuth, ApiTenantOrAdminAuth } from '../openapi/openapi.decorators';
import { SeismoRuntime } from '../runtime/seismo.runtime';
import { AuthException, AuthExceptionCode } from './auth.exception';
import { bearerToken } from './bearer-token';

/** What the guard found out about the caller, kept on the request for the handler. */
type CallerRequest = FastifyRequest & { identity?: KeyIdentity; deploymentAdmin?: boolean };

const REQUIRED_SCOPE = 'seismo:required-scope';
const ALLOWS_DEPLOYMENT_ADMIN = 'seismo:allows-deployment-admin';

/**
 * A route a tenant's API key opens, if the key may act with `scope` (its scopes
 * narrowed by its member's role). The tenant comes from the key, never from the body,
 * the query, a header or a series name: the handler gets it from `@CurrentTenant()`.
 * On a controller or a route; a route's own scope wins over its controller's.
 */
export const TenantAccess = (scope: Scope): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(REQUIRED_SCOPE, scope), UseGuards(TenantGuard), ApiTenantAuth(scope));

/**
 * Like TenantAccess, and also open to the deployment's admin token (a route the
 * ARCHITECTURE calls admin that a tenant's own admins may use too, on their tenant).
 */
export const TenantOrDeploymentAdminAccess = (scope: Scope): MethodDecorator =>
  applyDecorators(
    SetMetadata(REQUIRED_SCOPE, scope),
    SetMetadata(ALLOWS_DEPLOYMENT_ADMIN, true),
    UseGuards(TenantGuard),
    ApiTenantOrAdminAuth(scope),
  );

/**
 * 401 without a valid key: missing (MISSING_CREDENTIALS), malformed (MALFORMED_CREDENTIALS),
 * or unknown, revoked or its member removed (INVALID_CREDENTIALS); 403 with a valid key
 * that lacks the route's scope or whose member's role does not allow it, naming what is
 * missing. A route with no declared scope is refused outright: forgetting
 * the declaration must close the route, not open it.
 */
@Injectable()
export class TenantGuard implements CanActivate {
  constructor(
    private readonly runtime: SeismoRuntime,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    const scope = this.reflector.getAllAndOverride<Scope | undefined>(REQUIRED_SCOPE, targets);
    if (scope === undefined) {
      throw new Error(`${context.getClass().name}.${context.getHandler().name} declares no scope`);
    }
    const request = context.switchToHttp().getRequest<CallerRequest>();
    const token = bearerToken(request.headers.authorization);
    const adminToken = this.runtime.adminToken;
    if (
      adminToken !== undefined &&
      this.reflector.getAllAndOverride<boolean | undefined>(ALLOWS_DEPLOYMENT_ADMIN, targets) &&
      verifyAdminToken(token, adminToken)
    ) {
      request.deploymentAdmin = true;
      return true;
    }
    if (!isWellFormedApiKey(token)) {
      throw new AuthException(
        AuthExceptionCode.MALFORMED_CREDENTIALS,
        'the API key is malformed: a key is "sk_" and 43 base64url characters',
      );
    }
    const identity = this.runtime.tenants.identify(token);
    if (!identity) throw new AuthException(AuthExceptionCode.INVALID_CREDENTIALS, 'the API key is not valid');
    requireScope(identity, scope);
    request.identity = identity;
    return true;
  }
}

/** The tenant of the request's API key. */
export const CurrentTenant = createParamDecorator((_: unknown, context: ExecutionContext): Tenant => {
  const identity = context.switchToHttp().getRequest<CallerRequest>().identity;
  if (!identity) throw new UnauthorizedException('no tenant on this request');
  return identity.tenant;
});

/**
 * The request's API key identity, or undefined when the deployment admin token opened
 * the route (TenantOrDeploymentAdminAccess only).
 */
export const CurrentIdentity = createParamDecorator(
  (_: unknown, context: ExecutionContext): KeyIdentity | undefined => {
    const request = context.switchToHttp().getRequest<CallerRequest>();
    if (!request.identity && !request.deploymentAdmin) {
      throw new UnauthorizedException('no credentials on this request');
    }
    return request.identity;
  },
);

/**
 * Who is acting and from where, for the audit log: the key's member or the service key,
 * or the deployment admin; the address is the TCP peer's as Fastify sees it (a proxy in
 * front of Seismo shows as itself: trustProxy is off, so a client cannot forge one with
 * X-Forwarded-For).
 */
export const Audit = createParamDecorator((_: unknown, context: ExecutionContext): AuditContext => {
  const request = context.switchToHttp().getRequest<CallerRequest>();
  if (request.identity) return { actor: actorOf(request.identity), sourceIp: request.ip };
  if (request.deploymentAdmin) return { actor: DEPLOYMENT_ADMIN, sourceIp: request.ip };
  throw new UnauthorizedException('no credentials on this request');
});
