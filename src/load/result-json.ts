// LoadResult to JSON and back: reports are made later from a journal, so the timeline's histograms travel encoded
// and come back as a working Timeline, the ledger as a working WriteLedger.

import { FaultlineError } from '../errors.js';
import { WriteLedger } from './ledger.js';
import type { WriteLedgerJSON } from './ledger.js';
import { Timeline } from './timeline.js';
import type { TimelineJSON } from './timeline.js';
import type { LoadResult } from './types.js';

export interface LoadResultJSON extends Omit<LoadResult, 'timeline' | 'ledger'> {
  version: 1;
  timeline: TimelineJSON;
  ledger: WriteLedgerJSON;
}

export function loadResultToJSON(r: LoadResult): LoadResultJSON {
  return { version: 1, ...r, timeline: r.timeline.toJSON(), ledger: r.ledger.toJSON() };
}

/** Accepts the output of loadResultToJSON (or JSON.parse of JSON.stringify(result)). */
export function loadResultFromJSON(json: LoadResultJSON): LoadResult {
  if (!json || typeof json !== 'object' || !json.timeline || !json.ledger) {
    throw new FaultlineError('INVALID_INPUT', 'load result: missing timeline or ledger');
  }
  const { version: _version, timeline, ledger, ...rest } = json;
  return { ...rest, timeline: Timeline.fromJSON(timeline), ledger: WriteLedger.fromJSON(ledger) };
}
