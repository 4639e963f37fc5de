// One config, three tiers: unit specs next to the code, integration and e2e specs in
// each app's test/ folder. swc strips types without checking them (tsc does that in
// `npm run typecheck`), which keeps a test run fast.
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
      displayName: 'e2e',
      testMatch: ['<rootDir>/apps/**/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/build.global-setup.js',
    },
  ],
};
