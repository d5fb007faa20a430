// Issue 21 item 6: every shipped experiment runs on both profiles of the reference stack, or declares the profiles it
// applies to (`profiles:`) and is refused on the other in one line, before anything starts (exit 7, dry run too).
// Every file in experiments/ (suites and their members included) is planned here against each profile's compose
// model, statically: each fault step's targets must name containers the profile has (with the writer marked as
// db-primary, as faults see it on the hardened profile), and a probe that needs the baseline's primary and replica
// must not be asked on a profile without a replica. Real runs are where the suite already runs them (integration).

import test from 'ava';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { repoRoot, runCli } from '../helpers/stack.js';
import { ExitCode, FaultlineError } from '../../src/errors.js';
import { loadFile, type Experiment, type Suite } from '../../src/experiment/schema.js';
import { catalogue } from '../../src/experiment/catalogue.js';
import { checkProfiles, profileRefusal, runProfile } from '../../src/experiment/profile-check.js';
import { referenceCompose } from '../../src/stack/compose-model.js';
import { markWriter } from '../../src/stack/writer.js';
import { parseTarget } from '../../src/faults/targets.js';
import { defaultRegistry } from '../../src/faults/registry.js';
import { PROFILE_NAMES, type ProfileName } from '../../src/stack/profiles.js';
import type { ContainerSummary } from '../../src/stack/docker-types.js';

async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await yamlFiles(join(dir, e.name))));
    else if (e.name.endsWith('.yaml')) out.push(join(dir, e.name));
  }
  return out.sort();
}

const files = await yamlFiles(join(repoRoot, 'experiments'));

/** The profile's containers as faults see them: labels from its compose file; on the hardened profile galera1 takes the writes. */
function containersOf(profile: ProfileName): ContainerSummary[] {
  const list = referenceCompose(profile).services.map((s): ContainerSummary => ({
    id: s.service,
    name: s.service,
    service: s.service,
    stack: 'x',
    role: s.role,
    server: s.server,
    component: s.component,
    state: 'running',
    health: 'healthy',
    labels: {},
    addresses: {},
    ports: [],
    networkMode: '',
    host: s.component === 'host',
  }));
  return profile === 'hardened' ? markWriter(list, 'galera1') : list;
}

function matching(list: ContainerSummary[], expr: string): ContainerSummary[] {
  const { match } = parseTarget(expr);
  const field = (c: ContainerSummary, k: string) => (k === 'name' ? c.server : (c as unknown as Record<string, string | undefined>)[k]);
  return list.filter((c) => match.every(([k, v]) => field(c, k) === v || (k === 'name' && c.name === v)));
}

/** What would stop `exp` on `profile`: a fault target naming nothing there, or the replication probe without a replica. */
function problemsOn(exp: Experiment, profile: ProfileName): string[] {
  const list = containersOf(profile);
  const faults = defaultRegistry();
  const problems: string[] = [];
  for (const step of exp.method) {
    if (!('fault' in step)) continue;
    const target = step.target ?? faults.get(step.fault).defaultTarget;
    const exprs = [target, ...['from', 'to', 'peer'].map((k) => (step.params as Record<string, unknown> | undefined)?.[k])].filter(
      (x): x is string => typeof x === 'string' && x.includes('='),
    );
    for (const e of exprs) if (!matching(list, e).length) problems.push(`${step.fault}: "${e}" names nothing on ${profile}`);
    const component = (step.params as Record<string, unknown> | undefined)?.component;
    if (typeof component === 'string' && !list.some((c) => c.component === component)) problems.push(`${step.fault}: no ${component} on ${profile}`);
  }
  const probes = [...exp.steady_state, ...exp.method.filter((m) => 'probe' in m)].map((p) => (p as { probe: string }).probe);
  if (probes.includes('replication') && !list.some((c) => c.role === 'db-replica'))
    problems.push(`the replication probe needs a primary and a replica; ${profile} has no replica`);
  return problems;
}

