// Writes every report of a journal into a folder, and the artifact bundle (.tar.gz, with the tar package)
// that holds them plus each container's logs, the stack's configuration and the run's Prometheus samples
// (asked through the probes' Prometheus client, one file per query: the query, its range, the series or the error).

import { mkdir, mkdtemp, writeFile, copyFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, basename, dirname, resolve } from 'node:path';
import * as tar from 'tar';
import { experimentsOf, type Journal } from '../experiment/journal.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import type { StackSpec } from '../stack/spec.js';
import { prometheusUrl, queryRange } from '../probes/prometheus.js';
import { reportFormats, type ReportFormat } from './formats.js';
import { liveMetricsLines } from './live-metrics.js';

export interface ReportFiles {
  dir: string;
  /** journal.json: what every report is rendered from, and what `faultline report` reads back. */
  journal: string;
  /** One file per report format, in the formats' order. */
  reports: Array<{ format: ReportFormat; path: string }>;
  bundle?: string;
}

/** journal.json and one file per report format (pure rendering, then the writes). */
export async function writeReports(journal: Journal, dir: string, formats: readonly ReportFormat[] = reportFormats.list()): Promise<ReportFiles> {
  await mkdir(dir, { recursive: true });
  const files: ReportFiles = { dir, journal: join(dir, 'journal.json'), reports: formats.map((format) => ({ format, path: join(dir, format.file) })) };
  await writeFile(files.journal, `${JSON.stringify(journal, null, 1)}\n`);
  for (const r of files.reports) await writeFile(r.path, r.format.render(journal));
  return files;
}

/** What the bundle samples from Prometheus: the description's samples, else its requests counter (pure). */
export function bundleSamples(spec: Pick<StackSpec, 'prometheus'>): Record<string, string> {
  const p = spec.prometheus;
  return p?.samples ?? (p?.qps_query ? { requests: p.qps_query } : {});
}

/** The files the description asks the bundle to keep, as host paths (relative ones from the description's folder; pure). */
export function bundleFiles(spec: Pick<StackSpec, 'bundle' | 'file'>): string[] {
  return (spec.bundle?.files ?? []).map((f) => resolve(dirname(spec.file), f));
}

/** Container logs, stack configuration and Prometheus samples for the run window; best effort, never throws. */
async function collectArtifacts(journal: Journal, stack: AttachedStack | undefined, dir: string): Promise<string[]> {
  const notes: string[] = [];
  await mkdir(join(dir, 'config'), { recursive: true });
  if (!stack) return ['no stack attached: logs and Prometheus samples not collected'];
  // The stack's own description (with ${VAR} as written: it may name password variables, never their values).
  await copyFile(stack.spec.file, join(dir, 'config', 'stack.yaml')).catch(() => undefined);
  for (const f of bundleFiles(stack.spec)) await copyFile(f, join(dir, 'config', basename(f))).catch(() => undefined);
  await writeFile(join(dir, 'config', 'stack.json'), JSON.stringify(await stack.status().catch(() => null), null, 2));
  await mkdir(join(dir, 'logs'), { recursive: true });
  for (const c of await stack.containers().catch(() => [])) {
    const text = await stack.docker.logs(c.id, 2000).catch((err: Error) => `(could not read logs: ${err.message})\n`);
    await writeFile(join(dir, 'logs', `${c.service || c.name}.log`), text);
  }
  const lb = (await stack.containers().catch(() => [])).find((c) => c.component === 'haproxy' && c.state === 'running');
  if (lb) {
    const cfg = await stack.docker.exec(lb.id, ['cat', '/etc/haproxy/haproxy.active.cfg']).catch(() => null);
    if (cfg) await writeFile(join(dir, 'config', 'haproxy.cfg'), cfg.stdout);
  }
  const hosts = (await stack.containers().catch(() => [])).filter((c) => c.host && c.state === 'running');
  for (const h of hosts) {
    const rules = await stack.docker.exec(h.id, ['nft', 'list', 'table', ...stack.spec.firewall.table.split(' ')]).catch(() => null);
    if (rules) await writeFile(join(dir, 'config', `nftables-${h.server}.nft`), rules.stdout || rules.stderr);
  }
  const live = experimentsOf(journal).flatMap(liveMetricsLines);
  if (live.length) await writeFile(join(dir, 'live-metrics.txt'), `${live.join('\n')}\n`);
  const list = experimentsOf(journal).filter((e) => e.loadStartedAt);
  if (list.length) {
    const start = Math.min(...list.map((e) => Date.parse(e.loadStartedAt!))) / 1000 - 5;
    const end = Math.max(...list.map((e) => Date.parse(e.loadStartedAt!) + (e.load?.durationMs ?? 0))) / 1000 + 5;
    await mkdir(join(dir, 'prometheus'), { recursive: true });
    const base = await prometheusUrl(stack).catch((err: Error) => {
      notes.push(`prometheus: ${err.message}`);
      return null;
    });
    if (base) {
      for (const [name, query] of Object.entries(bundleSamples(stack.spec))) {
        const range = { startS: start, endS: end, stepS: 1 };
        const sample = await queryRange(base, query, range, AbortSignal.timeout(15_000)).then(
          (series) => ({ query, ...range, series }),
          (err: Error) => ({ query, ...range, error: err.message }),
        );
        await writeFile(join(dir, 'prometheus', `${name}.json`), `${JSON.stringify(sample)}\n`);
        if ('error' in sample) notes.push(`prometheus ${name}: ${sample.error}`);
      }
    }
  }
  return notes;
}

/**
 * Writes the reports and packs them, with the artifacts, into <dir>/faultline-<id>.tar.gz. The bundle is
 * staged in a fresh temporary folder, never in `dir`: `--out .` in a repository must not touch (let alone
 * delete) a folder of the user's that happens to be called `artifacts`.
 */
export async function writeBundle(journal: Journal, dir: string, stack?: AttachedStack): Promise<ReportFiles> {
  const files = await writeReports(journal, dir);
  const staging = await mkdtemp(join(tmpdir(), 'faultline-bundle-'));
  try {
    const artifacts = join(staging, 'artifacts');
    await mkdir(artifacts);
    const notes = await collectArtifacts(journal, stack, artifacts);
    if (notes.length) await writeFile(join(artifacts, 'NOTES.txt'), `${notes.join('\n')}\n`);
    const reports = [...files.reports.map((r) => r.path), files.journal];
    for (const f of reports) await copyFile(f, join(staging, basename(f)));
    const reportNames = reports.map((f) => basename(f));
    const bundle = join(dir, `faultline-${journal.id}.tar.gz`);
    await tar.c({ gzip: true, file: bundle, cwd: staging, portable: true }, [...reportNames, 'artifacts']);
    return { ...files, bundle };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
