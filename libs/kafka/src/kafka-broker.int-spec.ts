import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import {
  KafkaBrokerStartError,
  isProcessAlive,
  removeAbandonedBrokerDirs,
  startKafkaBroker,
} from './kafka-broker';
import { KAFKA_BROKER_HOOK_TIMEOUT_MS, randomTopicName, useKafkaBroker } from './testing/use-kafka-broker';

// Real brokers (deploy/kafka): seconds each, plus about a minute the first time a version is built.
const TEST_TIMEOUT_MS = KAFKA_BROKER_HOOK_TIMEOUT_MS;

describe('a Kafka broker per test file (useKafkaBroker)', () => {
  const kafka = useKafkaBroker();

  it(
    'keeps every partition in order from acks=all produce to eachBatch consume',
    async () => {
      const partitions = 3;
      const perPartition = 100;
      const topic = randomTopicName('order');
      const client = new Kafka({
        clientId: 'kafka-broker-spec',
        brokers: kafka().brokers,
        // Quiet: kafkajs logs the retried, expected errors of a first consumer group
        // (GROUP_COORDINATOR_NOT_AVAILABLE while __consumer_offsets is created) as ERROR.
        logLevel: logLevel.NOTHING,
      });

      const admin = client.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
      await admin.disconnect();

      const producer = client.producer();
      await producer.connect();
      // Ten sends of 30 messages, each spanning all partitions, so that every partition receives
      // several produce batches whose order the broker must keep.
      for (let round = 0; round < 10; round++) {
        const messages = [];
        for (let i = round * 10; i < (round + 1) * 10; i++) {
          for (let partition = 0; partition < partitions; partition++) {
            messages.push({ partition, key: `series-${partition}`, value: `${partition}:${i}` });
          }
        }
        const written = await producer.send({ topic, acks: -1, messages });
        expect(written.every((metadata) => metadata.errorCode === 0)).toBe(true);
      }
      await producer.disconnect();

      const seen = new Map<number, Array<{ offset: string; value: string }>>();
      let count = 0;
      // A short fetch wait: disconnect() waits for the fetch in flight, 5 s by default on an idle topic.
      const consumer = client.consumer({ groupId: randomTopicName('group'), maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
          const values = seen.get(batch.partition) ?? [];
          seen.set(batch.partition, values);
          for (const message of batch.messages) {
            values.push({ offset: message.offset, value: message.value!.toString() });
            resolveOffset(message.offset);
          }
          await heartbeat();
          count += batch.messages.length;
        },
      });
      try {
        await eventually(() => count >= partitions * perPartition, 30_000);
      } finally {
        await consumer.disconnect();
      }

      expect([...seen.keys()].sort((a, b) => a - b)).toEqual([0, 1, 2]);
      for (const [partition, values] of seen) {
        const expected = Array.from({ length: perPartition }, (_, i) => ({
          offset: String(i),
          value: `${partition}:${i}`,
        }));
        expect(values).toEqual(expected);
      }
    },
    TEST_TIMEOUT_MS,
  );
});

describe('startKafkaBroker', () => {
  it(
    'stop() ends the JVM, frees the port and removes the directory',
    async () => {
      const broker = await startKafkaBroker();
      const port = Number(broker.brokers[0].split(':')[1]);
      expect(isProcessAlive(broker.pid)).toBe(true);
      expect(existsSync(join(broker.dir, 'broker.log'))).toBe(true);
      expect(await canListen(port)).toBe(false);

      await broker.stop();

      expect(isProcessAlive(broker.pid)).toBe(false);
      expect(await canListen(port)).toBe(true);
      expect(existsSync(broker.dir)).toBe(false);
      await expect(broker.stop()).resolves.toBeUndefined();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'fails a broker that cannot start with the tail of its log, and leaves nothing behind',
    async () => {
      const before = brokerDirs();
      const start = startKafkaBroker({ config: { 'log.segment.bytes': 'lots' } });

      await expect(start).rejects.toThrow(KafkaBrokerStartError);
      await expect(start).rejects.toThrow(/exited during start[\s\S]*log\.segment\.bytes/);
      expect(brokerDirs()).toEqual(before);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'ends the broker with the process that started it, even a SIGKILLed one',
    async () => {
      // A second Node process owns the broker; it compiles this helper with swc as Jest does.
      const owner = spawn(process.execPath, ['-e', OWNER_SCRIPT, join(__dirname, 'kafka-broker.ts')], {
        cwd: join(__dirname, '..', '..', '..'),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        const { pid, dir, brokers } = await firstJsonLine<{ pid: number; dir: string; brokers: string[] }>(
          owner,
        );
        const port = Number(brokers[0].split(':')[1]);
        expect(isProcessAlive(pid)).toBe(true);

        owner.kill('SIGKILL');

        // The process reads as gone once it is a zombie, while its last threads may still be
        // closing sockets for a moment: hence the port is awaited too, not asserted at once.
        await eventually(async () => !isProcessAlive(pid) && (await canListen(port)), 15_000);
        // The directory outlives an owner that could not clean up; the next start sweeps it.
        expect(existsSync(dir)).toBe(true);
        removeAbandonedBrokerDirs();
        expect(existsSync(dir)).toBe(false);
      } finally {
        owner.kill('SIGKILL');
      }
    },
    TEST_TIMEOUT_MS,
  );
});

const OWNER_SCRIPT = `
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');
require.extensions['.ts'] = (module, filename) => {
  const source = readFileSync(filename, 'utf8');
  const options = { filename, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } };
  module._compile(transformSync(source, options).code, filename);
};
require(process.argv[1]).startKafkaBroker().then(
  (broker) => {
    console.log(JSON.stringify({ pid: broker.pid, dir: broker.dir, brokers: broker.brokers }));
    setInterval(() => undefined, 60_000); // the broker's handles are unref'd: stay alive until killed
  },
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
`;

function firstJsonLine<T>(child: ReturnType<typeof spawn>): Promise<T> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf('\n');
      if (newline >= 0) resolve(JSON.parse(stdout.slice(0, newline)) as T);
    });
    child.once('exit', (code) =>
      reject(new Error(`the owner process exited (${code}) before its broker started:\n${stderr}`)),
    );
  });
}

/** This process's broker directories: other Jest workers may be starting brokers meanwhile. */
function brokerDirs(): string[] {
  return readdirSync(tmpdir())
    .filter((name) => name.startsWith('seismo-kafka-'))
    .filter((name) => {
      try {
        return readFileSync(join(tmpdir(), name, 'owner.pid'), 'utf8') === String(process.pid);
      } catch {
        return false; // another process's, just created
      }
    });
}

async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`still not so after ${timeoutMs} ms: ${condition}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function canListen(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
