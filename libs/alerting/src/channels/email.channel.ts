import {
  createTransport,
  type NodemailerError,
  type SMTPSentMessageInfo,
  type Transporter,
} from 'nodemailer';
import { type Channel, type Delivery, type SendOutcome, wrongTarget } from '../channel';
import { type Notification } from '../notification';

export interface SmtpSettings {
  /** SEISMO_SMTP_URL: `smtp://user:pass@mail.example:587` (STARTTLS when offered) or `smtps://...` (TLS). */
  readonly url: string;
  /** SEISMO_SMTP_FROM: `Seismo <alerts@example.com>`. */
  readonly from: string;
}

export interface EmailMessage {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly messageId: string;
  /** `<incidentId@seismo>`, the root every message of the incident answers: one thread per incident. */
  readonly threadId: string;
}

const MAX_LISTED_SERIES = 20;

/** Deterministic ids, so a retry sends the same Message-ID and the incident's thread needs no stored state. */
export function emailMessageOf(delivery: Delivery): EmailMessage {
  const n = delivery.notification;
  const threadId = `<${n.incidentId}@seismo>`;
  const listed = n.series.slice(0, MAX_LISTED_SERIES);
  const more = n.series.length - listed.length;
  const when = (ms: number): string => new Date(ms).toISOString();
  const text = [
    n.title,
    '',
    n.summary,
    '',
    `Severity: ${n.severity}`,
    `State: ${n.state}`,
    `Opened: ${when(n.openedAt)}`,
    ...(n.resolvedAt !== undefined ? [`Resolved: ${when(n.resolvedAt)}`] : []),
    `Incident: ${n.incidentId}`,
    '',
    'Series:',
    ...listed.map((s) => `  ${s.series}  value ${s.value}  score ${s.score.toFixed(2)}  at ${when(s.ts)}`),
    ...(more > 0 ? [`  and ${more} more`] : []),
    ...(n.links.series ? ['', `Chart: ${n.links.series}`] : []),
    ...(n.links.feedback
      ? [
          '',
          `Real anomaly: ${n.links.feedback.truePositive}`,
          `False alarm: ${n.links.feedback.falsePositive}`,
          `Expected: ${n.links.feedback.expected}`,
        ]
      : []),
    '',
  ].join('\n');
  const link = (href: string, label: string): string =>
    `<a href="${escapeHtml(href)}">${escapeHtml(label)}</a>`;
  const rows = listed
    .map(
      (s) =>
        `<tr><td><code>${escapeHtml(s.series)}</code></td><td>${escapeHtml(String(s.value))}</td>` +
        `<td>${escapeHtml(s.score.toFixed(2))}</td><td>${escapeHtml(when(s.ts))}</td></tr>`,
    )
    .join('');
  const html = [
    '<!doctype html><html><body>',
    `<h2>${escapeHtml(n.title)}</h2>`,
    `<p>${escapeHtml(n.summary)}</p>`,
    `<p>Severity: <b>${escapeHtml(n.severity)}</b> · State: <b>${escapeHtml(n.state)}</b> · ` +
      `Opened: ${escapeHtml(when(n.openedAt))} · Incident: <code>${escapeHtml(n.incidentId)}</code></p>`,
    `<table><tr><th>Series</th><th>Value</th><th>Score</th><th>At</th></tr>${rows}</table>`,
    ...(more > 0 ? [`<p>and ${more} more</p>`] : []),
    ...(n.links.series ? [`<p>${link(n.links.series, 'Open the chart')}</p>`] : []),
    ...(n.links.feedback
      ? [
          `<p>${link(n.links.feedback.truePositive, 'Real anomaly')} · ` +
            `${link(n.links.feedback.falsePositive, 'False alarm')} · ${link(n.links.feedback.expected, 'Expected')}</p>`,
        ]
      : []),
    '</body></html>',
  ].join('\n');
  return { subject: subjectOf(n), text, html, messageId: `<${delivery.idempotencyKey}@seismo>`, threadId };
}

