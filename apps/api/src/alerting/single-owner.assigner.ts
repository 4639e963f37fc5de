import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export const SINGLE_OWNER_ASSIGNER = 'SeismoSingleOwner';

/** One member of the group as the assigner sees it: its id and whether it says it owns the partitions now. */
export interface GroupMemberClaim {
  readonly memberId: string;
  readonly owns: boolean;
}

/**
 * The member that gets every partition: the one that says it owns them now (so a member
 * joining does not move the work), else the first by member id. Two claimants (a split the
 * group has healed) settle on the first of them by id.
 */
export function ownerOf(members: readonly GroupMemberClaim[]): string | undefined {
  const byId = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  return (byId.find((member) => member.owns) ?? byId[0])?.memberId;
}

/** The userData of a member's metadata: one byte, 1 while it owns the partitions. */
function claimOf(metadata: Buffer): boolean {
  const decoded = AssignerProtocol.MemberMetadata.decode(metadata);
  return decoded?.userData?.[0] === 1;
}

/**
 * A kafkajs partition assigner that gives every partition of every subscribed topic to one
 * member of the group and none to the others: a lease, with Kafka's group membership as the
 * election. The others stand by; when the owner leaves or stops heart-beating past its
 * session timeout, the group rebalances and one of them takes everything over, from the
 * offsets the owner committed.
 *
 * Sticky: each member says in its join metadata whether it owns the partitions now (`owns`,
 * read at each join), and the owner keeps them through rebalances that other members cause.
 */
export function singleOwnerAssigner(owns: () => boolean): PartitionAssigner {
  return ({ cluster }) => ({
    name: SINGLE_OWNER_ASSIGNER,
    version: 0,
    assign({ members, topics }) {
      const owner = ownerOf(
        members.map((member) => ({ memberId: member.memberId, owns: claimOf(member.memberMetadata) })),
      );
      if (owner === undefined) return Promise.resolve([]);
      const assignment: Record<string, number[]> = {};
      for (const topic of topics) {
        assignment[topic] = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId);
      }
      return Promise.resolve([
        {
          memberId: owner,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 0,
            assignment,
            userData: Buffer.alloc(0),
          }),
        },
      ]);
    },
    protocol({ topics }) {
      return {
        name: SINGLE_OWNER_ASSIGNER,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 0,
          topics,
          userData: Buffer.from([owns() ? 1 : 0]),
        }),
      };
    },
  });
}
