import {
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { type Tenant } from '@seismo/tenancy';
import { type FastifyRequest } from 'fastify';
import { SeismoRuntime } from '../runtime/seismo.runtime';
import { bearerToken } from './bearer-token';

type TenantRequest = FastifyRequest & { tenant?: Tenant };

/**
 * The tenant comes from the API key, never from the body, the query or a series name:
 * a route behind this guard gets it from `@CurrentTenant()` and nowhere else.
 */
@Injectable()
export class TenantGuard implements CanActivate {
  constructor(private readonly runtime: SeismoRuntime) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<TenantRequest>();
    const key = bearerToken(request);
    if (!key) throw new UnauthorizedException('Authorization: Bearer <api key> is required');
    const tenant = this.runtime.tenants.authenticate(key);
    if (!tenant) throw new UnauthorizedException('the API key is not valid');
    request.tenant = tenant;
    return true;
  }
}

export const CurrentTenant = createParamDecorator((_: unknown, context: ExecutionContext): Tenant => {
  const tenant = context.switchToHttp().getRequest<TenantRequest>().tenant;
  if (!tenant) throw new UnauthorizedException('no tenant on this request');
  return tenant;
});
