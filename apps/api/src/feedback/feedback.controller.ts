import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AlertingException, AlertingExceptionCode, type Feedback, validateFeedback } from '@seismo/alerting';
import { type AuditContext, type Tenant } from '@seismo/tenancy';
import { Audit, CurrentTenant, TenantAccess } from '../auth/tenant.guard';
import { FEEDBACK, NEW_FEEDBACK } from '../openapi/api.schemas';
import { ApiBadRequest, ApiNotFound } from '../openapi/openapi.decorators';
import { SeismoRuntime } from '../runtime/seismo.runtime';

export interface FeedbackBody {
  anomaly_id: string;
  series: string;
  label: string;
  note?: string;
  actor: string;
  created_at: string;
}

/**
 * Labels on anomalies. A false_positive or expected label teaches the anomaly's series: a
 * later deviation of the same shape (direction, a shared detector, no larger, scored no
 * higher) does not alert; a true_positive keeps deviations as big as it alerting.
 */
@ApiTags('query')
@Controller('v1/anomalies/:id/feedback')
export class FeedbackController {
  constructor(private readonly runtime: SeismoRuntime) {}

  @Post()
  @HttpCode(201)
  @TenantAccess('read')
  @ApiOperation({
    summary: 'Label an anomaly: true_positive, false_positive or expected (replaces an earlier label)',
  })
  @ApiParam({ name: 'id', description: 'the anomaly id' })
  @ApiBody({ schema: NEW_FEEDBACK })
  @ApiCreatedResponse({ schema: FEEDBACK })
  @ApiBadRequest('label missing or unknown, note too long, or an unknown field')
  @ApiNotFound('no such anomaly in this tenant')
  async give(
    @CurrentTenant() tenant: Tenant,
    @Audit() by: AuditContext,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<FeedbackBody> {
    const input = validateFeedback(body);
    const anomaly = await this.runtime.anomalies.get(tenant.id, id);
    if (!anomaly) throw unknownAnomaly(id);
    const feedback = await this.runtime.feedback.give(tenant.id, anomaly, input, by, tenant.anomaliesDays);
    return feedbackBody(feedback);
  }

  @Get()
  @TenantAccess('read')
  @ApiOperation({ summary: "An anomaly's latest label" })
  @ApiParam({ name: 'id', description: 'the anomaly id' })
  @ApiOkResponse({ schema: FEEDBACK })
  @ApiNotFound('no such anomaly, or it has no label')
  async latest(@CurrentTenant() tenant: Tenant, @Param('id') id: string): Promise<FeedbackBody> {
    const feedback = await this.runtime.feedback.latest(tenant.id, id);
    if (!feedback) {
      const anomaly = await this.runtime.anomalies.get(tenant.id, id);
      throw anomaly
        ? new AlertingException(
            AlertingExceptionCode.UNKNOWN_ANOMALY,
            `anomaly ${id} has no feedback yet`,
            'id',
          )
        : unknownAnomaly(id);
    }
    return feedbackBody(feedback);
  }
}

function unknownAnomaly(id: string): AlertingException {
  return new AlertingException(
    AlertingExceptionCode.UNKNOWN_ANOMALY,
    `no anomaly ${id} in this tenant`,
    'id',
  );
}

/** A label as the API answers it (also POST /v1/feedback/{token} with `accept: application/json`). */
export function feedbackBody(feedback: Feedback): FeedbackBody {
  return {
    anomaly_id: feedback.anomalyId,
    series: feedback.series,
    label: feedback.label,
    ...(feedback.note !== undefined ? { note: feedback.note } : {}),
    actor: feedback.actor,
    created_at: new Date(feedback.createdAt).toISOString(),
  };
}
