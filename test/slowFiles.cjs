/**
 * The test files `npm test` leaves to `npm run test:slow`: whole scenarios that deploy again and again
 * through the local engine, registries of 10,000 skills and more, and the network under another Node.js.
 * One list, read by both vitest configs; CI (`.ci/run`) runs both commands. What stays in `npm test`
 * still deploys the registry end to end (`test/scripts/deploy-dev.e2e.test.ts`: the README's main command).
 * Plain CommonJS, as the vitest config loads it.
 */
module.exports.SLOW_TEST_FILES = [
  "test/infra/deploy-local.e2e.test.ts",
  "test/engine/runner.e2e.test.ts",
  "ao-process/test/digest.test.ts",
  "ao-process/test/scale.test.ts",
  "test/devnet/node-versions.e2e.test.ts",
  "test/providers/stateMove.e2e.test.ts",
];
