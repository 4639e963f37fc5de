import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiResponse } from '@nestjs/swagger';
import { type Scope } from '@seismo/tenancy';
import { ERROR } from './api.schemas';

/** The names of the two bearer schemes in /openapi.json: the admin token and a tenant's API key. */
export const ADMIN_AUTH = 'admin';
export const TENANT_AUTH = 'tenant';

/** What every 401 says in `code`: which of the three ways the credentials failed. */
const AUTH_CODES =
  '; `code` is MISSING_CREDENTIALS (no Authorization header), MALFORMED_CREDENTIALS (not "Bearer <token>", ' +
  'or a token that cannot be an API key) or INVALID_CREDENTIALS (a well-formed token that opens nothing)';

/** Documents a route behind AdminGuard; the guard itself stays on the controller. */
export const ApiAdminAuth = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ApiBearerAuth(ADMIN_AUTH),
    ApiResponse({
      status: 401,
      description: `the admin token is missing or wrong${AUTH_CODES}`,
      schema: ERROR,
    }),
  );

/** The operation's extension naming the scope a key needs: clients and the isolation suite read it. */
export const SCOPE_EXTENSION = 'x-seismo-scope';

/**
 * Documents a route behind TenantGuard (TenantAccess applies it): the tenant is the
 * key's, never the request's, and the key needs `scope`.
 */
export const ApiTenantAuth = (scope: Scope): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ApiBearerAuth(TENANT_AUTH),
    ApiExtension(SCOPE_EXTENSION, scope),
    ApiResponse({
      status: 401,
      description: `the API key is missing, malformed, unknown or revoked, or its member was removed${AUTH_CODES}`,
      schema: ERROR,
    }),
    ApiResponse({
      status: 403,
      description: `the key lacks the '${scope}' scope, or its member's role does not allow it`,
      schema: ERROR,
    }),
  );

/** Documents a route open to the admin token and to a tenant key with `scope` (on its own tenant). */
export const ApiTenantOrAdminAuth = (scope: Scope): MethodDecorator =>
  applyDecorators(
    ApiBearerAuth(ADMIN_AUTH),
    ApiBearerAuth(TENANT_AUTH),
    ApiExtension(SCOPE_EXTENSION, scope),
    ApiResponse({
      status: 401,
      description: `neither the admin token nor a valid API key${AUTH_CODES}`,
      schema: ERROR,
    }),
    ApiResponse({
      status: 403,
      description: `the key lacks the '${scope}' scope, or its member's role does not allow it`,
      schema: ERROR,
    }),
  );

/** A 404 answer: nothing of that id in the caller's tenant (another tenant's ids do not exist for it). */
export const ApiNotFound = (description: string): MethodDecorator =>
  ApiResponse({ status: 404, description, schema: ERROR });

/** A 400 answer: the error names the field at fault. */
export const ApiBadRequest = (description: string): MethodDecorator & ClassDecorator =>
  ApiResponse({ status: 400, description, schema: ERROR });
