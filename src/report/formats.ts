// The report formats: each renders a journal into one file of the report folder (pure). writeReports, the
// bundle and the CLI's printouts walk this list; a new format is one module with its render function and one
// registration line here.

import type { Journal } from '../experiment/journal.js';
import { Registry } from '../registry.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';

export interface ReportFormat {
  readonly name: string;
  /** The file it is written to, in the report folder and the bundle. */
  readonly file: string;
  /** How `faultline run` labels the file in its summary (the name when absent). */
  readonly label?: string;
  render(journal: Journal): string;
}

/** Every report format, in the order the summary lists them; a program may register more before writing reports. */
export const reportFormats = new Registry<ReportFormat>('report format')
  .register({ name: 'markdown', file: 'report.md', label: 'report', render: renderMarkdown })
  .register({ name: 'html', file: 'report.html', render: renderHtml })
  .register({ name: 'junit', file: 'junit.xml', render: renderJunit });
