// Headless Chromium for the HTML reports' browser tests: presence (fail, never skip, when CI is set) and the DOM
// as the browser rendered it. scripts/test.sh installs Debian's chromium.

import test, { type TestFn } from 'ava';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface ChromiumResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs headless Chromium with its own throwaway profile, so parallel tests never share one; code -1: not started. */
export async function chromium(args: string[], timeoutMs = 90_000): Promise<ChromiumResult> {
  const profile = await mkdtemp(join(tmpdir(), 'faultline-chromium-'));
  try {
    return await new Promise((resolve) => {
      const p = spawn('chromium', ['--headless=new', '--disable-gpu', '--no-sandbox', '--no-first-run', `--user-data-dir=${profile}`, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: timeoutMs,
      });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      p.on('close', (code) => resolve({ code, stdout, stderr }));
      p.on('error', (err) => resolve({ code: -1, stdout, stderr: err.message }));
    });
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

export const chromiumReady = (await chromium(['--version'], 30_000)).code === 0;

/**
 * `test` when Chromium runs; without it, skipped locally but run when CI is set, so that it fails on the missing
 * browser: CI can never pass by skipping.
 */
export const btest: TestFn = chromiumReady || process.env.CI ? test : (test.skip as unknown as TestFn);

/** The DOM of a local HTML file after Chromium rendered it; throws with Chromium's own words when it could not. */
export async function renderedDom(path: string): Promise<string> {
  const r = await chromium(['--dump-dom', pathToFileURL(path).href]);
  if (r.code !== 0)
    throw new Error(`chromium --dump-dom ${path} exited ${r.code} (apt-get install chromium): ${r.stderr.trim().split('\n').at(-1) || 'no output'}`);
  return r.stdout;
}