for (const file of files) {
  const name = relative(join(repoRoot, 'experiments'), file);
  for (const profile of PROFILE_NAMES) {
    test(`${name} on ${profile}: runs there, or is refused in one line naming the profile`, async (t) => {
      const target: Experiment | Suite = await loadFile(file, catalogue());
      let refusal: FaultlineError | undefined;
      try {
        checkProfiles(target, { profile }, {});
      } catch (err) {
        refusal = err as FaultlineError;
      }
      const experiments = 'experiments' in target ? target.experiments : [target];
      if (refusal) {
        t.is(refusal.code, 'WRONG_PROFILE');
        t.is(refusal.exitCode, ExitCode.otherProfile);
        t.notRegex(refusal.message, /\n/);
        t.regex(refusal.message, new RegExp(`applies to the \\w+ profiles? only \\(its profiles: \\[[a-z, ]+\\]\\), not to ${profile}: nothing was started$`));
        t.true(
          experiments.some((e) => e.profiles && !e.profiles.includes(profile)),
          'refused only for a declared profile',
        );
      } else {
        for (const e of experiments) t.deepEqual(problemsOn(e, profile), [], `${e.id} on ${profile}`);
      }
    });
  }
}

test('profileRefusal: none without a declaration, on a declared profile, or on a described stack', (t) => {
  t.is(profileRefusal({ id: 'x', profiles: undefined, stackSpec: undefined }, 'hardened'), null);
  t.is(profileRefusal({ id: 'x', profiles: ['hardened'], stackSpec: undefined }, 'hardened'), null);
  t.is(profileRefusal({ id: 'x', profiles: ['baseline'], stackSpec: { project: 'shop' } as never }, 'hardened'), null);
  t.is(
    profileRefusal({ id: 'x', profiles: ['baseline'], stackSpec: undefined }, 'hardened'),
    'x applies to the baseline profile only (its profiles: [baseline]), not to hardened: nothing was started',
  );
  t.is(runProfile({}, {}), 'baseline');
  t.is(runProfile({}, { FAULTLINE_PROFILE: 'hardened' }), 'hardened');
  t.is(runProfile({ profile: 'baseline' }, { FAULTLINE_PROFILE: 'hardened' }), 'baseline');
  t.notThrows(() => checkProfiles({ id: 'x', profiles: ['baseline'] } as never, { profile: 'hardened', stackFile: 'shop.stack.yaml' }, {}));
});

// No engine answers here (DOCKER_HOST points nowhere): a run that got as far as asking it would exit 3, not 7.
const noDocker = { DOCKER_HOST: 'unix:///nonexistent.sock' };
const home = async () => ({ FAULTLINE_HOME: join(await mkdtemp(join(tmpdir(), 'faultline-profiles-')), 'home') });

test('run and run --dry-run of db-primary-kill on the hardened profile: one line naming the profile, exit 7, nothing asked of Docker', async (t) => {
  for (const extra of [[], ['--dry-run']]) {
    const res = await runCli(['run', 'experiments/db-primary-kill.yaml', '--profile', 'hardened', ...extra], { env: { ...noDocker, ...(await home()) } });
    t.is(res.code, ExitCode.otherProfile, res.stderr);
    t.is(res.stdout, '');
    t.deepEqual(res.stderr.trim().split('\n'), [
      'faultline: db-primary-kill applies to the baseline profile only (its profiles: [baseline]), not to hardened: nothing was started',
    ]);
  }
  const env = { ...noDocker, ...(await home()), FAULTLINE_PROFILE: 'hardened' };
  const suite = await runCli(['run', 'experiments/gameday.yaml', '--dry-run'], { env });
  t.is(suite.code, ExitCode.otherProfile, suite.stderr);
  t.regex(suite.stderr.trim(), /^faultline: gameday: db-primary-kill applies to the baseline profile only .*not to hardened: nothing was started$/);
  // On its own profile the same file goes on to the engine (which is not there: exit 3).
  const own = await runCli(['run', 'experiments/db-primary-kill.yaml', '--profile', 'baseline', '--dry-run'], { env: { ...noDocker, ...(await home()) } });
  t.is(own.code, ExitCode.environment, own.stderr);
});