/** `[CRITICAL] cpu{host="a"} anomalous (critical)`, `[RESOLVED] ...`: the state a reader sorts by first. */
export function subjectOf(n: Notification): string {
  const tag = n.state === 'resolved' ? 'RESOLVED' : n.severity.toUpperCase();
  return `[${tag}] ${n.title}`.replace(/[\r\n]+/g, ' ');
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * Sends mail through one SMTP transport, made once from SEISMO_SMTP_URL. A 4xx reply or a
 * connection failure is tried again; a 5xx (550 no such user, 535 bad credentials) never.
 * A delivery names one recipient (`deliveriesOf`), so its outcome is that recipient's: a
 * recipient the server refuses fails the delivery even when the server took the message for
 * others (nodemailer resolves then), with the server's reply as the error.
 * An abort answers at once, but SMTP cannot take back a message under way: the stable
 * Message-ID is what lets a mail system drop the repeat.
 */
export class EmailChannel implements Channel {
  readonly kind = 'email' as const;
  private readonly transport: Transporter<SMTPSentMessageInfo>;

  constructor(private readonly settings: SmtpSettings) {
    this.transport = createTransport(settings.url);
  }

  async send(delivery: Delivery, signal: AbortSignal): Promise<SendOutcome> {
    const { target } = delivery;
    if (target.kind !== 'email') return wrongTarget(target, this.kind);
    if (signal.aborted) return { ok: false, retryable: true, error: 'aborted' };
    const message = emailMessageOf(delivery);
    const sending = this.transport
      .sendMail({
        from: this.settings.from,
        to: [...target.to],
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: message.messageId,
        // Every message of an incident answers the same root, sent or not: mail clients
        // thread on References, and a deterministic root needs no stored Message-ID.
        inReplyTo: message.threadId,
        references: [message.threadId],
        headers: {
          'X-Seismo-Idempotency-Key': delivery.idempotencyKey,
          'X-Seismo-Incident': delivery.notification.incidentId,
        },
      })
      .then((info): SendOutcome => refusalOf(info, target.to.length) ?? { ok: true }, smtpFailure);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<SendOutcome>((resolve) => {
      onAbort = () =>
        resolve({ ok: false, retryable: true, error: 'timed out or aborted while sending mail' });
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([sending, aborted]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  close(): void {
    this.transport.close();
  }
}

/** Sending email without SEISMO_SMTP_URL: a setting away, never right on a retry. */
export class UnconfiguredEmailChannel implements Channel {
  readonly kind = 'email' as const;

  send(): Promise<SendOutcome> {
    return Promise.resolve({
      ok: false,
      retryable: false,
      error: 'email is not configured (SEISMO_SMTP_URL)',
    });
  }
}

/**
 * The recipients refused in a send that went through for others, as a failure: worth
 * another try when one of them was deferred (4xx, or no reply code), final when every
 * refusal was a 5xx. Only a delivery enqueued before deliveries were made per recipient can
 * name several; its retry mails again those who took it, whose servers can drop the repeat
 * by its Message-ID.
 */
function refusalOf(info: SMTPSentMessageInfo, recipients: number): SendOutcome | undefined {
  const refused = info.rejectedErrors ?? [];
  if (refused.length === 0) return undefined;
  const deferred = refused.find((r) => typeof r.responseCode !== 'number' || r.responseCode < 500);
  const { responseCode } = deferred ?? refused[0];
  const error = refused
    .map((r) => {
      const who = recipients > 1 && r.recipient ? `${r.recipient}: ` : '';
      return `${who}SMTP ${r.responseCode ?? 'error'}: ${saidOf(r)}`;
    })
    .join('; ');
  return {
    ok: false,
    retryable: deferred !== undefined,
    ...(typeof responseCode === 'number' ? { status: responseCode } : {}),
    error,
  };
}

function saidOf({ response, message }: Pick<NodemailerError, 'response' | 'message'>): string {
  return (response ?? message).replace(/\s+/g, ' ').slice(0, 200);
}

function smtpFailure(error: unknown): SendOutcome {
  const { responseCode, code } = error as NodemailerError;
  const said = saidOf(error as NodemailerError);
  if (typeof responseCode === 'number') {
    return {
      ok: false,
      retryable: responseCode < 500,
      status: responseCode,
      error: `SMTP ${responseCode}: ${said}`,
    };
  }
  // No reply code: the message itself could not be made (never better later), or the server was not reached.
  const permanent = code === 'EENVELOPE' || code === 'EMESSAGE';
  return { ok: false, retryable: !permanent, error: `SMTP ${code ?? 'error'}: ${said}` };
}
