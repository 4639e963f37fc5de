import { applyDecorators, Controller, Get, Headers, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  AlertingException,
  AlertingExceptionCode,
  type FeedbackClaim,
  FeedbackLinkSigner,
} from '@seismo/alerting';
import { type StoredAnomaly } from '@seismo/storage';
import { type AuditContext, type Tenant } from '@seismo/tenancy';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { alertingStatusOf } from '../errors/api-exception.filter';
import { ERROR, FEEDBACK } from '../openapi/api.schemas';
import { SeismoRuntime } from '../runtime/seismo.runtime';
import { feedbackBody, type FeedbackBody } from './feedback.controller';
import { confirmPage, errorPage, FEEDBACK_PAGE_HEADERS, recordedPage } from './feedback-link.pages';

/** The route of the links in alerts (feedbackLinks in @seismo/alerting makes them). */
export const FEEDBACK_LINK_ROUTE = '/v1/feedback/:token';

/** What the link's token opens, once checked. */
interface Resolved {
  readonly claim: FeedbackClaim;
  readonly tenant: Tenant;
  readonly anomaly: StoredAnomaly;
}

const HTML = { 'text/html': { schema: { type: 'string' } } };

/** The refusals of a link, in HTML for a person, in JSON for `accept: application/json`. */
const ApiLinkRefusals = () =>
  applyDecorators(
    ApiResponse({
      status: 401,
      description: 'the token is malformed or its signature does not match (INVALID_FEEDBACK_TOKEN)',
      content: { ...HTML, 'application/json': { schema: ERROR } },
    }),
    ApiResponse({
      status: 404,
      description: 'the anomaly no longer exists, or its tenant was erased or closed (UNKNOWN_ANOMALY)',
      content: { ...HTML, 'application/json': { schema: ERROR } },
    }),
    ApiResponse({
      status: 410,
      description: 'the link is genuine but older than its 30 days (EXPIRED_FEEDBACK_TOKEN)',
      content: { ...HTML, 'application/json': { schema: ERROR } },
    }),
  );

/**
 * The one-click feedback links of alerts, `<SEISMO_PUBLIC_URL>/v1/feedback/<token>`. No
 * key: the signed token names the tenant, the anomaly and the label, and is the credential.
 * A GET only shows what the link would record, with a Confirm button: mail scanners and
 * chat unfurlers follow links, and must not label anything. The button's POST records the
 * label as `feedback-link`, audited like any other.
 */
@ApiTags('query')
@Controller(FEEDBACK_LINK_ROUTE)
export class FeedbackLinkController {
  private readonly signer: FeedbackLinkSigner | undefined;

  constructor(private readonly runtime: SeismoRuntime) {
    // The same key the links were signed with (alerting.start.ts): both derive it from the admin token.
    this.signer = runtime.adminToken ? new FeedbackLinkSigner(runtime.adminToken) : undefined;
  }

  @Get()
  @ApiOperation({
    summary: "A feedback link's page: the anomaly and the label, with a Confirm button; records nothing",
    description: 'No credentials: the token is one. The button POSTs to the same URL.',
  })
  @ApiParam({ name: 'token', description: "the link's signed token" })
  @ApiProduces('text/html')
  @ApiResponse({ status: 200, description: 'the confirm page', content: HTML })
  @ApiLinkRefusals()
  async confirm(
    @Param('token') token: string,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    return htmlUnlessJson(accept, reply, async () => {
      const { claim, anomaly } = await this.resolve(token);
      void reply.headers(FEEDBACK_PAGE_HEADERS).status(200);
      return confirmPage(claim, anomaly);
    });
  }

  @Post()
  @ApiOperation({
    summary: "Record a feedback link's label (the Confirm button), replacing an earlier label of the anomaly",
    description:
      'No credentials: the token is one. Audited as `feedback-link`. Answers a page, or the label as ' +
      'POST /v1/anomalies/{id}/feedback does with `accept: application/json`. Any body is ignored.',
  })
  @ApiParam({ name: 'token', description: "the link's signed token" })
  @ApiProduces('text/html', 'application/json')
  @ApiResponse({
    status: 201,
    description: 'recorded',
    content: { ...HTML, 'application/json': { schema: FEEDBACK } },
  })
  @ApiLinkRefusals()
  async record(
    @Param('token') token: string,
    @Headers('accept') accept: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string | FeedbackBody> {
    return htmlUnlessJson(accept, reply, async () => {
      const { claim, tenant, anomaly } = await this.resolve(token);
      const by: AuditContext = { actor: { kind: 'feedback-link' }, sourceIp: request.ip };
      const feedback = await this.runtime.feedback.give(
        tenant.id,
        anomaly,
        { label: claim.label },
        by,
        tenant.anomaliesDays,
      );
      if (wantsJson(accept)) {
        void reply.status(201);
        return feedbackBody(feedback);
      }
      void reply.headers(FEEDBACK_PAGE_HEADERS).status(201);
      return recordedPage(feedback, anomaly);
    });
  }

  /** The claim of a genuine, unexpired token, and the tenant and anomaly it names, both still there. */
  private async resolve(token: string): Promise<Resolved> {
    if (!this.signer)
      throw new Error('feedback links need the admin token, which this process does not have');
    const claim = this.signer.verify(token);
    const tenant = await this.runtime.tenants.find(claim.tenantId);
    // A closed tenant's keys stop at once; its links do too, as its data is on its way out.
    const anomaly =
      tenant && !tenant.closure ? await this.runtime.anomalies.get(tenant.id, claim.anomalyId) : undefined;
    if (!tenant || !anomaly) {
      throw new AlertingException(
        AlertingExceptionCode.UNKNOWN_ANOMALY,
        `the anomaly this link is about no longer exists (${claim.anomalyId})`,
      );
    }
    return { claim, tenant, anomaly };
  }
}

/**
 * Runs `answer`; a refused link is a page for a person, and for `accept: application/json`
 * the error filter's JSON, with the same status either way. `link` names it on the page.
 */
export async function htmlUnlessJson<T>(
  accept: string | undefined,
  reply: FastifyReply,
  answer: () => Promise<T>,
  link?: string,
): Promise<T | string> {
  try {
    return await answer();
  } catch (error) {
    if (!(error instanceof AlertingException) || wantsJson(accept)) throw error;
    const status = alertingStatusOf(error.code);
    void reply.headers(FEEDBACK_PAGE_HEADERS).status(status);
    return errorPage(status, error.message, link);
  }
}

export function wantsJson(accept: string | undefined): boolean {
  return accept !== undefined && /\bapplication\/json\b/i.test(accept);
}
