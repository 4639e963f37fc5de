import { type Channel, type ChannelKind } from '../channel';
import { EmailChannel, type SmtpSettings, UnconfiguredEmailChannel } from './email.channel';
import { OutboundHttp, type Resolver } from './outbound-http';
import { PagerDutyChannel } from './pagerduty.channel';
import { SlackChannel } from './slack.channel';
import { WebhookChannel } from './webhook.channel';

export interface ChannelsOptions {
  /** SEISMO_ALLOW_PRIVATE_TARGETS: receivers on private and loopback addresses may be reached. */
  readonly allowPrivateTargets: boolean;
  /** SEISMO_SMTP_URL and SEISMO_SMTP_FROM; absent: email deliveries fail, not retried. */
  readonly smtp?: SmtpSettings;
  /** The deployment's public address, PagerDuty's client_url. */
  readonly publicUrl?: string;
  /** Tests only: another resolver than the system's. */
  readonly resolve?: Resolver;
}

/** Every channel, made once per process; the dispatcher asks for one per delivery. */
export interface Channels {
  channelFor(kind: ChannelKind): Channel;
  /** Closes the SMTP transport and the HTTP agents. */
  close(): void;
}

export function createChannels(options: ChannelsOptions): Channels {
  const http = new OutboundHttp({
    allowPrivate: options.allowPrivateTargets,
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
  const email = options.smtp ? new EmailChannel(options.smtp) : undefined;
  const channels: Record<ChannelKind, Channel> = {
    webhook: new WebhookChannel(http),
    slack: new SlackChannel(http),
    email: email ?? new UnconfiguredEmailChannel(),
    pagerduty: new PagerDutyChannel(http, options.publicUrl),
  };
  return {
    channelFor: (kind) => channels[kind],
    close: () => {
      email?.close();
      http.close();
    },
  };
}
