/**
 * Real programs the tests drive (redis-server, Chromium), found the same way everywhere: an
 * environment variable naming the executable, else the first of its usual names on PATH. Under CI
 * (`CI=true`) a missing program fails its suite; elsewhere the suite is skipped with a message
 * that names what to install. `.ci/run` installs both and sets CI=true.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export interface ProgramSpec {
  /** What the program is, for messages: `'redis-server'`, `'Chromium'`. */
  readonly label: string;
  /** Environment variable that names the executable, e.g. `CHROMIUM_PATH`. */
  readonly envVariable: string;
  /** Names looked up on PATH, in order. */
  readonly names: readonly string[];
  /** The Debian package that provides it. */
  readonly debianPackage: string;
  /** The suites that need it, for the skip message. */
  readonly suites: string;
}

export interface ProgramGate {
  /** Where the program is, when found. */
  readonly path: string | undefined;
  /** Set when the suites must be skipped: the program is missing and this is not CI. */
  readonly skipReason: string | undefined;
  /** The executable, or an error naming what to install (a missing program under CI fails the suite). */
  require(): string;
}

/** `CI=true` (or `1`), as CI services set it; `CI=false` is not CI. */
export const isCI = (env: NodeJS.ProcessEnv = process.env): boolean =>
  ['true', '1'].includes((env.CI ?? '').toLowerCase());

const isExecutable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** Finds `spec`'s program in `env` (its variable, then PATH) and says what its suites should do. */
export function findProgram(spec: ProgramSpec, env: NodeJS.ProcessEnv = process.env): ProgramGate {
  const configured = env[spec.envVariable];
  let found: string | undefined;
  if (configured) {
    found = isExecutable(configured) ? configured : undefined;
  } else {
    search: for (const directory of (env.PATH ?? '').split(path.delimiter)) {
      if (!directory) continue;
      for (const name of spec.names) {
        const candidate = path.join(directory, name);
        if (isExecutable(candidate)) {
          found = candidate;
          break search;
        }
      }
    }
  }
  const where = configured
    ? `${spec.envVariable}=${configured} is not an executable`
    : `no ${spec.names.join(' / ')} on PATH and ${spec.envVariable} unset`;
  const missing = `${spec.label} not found (${where}): apt-get install -y ${spec.debianPackage}, or set ${spec.envVariable}`;
  return {
    path: found,
    skipReason: found === undefined && !isCI(env) ? `${missing}; skipping ${spec.suites}` : undefined,
    require: () => {
      if (found === undefined) throw new Error(`${missing} (required under CI=true)`);
      return found;
    },
  };
}

export const REDIS_SERVER: ProgramSpec = {
  label: 'redis-server',
  envVariable: 'REDIS_SERVER_PATH',
  names: ['redis-server'],
  debianPackage: 'redis-server',
  suites: 'the Redis cluster tests',
};

export const CHROMIUM: ProgramSpec = {
  label: 'Chromium',
  envVariable: 'CHROMIUM_PATH',
  names: ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'],
  debianPackage: 'chromium',
  suites: 'the browser tests of the live view',
};
