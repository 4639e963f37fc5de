import { type Message } from 'kafkajs';

/** Where a refused message was read: the headers that let an operator find it again, or tell a repeat. */
export interface DeadLetterOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number | string;
}

/**
 * A message for the dead-letter topic, the one shape every producer of it uses: the value is
 * what was refused, as it came, and the headers say why (`reason`, naming the field at fault)
 * and where it was read (`source-topic`, `source-partition`, `source-offset`). `extra` adds
 * headers of the writer's own, such as the tenant.
 *
 * Writers may put a letter twice after a crash (at least once, not effectively once): the
 * origin headers identify a letter, so a reader that must not see repeats drops them by those.
 */
export function deadLetterMessage(
  value: Uint8Array,
  reason: string,
  origin: DeadLetterOrigin,
  extra: Readonly<Record<string, string>> = {},
): Message {
  return {
    // A view, not a copy: the letter's bytes are not changed while the send is in flight.
    value: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
    headers: {
      reason,
      'source-topic': origin.topic,
      'source-partition': String(origin.partition),
      'source-offset': String(origin.offset),
      ...extra,
    },
  };
}
