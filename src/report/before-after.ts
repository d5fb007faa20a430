// The compare report of two runs of the same suite (`faultline compare-report`, alias `before-after`): the model
// (compare-model.ts: journals → sections, figures, series), rendered as JSON, Markdown (compare-markdown.ts) and
// HTML (compare-html.ts). `npm run main` writes it for experiments/before-after.yaml on the two reference profiles.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderCompareHtml } from './compare-html.js';
import { renderCompareMarkdown } from './compare-markdown.js';
import type { CompareModel } from './compare-model.js';

export { compareModel, verdictOf } from './compare-model.js';
export type { ByRun, CompareInput, CompareModel, Figure, FigureValue, Hop, RunSummary, Section, SectionSeries, SeriesPoint, Verdict } from './compare-model.js';
export { renderCompareHtml, renderCompareMarkdown };

export function renderCompareJson(model: CompareModel): string {
  return `${JSON.stringify(model, null, 2)}\n`;
}

export interface CompareFiles {
  json: string;
  markdown: string;
  html: string;
}

/** Writes <base>.json, .md and .html into dir (made when missing). */
export async function writeCompareReports(model: CompareModel, dir: string, base = 'before-after'): Promise<CompareFiles> {
  await mkdir(dir, { recursive: true });
  const files = { json: join(dir, `${base}.json`), markdown: join(dir, `${base}.md`), html: join(dir, `${base}.html`) };
  await writeFile(files.json, renderCompareJson(model));
  await writeFile(files.markdown, renderCompareMarkdown(model));
  await writeFile(files.html, renderCompareHtml(model));
  return files;
}
