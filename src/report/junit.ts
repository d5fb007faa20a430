// junit.xml: one test case per assertion (and one for each steady-state hypothesis), so CI lists failures by name;
// a repeated experiment gives one test suite per repetition.

import { experimentsOf, runsOf, type ExperimentJournal, type Journal } from '../experiment/journal.js';
import { escapeXml as x, fmtNumber } from './format.js';
import { describeStop } from '../experiment/stop-conditions.js';

/** Every run of every experiment: a repeated experiment is one test suite per repetition, so a failure in any shows. */
function runsToReport(journal: Journal): ExperimentJournal[] {
  return experimentsOf(journal).flatMap((e) => {
    const runs = runsOf(e);
    return runs.length > 1 ? runs.map((r, i) => ({ ...r, id: `${e.id} (repetition ${r.repetition ?? i + 1})` })) : [e];
  });
}

export function renderJunit(journal: Journal): string {
  const suites = runsToReport(journal).map((e) => {
    const cases: string[] = [];
    const time = (e.durationMs / 1000).toFixed(3);
    const hyp = (label: string, met: boolean | null, detail: string) =>
      `    <testcase classname="${x(e.id)}" name="${x(label)}" time="0">${met === false ? `\n      <failure message="${x(detail)}"/>\n    ` : met === null ? '<skipped/>' : ''}</testcase>`;
    if (e.steadyStateBefore.activities.length)
      cases.push(hyp('steady state before', e.steadyStateBefore.met, 'steady-state hypothesis not met before the method; no fault was injected'));
    if (e.steadyStateAfter.activities.length) cases.push(hyp('steady state after', e.steadyStateAfter.met, 'steady-state hypothesis not met after the method'));
    for (const a of e.assertions) {
      const body = a.passed
        ? ''
        : `\n      <failure message="${x(`${a.name}: measured ${fmtNumber(a.value)}, bound ${a.bound}`)}">${x(a.detail)}</failure>\n    `;
      cases.push(`    <testcase classname="${x(e.id)}" name="${x(a.name)}" time="0">${body}</testcase>`);
    }
    if (e.stop)
      cases.push(
        `    <testcase classname="${x(e.id)}" name="stop condition" time="0">\n      <failure message="${x(describeStop(e.stop))}"/>\n    </testcase>`,
      );
    if (e.status === 'error' || e.status === 'interrupted') {
      cases.push(
        `    <testcase classname="${x(e.id)}" name="run" time="${time}">\n      <error message="${x(e.reason)}">${x(e.error ?? '')}</error>\n    </testcase>`,
      );
    }
    const failures = cases.filter((c) => c.includes('<failure')).length;
    const errors = cases.filter((c) => c.includes('<error')).length;
    const skipped = cases.filter((c) => c.includes('<skipped')).length;
    return `  <testsuite name="${x(e.id)}" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${time}" timestamp="${x(e.startedAt)}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${x(journal.title)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
