// Fault parameters: the one parameter kit (util/params.ts) under the names the fault files use, and the error that
// points at `faultline fault list`.

import type { z } from 'zod';
import { parseParamsOf } from '../util/params.js';

export { durationField as durationMs, percent, integer, byteSize, describeParams } from '../util/params.js';

/** Turns zod's issues into one INVALID_INPUT error naming each field ("net-loss: loss: must be at most 100%"). */
export function parseParams<T>(fault: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>, input: unknown): T {
  return parseParamsOf(fault, schema, input, `see \`faultline fault list\` for ${fault}'s parameters`);
}
