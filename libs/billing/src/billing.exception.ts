/** What went wrong in billing, for callers that branch (retry later, report, HTTP status). */
export enum BillingExceptionCode {
  /** A Stripe customer id that is not one (`cus_...`). */
  INVALID_CUSTOMER_ID = 'INVALID_CUSTOMER_ID',
  /** Stripe did not answer, or answered 429/5xx after every retry: try again later. */
  STRIPE_UNAVAILABLE = 'STRIPE_UNAVAILABLE',
  /** Stripe refused a request (4xx other than a duplicate identifier): a fix is needed. */
  STRIPE_REFUSED = 'STRIPE_REFUSED',
  /** Reading or writing the billing tables failed. */
  STORAGE_FAILED = 'STORAGE_FAILED',
}

export class BillingException extends Error {
  constructor(
    readonly code: BillingExceptionCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BillingException';
  }
}
