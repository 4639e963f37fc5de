import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { AlertingException, AlertingExceptionCode } from '@seismo/alerting';
import { BillingException, BillingExceptionCode } from '@seismo/billing';
import { IngestException, IngestExceptionCode } from '@seismo/ingest';
import { StorageException, StorageExceptionCode } from '@seismo/storage';
import { TenancyException, TenancyExceptionCode } from '@seismo/tenancy';
import { type FastifyReply } from 'fastify';
import { type z, ZodError } from 'zod';
import { AuthException } from '../auth/auth.exception';
import { LimitException, LimitExceptionCode } from '../limits/limit.exception';

const INGEST_STATUS: Record<IngestExceptionCode, number> = {
  [IngestExceptionCode.MALFORMED_BODY]: 400,
  [IngestExceptionCode.TOO_LARGE]: 413,
  [IngestExceptionCode.BAD_PARAMETER]: 400,
};

const TENANCY_STATUS: Record<TenancyExceptionCode, number> = {
  [TenancyExceptionCode.INVALID_TENANT]: 400,
  [TenancyExceptionCode.INVALID_MEMBER]: 400,
  [TenancyExceptionCode.INVALID_API_KEY]: 400,
  [TenancyExceptionCode.FORBIDDEN]: 403,
  [TenancyExceptionCode.UNKNOWN_TENANT]: 404,
  [TenancyExceptionCode.UNKNOWN_MEMBER]: 404,
  [TenancyExceptionCode.UNKNOWN_API_KEY]: 404,
  [TenancyExceptionCode.MEMBER_EXISTS]: 409,
  [TenancyExceptionCode.LAST_ADMIN]: 409,
  // A broken admin token stops the process at start; seen here it is a bug.
  [TenancyExceptionCode.ADMIN_TOKEN_UNUSABLE]: 500,
};

const ALERTING_STATUS: Record<AlertingExceptionCode, number> = {
  [AlertingExceptionCode.INVALID_SUBSCRIPTION]: 400,
  [AlertingExceptionCode.INVALID_SILENCE]: 400,
  [AlertingExceptionCode.UNKNOWN_SUBSCRIPTION]: 404,
  [AlertingExceptionCode.UNKNOWN_SILENCE]: 404,
  [AlertingExceptionCode.INVALID_FEEDBACK]: 400,
  [AlertingExceptionCode.UNKNOWN_ANOMALY]: 404,
  [AlertingExceptionCode.INVALID_FEEDBACK_TOKEN]: 401,
  [AlertingExceptionCode.EXPIRED_FEEDBACK_TOKEN]: 410,
  [AlertingExceptionCode.INVALID_CHART_TOKEN]: 401,
  [AlertingExceptionCode.EXPIRED_CHART_TOKEN]: 410,
  [AlertingExceptionCode.UNKNOWN_CHART]: 404,
  [AlertingExceptionCode.UNKNOWN_DELIVERY]: 404,
  [AlertingExceptionCode.DELIVERY_NOT_DEAD]: 409,
  // A dispatcher's options are checked at start; seen here it is a bug.
  [AlertingExceptionCode.INVALID_DISPATCHER_OPTIONS]: 500,
  // The process is shutting down: the client may try again, on this or another instance.
  [AlertingExceptionCode.DISPATCHER_STOPPED]: 503,
};

/** The HTTP status of an alerting error (a feedback link's page answers it in HTML). */
export function alertingStatusOf(code: AlertingExceptionCode): number {
  return ALERTING_STATUS[code];
}

/**
 * The one place domain errors become HTTP answers. A client error says what was wrong,
 * naming the field; anything unexpected is a 500 with an error id that is also in the
 * log, so a user can report it and an operator can find it, without leaking internals.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('api');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const [status, body] = this.answer(error);
    // Whole seconds, as RFC 9110 allows for a delay; clients and proxies read it to back off.
    if (error instanceof LimitException && error.retryAfterSeconds !== undefined)
      void reply.header('retry-after', String(error.retryAfterSeconds));
    // RFC 9110 requires a challenge on a 401; RFC 6750 names the scheme.
    if (error instanceof AuthException) void reply.header('www-authenticate', 'Bearer realm="seismo"');
    void reply.status(status).send(body);
  }

  private answer(error: unknown): [number, Record<string, unknown>] {
    if (error instanceof HttpException) {
      const response = error.getResponse();
      const message = typeof response === 'string' ? response : (response as { message?: unknown }).message;
      return [error.getStatus(), { statusCode: error.getStatus(), error: message ?? error.message }];
    }
    if (error instanceof AuthException) {
      return [401, { statusCode: 401, code: error.code, error: error.message }];
    }
    if (error instanceof LimitException) {
      const status = error.code === LimitExceptionCode.RATE_LIMITED ? 429 : 413;
      const retry =
        error.retryAfterSeconds !== undefined ? { retry_after_seconds: error.retryAfterSeconds } : {};
      return [
        status,
        { statusCode: status, code: error.code, limit: error.limit, ...retry, error: error.message },
      ];
    }
    if (error instanceof IngestException) {
      const status = INGEST_STATUS[error.code];
      return [status, { statusCode: status, code: error.code, error: error.message }];
    }
    if (error instanceof TenancyException && TENANCY_STATUS[error.code] < 500) {
      const status = TENANCY_STATUS[error.code];
      const field = error.field !== undefined ? { field: error.field } : {};
      return [status, { statusCode: status, code: error.code, ...field, error: error.message }];
    }
    if (error instanceof AlertingException) {
      const status = ALERTING_STATUS[error.code];
      const field = error.field !== undefined ? { field: error.field } : {};
      return [status, { statusCode: status, code: error.code, ...field, error: error.message }];
    }
    if (error instanceof BillingException && error.code === BillingExceptionCode.INVALID_CUSTOMER_ID) {
      return [
        400,
        { statusCode: 400, code: error.code, field: 'billing.stripe_customer_id', error: error.message },
      ];
    }
    if (error instanceof ZodError) {
      const errors = error.issues.flatMap(zodIssueErrors);
      return [
        400,
        {
          statusCode: 400,
          field: errors[0].field,
          error: errors.map((e) => e.text).join('; '),
          errors: errors.map((e) => e.text),
        },
      ];
    }
    if (error instanceof StorageException && error.code === StorageExceptionCode.INVALID_QUERY) {
      return [400, { statusCode: 400, code: error.code, error: error.message }];
    }
    const id = randomUUID();
    this.logger.error(
      `error ${id}: ${error instanceof Error ? error.message : String(error)}`,
      (error as Error)?.stack,
    );
    return [500, { statusCode: 500, error: 'internal error', error_id: id }];
  }
}

/**
 * One error per field of a zod issue, each starting with the field. An unknown key is
 * named as the field at fault (zod puts it in the message, at its parent's path, which
 * for a whole body or query string is empty).
 */
function zodIssueErrors(issue: z.core.$ZodIssue): Array<{ field: string; text: string }> {
  const at = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const field = [...at, key].join('.');
      return { field, text: `${field}: unknown field` };
    });
  }
  const field = at.join('.') || 'body';
  return [{ field, text: `${field}: ${issue.message}` }];
}
