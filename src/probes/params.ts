// Probe parameters: the one parameter kit (util/params.ts), and the INVALID_INPUT error naming the probe and the field.

import type { z } from 'zod';
import { parseParamsOf } from '../util/params.js';

/** The fields probes use, from the one parameter kit (shared with faults and experiment files). */
export { durationField, numberField, booleanField, portListField } from '../util/params.js';

/** Validates a probe's parameters; the error names the probe and the field path of every problem. */
export function parseProbeParams<P>(probe: string, schema: z.ZodType<P, z.ZodTypeDef, unknown>, input: unknown): P {
  return parseParamsOf(`probe ${probe}`, schema, input);
}
