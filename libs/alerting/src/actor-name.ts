import { type Actor } from '@seismo/tenancy';

/** An actor as alerting's tables name who did something: `member:<id>`, `service-key:<id>`, or its kind. */
export function actorName(actor: Actor): string {
  switch (actor.kind) {
    case 'member':
      return `member:${actor.memberId}`;
    case 'service-key':
      return `service-key:${actor.keyId}`;
    default:
      return actor.kind;
  }
}
