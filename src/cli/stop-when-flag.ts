// `--stop-when "availability<0.5 over 5s"`: the one reader of a stop condition typed on the command line, into the
// shape an experiment's `stop_when:` entry takes (checked by the same schema, so the bounds are the file's).

import { invalidInput } from '../errors.js';
import { STOP_METRICS, stopConditionSchema, type MetricStopCondition } from '../experiment/stop-conditions.js';

const SHAPE = /^\s*([a-z0-9_]+)\s*([<>])\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s+over\s+(\S+)\s*$/i;
const EXAMPLE = 'METRIC<BOUND over WINDOW or METRIC>BOUND over WINDOW, e.g. "availability<0.5 over 5s", "p99_ms>2000 over 10s"';

/** One --stop-when text to a metric stop condition; anything else is INVALID_INPUT naming --stop-when (pure). */
export function parseStopWhen(text: string): MetricStopCondition {
  const m = SHAPE.exec(text);
  if (!m) throw invalidInput('--stop-when', `${JSON.stringify(text)} is not a condition: expected ${EXAMPLE}`);
  const [, metric, op, bound, over] = m as unknown as [string, string, string, string, string];
  if (!(STOP_METRICS as readonly string[]).includes(metric.toLowerCase())) {
    throw invalidInput('--stop-when', `${JSON.stringify(text)}: unknown metric ${metric} (one of ${STOP_METRICS.join(', ')})`);
  }
  const parsed = stopConditionSchema.safeParse({ metric: metric.toLowerCase(), [op === '<' ? 'below' : 'above']: Number(bound), over });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalidInput('--stop-when', `${JSON.stringify(text)}: ${issue.path.join('.') || 'condition'} ${issue.message}`);
  }
  return parsed.data as MetricStopCondition;
}
