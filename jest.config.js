// One config, three tiers: unit specs (`*.spec.ts`) next to the code, integration specs
// (`*.int-spec.ts`, against real Kafka and ClickHouse) next to the code they exercise, and
// end-to-end specs (`*.e2e-spec.ts`, the built program) in each app's test/ folder.
// swc strips types without checking them (tsc does that in `npm run typecheck`), which
// keeps a test run fast.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

const shared = {
  transform: { '^.+\\.ts$': swc },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@seismo/engine/(.*)$': '<rootDir>/apps/engine/src/$1',
    '^@seismo/([a-z-]+)$': '<rootDir>/libs/$1/src',
    '^@seismo/([a-z-]+)/(.*)$': '<rootDir>/libs/$1/src/$2',
  },
  testEnvironment: 'node',
};

module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/{apps,libs,benchmarks}/**/src/**/*.spec.ts',
        '<rootDir>/benchmarks/**/*.spec.ts',
      ],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs}/**/*.int-spec.ts'],
      testTimeout: 30_000,
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/apps/**/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/build.global-setup.js',
    },
  ],
};
