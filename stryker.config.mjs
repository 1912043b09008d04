// Mutation testing of the pure cores (issue 15), run by hand: `make mutation` (minutes, not part
// of `make test`). Stryker instruments the TypeScript sources in a sandbox, compiles them once
// (buildCommand) and runs the cores' unit tests per mutant through the plain command runner.
// Report: .tmp/mutation/report.html and .tmp/mutation/report.json.
const tests = [
  'dist/src/http/auth.test.js',
  'dist/src/engine/update/validate.test.js',
  'dist/src/engine/update/validate-failures.test.js',
  'dist/src/engine/update/selection.test.js',
  'dist/src/engine/check/ignore.test.js',
  'dist/src/engine/registry/reference.test.js',
  'dist/src/store/jobs-cursor.test.js',
];

export default {
  mutate: [
    'src/http/auth.ts',
    'src/engine/update/validate.ts',
    'src/engine/update/selection.ts',
    'src/engine/check/ignore.ts',
    'src/engine/registry/reference.ts',
    // The job-log cursor: encodeJobsCursor and decodeJobsCursor.
    'src/store/jobs.ts:137-155',
  ],
  testRunner: 'command',
  commandRunner: { command: `node --test --test-reporter=dot ${tests.join(' ')}` },
  buildCommand: 'tsc -p tsconfig.json',
  coverageAnalysis: 'off',
  concurrency: 2,
  timeoutMS: 20_000,
  tempDirName: '.tmp/stryker',
  ignorePatterns: ['dist', '.tmp', 'web', 'node_modules', 'docs', 'bench'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: '.tmp/mutation/report.html' },
  jsonReporter: { fileName: '.tmp/mutation/report.json' },
  thresholds: { high: 85, low: 70, break: null },
};
