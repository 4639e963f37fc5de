import { AssignerProtocol, type Cluster, type GroupMember } from 'kafkajs';
import { ownerOf, SINGLE_OWNER_ASSIGNER, singleOwnerAssigner } from './single-owner.assigner';

const PARTITIONS: Record<string, number> = { 'seismo.anomalies': 3, 'seismo.points': 2 };

const cluster = {
  findTopicPartitionMetadata: (topic: string) =>
    Array.from({ length: PARTITIONS[topic] }, (_, partitionId) => ({ partitionId })),
} as unknown as Cluster;

function assignerOf(owns: () => boolean) {
  return singleOwnerAssigner(owns)({ cluster, groupId: 'g', logger: undefined as never });
}

/** A member as it joins: the metadata its own assigner's protocol() makes. */
function member(memberId: string, owns: boolean): GroupMember {
  const { metadata } = assignerOf(() => owns).protocol({ topics: Object.keys(PARTITIONS) });
  return { memberId, memberMetadata: metadata };
}

describe('singleOwnerAssigner', () => {
  it('picks the member that owns the partitions now, else the first by id', () => {
    expect(ownerOf([])).toBeUndefined();
    expect(
      ownerOf([
        { memberId: 'seismo-c', owns: false },
        { memberId: 'seismo-a', owns: false },
      ]),
    ).toBe('seismo-a');
    expect(
      ownerOf([
        { memberId: 'seismo-a', owns: false },
        { memberId: 'seismo-c', owns: true },
      ]),
    ).toBe('seismo-c');
    // Two claimants (a group that healed a split) settle on one.
    expect(
      ownerOf([
        { memberId: 'seismo-d', owns: true },
        { memberId: 'seismo-b', owns: true },
        { memberId: 'seismo-a', owns: false },
      ]),
    ).toBe('seismo-b');
  });

  it('gives every partition of every topic to one member, and keeps them with the owner when another joins', async () => {
    const assigner = assignerOf(() => false);
    expect(assigner.name).toBe(SINGLE_OWNER_ASSIGNER);
    const topics = Object.keys(PARTITIONS);

    const first = await assigner.assign({ members: [member('m-b', false), member('m-a', false)], topics });
    expect(first).toHaveLength(1);
    expect(first[0].memberId).toBe('m-a');
    expect(AssignerProtocol.MemberAssignment.decode(first[0].memberAssignment)?.assignment).toEqual({
      'seismo.anomalies': [0, 1, 2],
      'seismo.points': [0, 1],
    });

    // m-b holds them now; m-a (first by id) joins again: m-b keeps them.
    const again = await assigner.assign({ members: [member('m-a', false), member('m-b', true)], topics });
    expect(again.map((a) => a.memberId)).toEqual(['m-b']);
  });

  it('says in its join metadata whether this member owns the partitions at the time it joins', () => {
    let owns = false;
    const assigner = assignerOf(() => owns);
    const claim = () =>
      AssignerProtocol.MemberMetadata.decode(assigner.protocol({ topics: ['t'] }).metadata)?.userData[0];
    expect(claim()).toBe(0);
    owns = true;
    expect(claim()).toBe(1);
  });
});
