/** What went wrong in alerting, for callers that branch (HTTP status above all). */
export enum AlertingExceptionCode {
  /** 400: a field of a subscription is not valid; `field` names it as the API spells it. */
  INVALID_SUBSCRIPTION = 'INVALID_SUBSCRIPTION',
  /** 404: no such subscription in the caller's tenant (or none the caller may see). */
  UNKNOWN_SUBSCRIPTION = 'UNKNOWN_SUBSCRIPTION',
  /** 400: a field of a silence is not valid; `field` names it. */
  INVALID_SILENCE = 'INVALID_SILENCE',
  /** 404: no such silence in the caller's tenant. */
  UNKNOWN_SILENCE = 'UNKNOWN_SILENCE',
  /** 400: a field of a feedback is not valid (label, note, an unknown field); `field` names it. */
  INVALID_FEEDBACK = 'INVALID_FEEDBACK',
  /** 404: no such anomaly in the caller's tenant. */
  UNKNOWN_ANOMALY = 'UNKNOWN_ANOMALY',
  /** 401: a feedback link's token is malformed or its signature does not match (tampered, or another deployment's). */
  INVALID_FEEDBACK_TOKEN = 'INVALID_FEEDBACK_TOKEN',
  /** 410: a feedback link's token is genuine but past its expiry. */
  EXPIRED_FEEDBACK_TOKEN = 'EXPIRED_FEEDBACK_TOKEN',
  /** 401: a chart link's token is malformed or its signature does not match. */
  INVALID_CHART_TOKEN = 'INVALID_CHART_TOKEN',
  /** 410: a chart link's token is genuine but past its expiry. */
  EXPIRED_CHART_TOKEN = 'EXPIRED_CHART_TOKEN',
  /** 404: a chart link's tenant was erased or closed. */
  UNKNOWN_CHART = 'UNKNOWN_CHART',
  /** 404: no such delivery in the caller's tenant. */
  UNKNOWN_DELIVERY = 'UNKNOWN_DELIVERY',
  /** 409: only a dead delivery can be retried (a pending one is being tried, a sent one arrived). */
  DELIVERY_NOT_DEAD = 'DELIVERY_NOT_DEAD',
  /** A delivery dispatcher's option is out of range; `field` names it. A boot error. */
  INVALID_DISPATCHER_OPTIONS = 'INVALID_DISPATCHER_OPTIONS',
  /** Deliveries handed to a dispatcher that was stopped: nothing was stored, the caller must not count them as taken. */
  DISPATCHER_STOPPED = 'DISPATCHER_STOPPED',
}

export class AlertingException extends Error {
  constructor(
    readonly code: AlertingExceptionCode,
    message: string,
    /** The input field at fault, as the API spells it (`filter.min_score`, `target.url`). */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AlertingException';
  }
}
