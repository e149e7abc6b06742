/**
 * The gate of suites that need a real program (redis-server, Chromium): found through its
 * environment variable or PATH; missing under CI=true fails the suite, elsewhere skips it with a
 * message naming the package to install.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHROMIUM, findProgram, isCI, REDIS_SERVER } from './support/programs.js';

const bin = mkdtempSync(path.join(tmpdir(), 'programs-test-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));

function executable(name: string): string {
  const file = path.join(bin, name);
  writeFileSync(file, '#!/bin/sh\n');
  chmodSync(file, 0o755);
  return file;
}

const EMPTY_PATH = path.join(bin, 'nothing-here');

describe('a program that is missing', () => {
  it('skips its suites outside CI, with a message naming the package and the variable', () => {
    const gate = findProgram(REDIS_SERVER, { PATH: EMPTY_PATH });
    expect(gate.path).toBeUndefined();
    expect(gate.skipReason).toMatch(/apt-get install -y redis-server/);
    expect(gate.skipReason).toMatch(/REDIS_SERVER_PATH/);
  });

  it('fails its suites under CI=true: no skip, and require() throws naming the package', () => {
    const gate = findProgram(CHROMIUM, { PATH: EMPTY_PATH, CI: 'true' });
    expect(gate.skipReason).toBeUndefined();
    expect(() => gate.require()).toThrow(/apt-get install -y chromium.*required under CI/);
  });

  it('treats CI=false as not CI', () => {
    expect(isCI({ CI: 'false' })).toBe(false);
    expect(findProgram(CHROMIUM, { PATH: EMPTY_PATH, CI: 'false' }).skipReason).toBeDefined();
  });

  it('is missing when its variable names something that is not an executable', () => {
    const gate = findProgram(CHROMIUM, { CHROMIUM_PATH: path.join(bin, 'no-such-browser'), PATH: '' });
    expect(gate.path).toBeUndefined();
    expect(gate.skipReason).toMatch(/CHROMIUM_PATH=.*no-such-browser is not an executable/);
  });
});

describe('a program that is there', () => {
  it('is found on PATH under any of its names, first name first', () => {
    const browser = executable('chromium-browser');
    expect(findProgram(CHROMIUM, { PATH: `${EMPTY_PATH}${path.delimiter}${bin}` }).path).toBe(browser);
  });

  it('is taken from its variable before PATH, wherever it is installed', () => {
    const custom = executable('my-chrome');
    executable('chromium');
    const gate = findProgram(CHROMIUM, { CHROMIUM_PATH: custom, PATH: bin });
    expect(gate.path).toBe(custom);
    expect(gate.skipReason).toBeUndefined();
    expect(gate.require()).toBe(custom);
  });
});
