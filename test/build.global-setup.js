// End-to-end tests run the built program, as users get it: build it once first, so
// they never pass or fail against a stale dist/.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

module.exports = function buildOnce() {
  const result = spawnSync('npm', ['run', 'build', '--silent'], {
    cwd: path.resolve(__dirname, '..'),
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`npm run build failed before the e2e tests:\n${result.stdout}${result.stderr}`);
  }
};
