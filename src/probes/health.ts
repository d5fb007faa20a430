// Health probe: every container of the stack (by label), its state and Docker health, through DockerClient.

import { z } from 'zod';
import type { ContainerSummary } from '../stack/docker-client.js';
import { isHelper } from '../stack/servers.js';
import { observation, startMark } from './runner.js';
import type { Finding, Observation, Probe } from './types.js';

export interface ContainerHealth {
  service: string;
  server: string | null;
  component: string | null;
  state: string;
  health: string;
  ok: boolean;
}

export interface HealthValue {
  total: number;
  unhealthy: number;
}

/** Pure: the stack's own containers (not probe or fault helpers) and which are not fine. */
export function judgeHealth(containers: ContainerSummary[]): { list: ContainerHealth[]; value: HealthValue; findings: Finding[] } {
  const list = containers
    .filter((c) => !isHelper(c))
    .map((c) => ({
      service: c.service || c.name,
      server: c.server ?? null,
      component: c.component ?? null,
      state: c.state,
      health: c.health,
      ok: c.state === 'running' && c.health !== 'unhealthy',
    }))
    .sort((a, b) => a.service.localeCompare(b.service));
  const bad = list.filter((c) => !c.ok);
  const findings: Finding[] = bad.map((c) => ({
    id: 'container-down',
    severity: c.component === 'host' || c.component === 'haproxy' || c.component === 'mariadb' ? 'critical' : 'high',
    message: `${c.service} is ${c.state}${c.health !== 'none' ? ` (${c.health})` : ''}`,
    where: c.server ?? c.service,
  }));
  if (list.length === 0) findings.push({ id: 'no-containers', severity: 'critical', message: 'the stack has no containers' });
  return { list, value: { total: list.length, unhealthy: bad.length }, findings };
}

const params = z.object({}).strict();

/** One line per server (its components, and the state of any that is not fine), so 22 containers fit on 7 lines. */
function renderHealth(o: Observation<HealthValue>): string[] {
  const list = (o.details.containers as ContainerHealth[] | undefined) ?? [];
  const bad = list.filter((c) => !c.ok).length;
  const lines = [`${list.length} containers: ${bad === 0 ? 'all running and healthy' : `${bad} not fine`}`];
  const servers = new Map<string, ContainerHealth[]>();
  for (const c of list) servers.set(c.server ?? c.service, [...(servers.get(c.server ?? c.service) ?? []), c]);
  for (const [server, cs] of servers) {
    const parts = cs.map((c) => `${c.component ?? c.service}${c.ok ? '' : ` ${c.state.toUpperCase()}${c.health !== 'none' ? ` (${c.health})` : ''}`}`);
    lines.push(`${cs.every((c) => c.ok) ? 'ok ' : 'BAD'} ${server.padEnd(11)} ${parts.join(', ')}`);
  }
  return lines;
}

export const healthProbe: Probe<Record<string, never>, HealthValue> = {
  name: 'health',
  description: "each container's state and Docker health",
  params,
  render: renderHealth,
  headline: (v) => v.unhealthy,
  async run(ctx, _p, signal): Promise<Observation<HealthValue>> {
    const started = startMark();
    signal.throwIfAborted();
    const j = judgeHealth(await ctx.stack.containers());
    return observation('health', started, {
      value: j.value,
      tolerance: { type: 'atMost', max: 0 },
      passed: j.value.total > 0 && j.value.unhealthy === 0,
      details: { containers: j.list },
      findings: j.findings,
    });
  },
};
