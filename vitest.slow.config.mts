/**
 * `npm run test:slow`: the slow scenarios `npm test` leaves out (test/slowFiles.ts), with everything else
 * of vitest.config.mts. The variable is set before that config is loaded, hence the dynamic import.
 */
process.env.VITEST_SLOW = "only";
const { default: config } = await import("./vitest.config.mts");
export default config;
