import { type Admin } from 'kafkajs';

/**
 * How far a consumer group is behind a topic, per partition (index = partition): the high
 * watermark minus the group's committed position. A partition the group never committed
 * counts from the log's start (the low watermark), which is where the group will begin.
 */
export async function consumerLag(admin: Admin, topic: string, groupId: string): Promise<number[]> {
  const [watermarks, [committed]] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const positions = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  const lag: number[] = [];
  for (const { partition, high, low } of watermarks) {
    const position = positions.get(partition) ?? -1;
    lag[partition] = Math.max(0, Number(high) - (position >= 0 ? position : Number(low)));
  }
  return lag;
}
