import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('fills in defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: '0.0.0.0',
      dataDir: './data',
      logLevel: 'info',
      partitions: 4,
      anomalyThreshold: 0.5,
    });
  });

  it('reads and converts each variable', () => {
    const config = loadConfig({
      SEISMO_PORT: '9090',
      SEISMO_DATA_DIR: '/var/lib/seismo',
      SEISMO_LOG_LEVEL: 'debug',
    });
    expect(config.port).toBe(9090);
    expect(config.dataDir).toBe('/var/lib/seismo');
    expect(config.logLevel).toBe('debug');
  });

  it('reads the storage, admin and engine settings', () => {
    const config = loadConfig({
      SEISMO_CLICKHOUSE_URL: 'http://clickhouse:8123',
      SEISMO_ADMIN_TOKEN: 'a-long-enough-admin-token',
      SEISMO_PARTITIONS: '8',
      SEISMO_ANOMALY_THRESHOLD: '0.6',
    });
    expect(config).toMatchObject({
      clickhouseUrl: 'http://clickhouse:8123',
      adminToken: 'a-long-enough-admin-token',
      partitions: 8,
      anomalyThreshold: 0.6,
    });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ SEISMO_PORT: '' }).port).toBe(8080);
  });

  it.each([
    ['SEISMO_PORT', 'eighty'],
    ['SEISMO_PORT', '70000'],
    ['SEISMO_LOG_LEVEL', 'loud'],
    ['SEISMO_CLICKHOUSE_URL', 'not a url'],
    ['SEISMO_CLICKHOUSE_URL', 'ftp://clickhouse:8123'],
    ['SEISMO_ADMIN_TOKEN', 'short'],
    ['SEISMO_PARTITIONS', '0'],
    ['SEISMO_ANOMALY_THRESHOLD', '1.5'],
    ['SEISMO_KAFKA_BROKERS', '127.0.0.1:9092'],
  ])('stops on a bad %s, naming it', (variable, value) => {
    let error: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(variable);
    expect((error as ConfigError).issues[0].variable).toBe(variable);
  });
});
