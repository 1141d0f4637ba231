import { resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vitest/config';

/** The client libraries the tests drive the gateway with (never the gateway's own SDKs in src/). */
const CLIENTS = /^(?:openai|ai|@ai-sdk\/openai|@langchain\/openai|@langchain\/core)(?:\/.*)?$/;

/** Tests of the gateway's own use of the SDKs (its backends, and the simulators those SDKs must
 * parse): they compare against the classes of the version the gateway ships. */
const OWN_SDK_TESTS = ['test/backends/', 'test/simulators/'].map((dir) => `${resolve(dir)}/`);

/**
 * STATEROUTE_TEST_CLIENTS=<dir>: a test file's imports of the client libraries resolve from
 * `<dir>/node_modules` (`test/clients`: today's releases, pinned) instead of the project's
 * devDependencies, so the same client-facing tests check the drop-in promise against the versions
 * users install now. The gateway under test (src/) keeps its own dependencies either way.
 */
function clientReleases(dir: string): Plugin {
  const from = resolve(dir, 'package.json');
  const tests = `${resolve('test')}/`;
  return {
    name: 'stateroute-client-releases',
    enforce: 'pre',
    async resolveId(source, importer) {
      if (!importer?.startsWith(tests) || OWN_SDK_TESTS.some((dir) => importer.startsWith(dir)) || !CLIENTS.test(source)) return null;
      const found = await this.resolve(source, from, { skipSelf: true });
      if (!found) throw new Error(`STATEROUTE_TEST_CLIENTS: ${source} is not installed in ${dir} (npm ci --prefix ${dir})`);
      return found;
    },
  };
}

const clients = process.env.STATEROUTE_TEST_CLIENTS;

export default defineConfig({
  plugins: clients ? [clientReleases(clients)] : [],
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Tests start real servers on ephemeral loopback ports; two workers match the 2-core machines.
    pool: 'forks',
    maxWorkers: 2,
  },
});
