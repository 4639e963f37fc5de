import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from './config';

interface ComposeService {
  readonly image?: string;
  readonly build?: unknown;
  readonly environment?: Record<string, string | number | boolean | null>;
}

const compose = parse(readFileSync(join(__dirname, '..', '..', '..', 'docker-compose.yml'), 'utf8'), {
  merge: true, // the Seismo services share their settings through `<<: *anchor`
}) as { services: Record<string, ComposeService> };

/** What compose makes of `${VAR:-default}`, `${VAR-default}` and `${VAR}` when nothing is set. */
function interpolated(value: string | number | boolean | null): string {
  return String(value ?? '').replace(
    /\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g,
    (_, _name: string, fallback?: string) => fallback ?? '',
  );
}

function environmentOf(service: string): Record<string, string> {
  const environment = compose.services[service]?.environment;
  if (!environment) throw new Error(`docker-compose.yml has no environment for ${service}`);
  return Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, interpolated(value)]));
}

/** The services that run Seismo: those built from the Dockerfile. */
const seismoServices = Object.keys(compose.services).filter(
  (name) => compose.services[name].build !== undefined,
);

describe('docker-compose.yml', () => {
  it('runs an API and two engines built from the Dockerfile', () => {
    expect(seismoServices.sort()).toEqual(['api', 'engine-1', 'engine-2']);
  });

  it.each(seismoServices)('sets only variables Seismo reads, in %s', (service) => {
    const seismo = Object.keys(environmentOf(service)).filter((name) => name.startsWith('SEISMO_'));
    expect(seismo.length).toBeGreaterThan(0);
    expect(seismo.filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
  });

  it.each(seismoServices)('gives %s a configuration loadConfig accepts', (service) => {
    expect(() => loadConfig(environmentOf(service))).not.toThrow();
  });

  it('runs the engines in one consumer group, and the API alone', () => {
    const [first, second] = ['engine-1', 'engine-2'].map((name) => loadConfig(environmentOf(name)));
    expect(first.role).toBe('engine');
    expect(second.role).toBe('engine');
    expect(second.engineGroup).toBe(first.engineGroup);
    expect(second.partitions).toBe(first.partitions);
    const api = loadConfig(environmentOf('api'));
    expect(api.role).toBe('api');
    expect(api.partitions).toBe(first.partitions);
  });

  it("points every Seismo service at the kafka service's listener and the clickhouse service", () => {
    const kafka = environmentOf('kafka');
    expect(compose.services.kafka.image).toMatch(/^apache\/kafka:/);
    expect(kafka.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    const advertised = /PLAINTEXT:\/\/([^,]+)/.exec(kafka.KAFKA_ADVERTISED_LISTENERS)?.[1];
    expect(advertised).toBe('kafka:9092');
    expect(kafka.KAFKA_LISTENERS).toContain(`PLAINTEXT://:${advertised!.split(':')[1]}`);
    expect(compose.services.clickhouse.image).toMatch(/^clickhouse\/clickhouse-server:/);

    for (const service of seismoServices) {
      const config = loadConfig(environmentOf(service));
      expect([service, config.kafkaBrokers]).toEqual([service, [advertised]]);
      const clickhouse = new URL(config.clickhouseUrl!);
      expect([service, clickhouse.hostname, clickhouse.port]).toEqual([service, 'clickhouse', '8123']);
      // The credentials are those the clickhouse service creates.
      const server = environmentOf('clickhouse');
      expect([clickhouse.username, clickhouse.password]).toEqual([
        server.CLICKHOUSE_USER,
        server.CLICKHOUSE_PASSWORD,
      ]);
    }
  });
});
