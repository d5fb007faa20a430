// Pure renderers for stack descriptions (what `stack up` and `stack status` print).

import type { ServerStatus, StackStatus } from './servers.js';
import { textTable } from '../util/table.js';

export function formatStatus(servers: ServerStatus[]): string {
  if (servers.length === 0) return 'no containers (stack is down)';
  const rows: string[][] = [['SERVER', 'ROLE', 'ADDRESS', 'COMPONENT', 'STATE', 'HEALTH']];
  for (const s of servers) {
    s.components.forEach((c, i) => {
      rows.push([
        i === 0 ? s.server : '',
        i === 0 ? s.role : '',
        i === 0 ? (s.address ?? '-') : '',
        c.component,
        c.state,
        (c.health === 'none' ? '-' : c.health) + (c.detail ? `: ${c.detail}` : ''),
      ]);
    });
  }
  return textTable(rows);
}

export function formatUp(d: StackStatus, ms: number): string {
  return [
    `stack ${d.project} is up in ${(ms / 1000).toFixed(1)} s`,
    `  HTTPS:  ${d.httpsUrl}/   (certificate for ${d.domain}, localhost, 127.0.0.1)`,
    `  HTTP:   ${d.httpUrl}/    (301 to HTTPS)`,
    `  CA:     ${d.caPath}`,
    `  try:    curl --cacert ${d.caPath} ${d.httpsUrl}/whoami`,
  ].join('\n');
}
