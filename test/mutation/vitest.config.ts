/**
 * The vitest configuration of the mutation check: the project's own, plus a plugin that applies the
 * mutation named by `MACHINE_MUTATION` to the machine source as vite loads it. The file on disk is
 * never touched.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../../vitest.config.js';
import { MUTATIONS } from './mutations.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const mutation = MUTATIONS.find((candidate) => candidate.id === process.env.MACHINE_MUTATION);
if (process.env.MACHINE_MUTATION && !mutation) {
  throw new Error(`No mutation named ${process.env.MACHINE_MUTATION}`);
}

export default mergeConfig(
  base,
  defineConfig({
    // Correctness, not speed, is checked here: a loaded machine must not turn a slow test into a catch.
    test: { testTimeout: 120_000 },
    plugins: [
      {
        name: 'machine-mutation',
        enforce: 'pre',
        transform(code, id) {
          if (!mutation || path.resolve(id.split('?')[0] ?? id) !== path.join(root, mutation.file))
            return null;
          const at = code.indexOf(mutation.find);
          if (at < 0 || code.indexOf(mutation.find, at + 1) >= 0) {
            throw new Error(`Mutation ${mutation.id} does not apply once to ${mutation.file}`);
          }
          return { code: code.replace(mutation.find, mutation.replace), map: null };
        },
      },
    ],
  }),
);
