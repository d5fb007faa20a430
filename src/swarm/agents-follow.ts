// The agents' log, followed while they run (`docker service logs --follow` through the manager), so the buckets they
// ship reach faultline as they are shipped: progress, stop conditions and remote-write follow the merged seconds live
// (src/load/agents-live.ts). A follow that ends early (a node's log stream broke, Docker 20.10 ends the whole follow) is
// started again from the beginning a little later: messages read twice count once. The end-of-run merge does not rely
// on it: it reads the whole log again, and each agent's own container when needed.

import { spawn } from 'node:child_process';
import { MessageStream } from '../load/agents-live.js';
import type { AgentMessage } from '../load/agents.js';

const RESTART_MS = 2000;

export interface AgentFollow {
  /** Ends the follow (and its docker process); resolves once it is gone. */
  stop(): Promise<void>;
}

export function followAgentLogs(service: string, onMessage: (m: AgentMessage) => void, log: (line: string) => void): AgentFollow {
  const stream = new MessageStream();
  let stopped = false;
  let current: ReturnType<typeof spawn> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let warned = false;
  const deliver = (list: AgentMessage[]) => {
    for (const m of list) onMessage(m);
  };
  const start = () => {
    if (stopped) return;
    const child = spawn('docker', ['service', 'logs', '--follow', '--raw', '--no-trunc', service], { stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => deliver(stream.push(c)));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-400)));
    child.on('error', (e) => (err = e.message));
    child.on('close', () => {
      deliver(stream.end());
      current = null;
      if (stopped) return;
      if (!warned && err.trim()) {
        warned = true;
        log(`following the agents' log: ${err.trim().split('\n').slice(-1)[0]}; following again (the result does not depend on it)`);
      }
      timer = setTimeout(start, RESTART_MS);
    });
  };
  start();
  return {
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      const child = current;
      if (!child) return;
      const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
      child.kill('SIGTERM');
      await closed;
    },
  };
}
