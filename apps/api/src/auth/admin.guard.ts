import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { verifyAdminToken } from '@seismo/tenancy';
import { type FastifyRequest } from 'fastify';
import { SeismoRuntime } from '../runtime/seismo.runtime';
import { AuthException, AuthExceptionCode } from './auth.exception';
import { bearerToken } from './bearer-token';

/** Admin routes take the admin token (SEISMO_ADMIN_TOKEN, or the one kept in the data directory). */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly runtime: SeismoRuntime) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest & { deploymentAdmin?: boolean }>();
    const token = bearerToken(request.headers.authorization);
    const adminToken = this.runtime.adminToken;
    if (!adminToken || !verifyAdminToken(token, adminToken)) {
      throw new AuthException(AuthExceptionCode.INVALID_CREDENTIALS, 'the admin token is required');
    }
    // For @Audit(): what the holder of this token does is recorded as the deployment admin's.
    request.deploymentAdmin = true;
    return true;
  }
}
