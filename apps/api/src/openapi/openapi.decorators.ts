import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';
import { ERROR } from './api.schemas';

/** The names of the two bearer schemes in /openapi.json: the admin token and a tenant's API key. */
export const ADMIN_AUTH = 'admin';
export const TENANT_AUTH = 'tenant';

/** Documents a route behind AdminGuard; the guard itself stays on the controller. */
export const ApiAdminAuth = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ApiBearerAuth(ADMIN_AUTH),
    ApiResponse({ status: 401, description: 'the admin token is missing or wrong', schema: ERROR }),
  );

/** Documents a route behind TenantGuard: the tenant is the key's, never the request's. */
export const ApiTenantAuth = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ApiBearerAuth(TENANT_AUTH),
    ApiResponse({ status: 401, description: 'the API key is missing or not valid', schema: ERROR }),
  );

/** A 400 answer: the error names the field at fault. */
export const ApiBadRequest = (description: string): MethodDecorator & ClassDecorator =>
  ApiResponse({ status: 400, description, schema: ERROR });
