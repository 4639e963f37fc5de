import { z } from 'zod';

/**
 * Seismo's configuration, read once from the environment and validated at boot: a
 * wrong value stops the process with the variable's name, instead of surfacing later as
 * a strange failure. Every variable is documented in the README.
 */
const schema = z.object({
  SEISMO_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  SEISMO_HOST: z.string().min(1).default('0.0.0.0'),
  SEISMO_DATA_DIR: z.string().min(1).default('./data'),
  SEISMO_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});

export interface SeismoConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
}

export class ConfigError extends Error {
  constructor(readonly issues: Array<{ variable: string; problem: string }>) {
    super(`invalid configuration: ${issues.map((i) => `${i.variable}: ${i.problem}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): SeismoConfig {
  // An empty variable means "unset": `SEISMO_PORT= npm start` should not be a parse error.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({ variable: String(issue.path[0]), problem: issue.message })),
    );
  }
  const v = parsed.data;
  return {
    port: v.SEISMO_PORT,
    host: v.SEISMO_HOST,
    dataDir: v.SEISMO_DATA_DIR,
    logLevel: v.SEISMO_LOG_LEVEL,
  };
}
