// Shared by integration tests: Docker presence (fail, never skip, when CI is set) and the one shared stack.

import test, { type TestFn } from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DockerClient } from '../../src/stack/docker-client.js';
import { ReferenceStack } from '../../src/stack/reference-stack.js';
import { type AttachedStack } from '../../src/stack/attached-stack.js';

export const dockerReady = await new DockerClient().ping().then(
  () => true,
  () => false,
);

/**
 * `test` when Docker answers; without Docker it skips locally but, when CI is set, runs the test so that it
 * fails on the missing engine: CI can never pass by skipping.
 */
export const itest: TestFn = dockerReady || process.env.CI ? test : (test.skip as unknown as TestFn);

let shared: Promise<AttachedStack> | undefined;

/** The reference stack (options from FAULTLINE_* env), brought up once per test process; up is idempotent. */
export function sharedStack(): Promise<AttachedStack> {
  shared ??= new ReferenceStack().up({ timeoutMs: 240_000 });
  return shared;
}

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source, as a user would run `faultline ...`. */
export function runCli(args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', 'src/cli/main.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 300_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
