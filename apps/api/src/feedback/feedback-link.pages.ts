import { createHash } from 'node:crypto';
import { escapeHtml, type Feedback, type FeedbackClaim, type FeedbackLabel } from '@seismo/alerting';
import { type StoredAnomaly } from '@seismo/storage';

/** What the alerts' buttons call each label (Slack, email, PagerDuty). */
const LABEL_TEXT: Readonly<Record<FeedbackLabel, string>> = {
  true_positive: 'Real anomaly',
  false_positive: 'False alarm',
  expected: 'Expected',
};

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5}' +
  'code{word-break:break-all}button{font-size:1.1rem;padding:.5rem 1.5rem}svg{width:100%;height:auto}';

/**
 * The pages' headers. Nothing is loaded from anywhere (the one inline style is allowed by
 * its hash), the form may only post back here, no site may frame the page (a confirm
 * button under someone else's overlay), and the token in the URL is never sent on as a
 * Referer nor kept in a cache.
 */
export const FEEDBACK_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; ` +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/** GET /v1/feedback/{token}: names the anomaly and the label; only the button's POST records it. */
export function confirmPage(claim: FeedbackClaim, anomaly: StoredAnomaly): string {
  const label = LABEL_TEXT[claim.label];
  return page(`${label}?`, [
    `<h1>Mark this anomaly as ${escapeHtml(label.toLowerCase())}?</h1>`,
    anomalyParagraph(anomaly),
    `<p>Label: <b>${escapeHtml(label)}</b> (<code>${escapeHtml(claim.label)}</code>), ` +
      'replacing any earlier label of this anomaly.</p>',
    // No action: the form posts to this very URL, whatever path a proxy puts in front.
    '<form method="post"><button type="submit">Confirm</button></form>',
    `<p>Nothing is recorded until you confirm. This link works until ${escapeHtml(iso(claim.expiresAt))}.</p>`,
  ]);
}

/** POST /v1/feedback/{token}: the label, as recorded. */
export function recordedPage(feedback: Feedback, anomaly: StoredAnomaly): string {
  const label = LABEL_TEXT[feedback.label];
  return page(`Recorded: ${label}`, [
    `<h1>Recorded: ${escapeHtml(label.toLowerCase())}</h1>`,
    anomalyParagraph(anomaly),
    `<p>Labelled <code>${escapeHtml(feedback.label)}</code> at ${escapeHtml(iso(feedback.createdAt))}. ` +
      'Thank you.</p>',
  ]);
}

/** A refused link (401, 410, 404), for a person: what went wrong, nothing more. */
export function errorPage(status: number, message: string, link = 'feedback link'): string {
  return page(`${link[0].toUpperCase()}${link.slice(1)}: ${status}`, [
    `<h1>This ${escapeHtml(link)} cannot be used</h1>`,
    `<p>${escapeHtml(message)}</p>`,
  ]);
}

function anomalyParagraph(anomaly: StoredAnomaly): string {
  return (
    `<p>Anomaly <code>${escapeHtml(anomaly.id)}</code> of <code>${escapeHtml(anomaly.series)}</code> ` +
    `at ${escapeHtml(iso(anomaly.ts))}: value ${escapeHtml(String(anomaly.value))}, ` +
    `score ${escapeHtml(anomaly.score.toFixed(2))} (${escapeHtml(anomaly.severity)}).</p>`
  );
}

/** A page of the links in alerts (feedback, charts): the headers above allow exactly its one style. */
export function page(title: string, body: readonly string[]): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex">',
    `<title>Seismo: ${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head><body>',
    ...body,
    '</body></html>',
    '',
  ].join('\n');
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
