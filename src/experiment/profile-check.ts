// An experiment's `profiles:`: the reference stack's profiles it applies to. Run on another profile it is refused in one
// line before anything starts (no engine asked, no stack brought up or attached, nothing injected): exit 7, for `run` and
// `run --dry-run` alike. Some experiments only mean something on one profile (a replica that takes over the reads is
// the baseline's; the hardened profile has none), and without the declaration they stopped halfway, at a steady state
// that could not hold there.

import { FaultlineError } from '../errors.js';
import { profileNamed, type ProfileName } from '../stack/profiles.js';
import type { Experiment, Suite } from './schema.js';

/** Which stack a run is on, as the CLI's flags and the environment say. */
export interface ProfileContext {
  /** --profile, else FAULTLINE_PROFILE, else the baseline. */
  profile?: string | undefined;
  /** --stack: a stack of the user's, which is no profile of the reference stack. */
  stackFile?: string | undefined;
}

/** The profile a run on the reference stack uses (pure apart from the environment's default). */
export function runProfile(ctx: ProfileContext, env: NodeJS.ProcessEnv = process.env): ProfileName {
  return profileNamed(ctx.profile ?? env.FAULTLINE_PROFILE ?? 'baseline').name;
}

/**
 * The one line that refuses `exp` on `profile`, or null when it applies (pure). An experiment that runs against a
 * described stack (stack.file or stack.description) is on no profile: its declaration is not asked.
 */
export function profileRefusal(exp: Pick<Experiment, 'id' | 'profiles' | 'stackSpec'>, profile: ProfileName): string | null {
  if (!exp.profiles || exp.stackSpec || exp.profiles.includes(profile)) return null;
  const list = exp.profiles.join(' and ');
  return `${exp.id} applies to the ${list} profile${exp.profiles.length > 1 ? 's' : ''} only (its profiles: [${exp.profiles.join(', ')}]), not to ${profile}: nothing was started`;
}

/**
 * Throws WRONG_PROFILE (exit 7) when the file, or any experiment of the suite, does not apply to the run's profile: a
 * suite is refused whole, before its first experiment, rather than stop halfway. Nothing is checked on a --stack run.
 */
export function checkProfiles(target: Experiment | Suite, ctx: ProfileContext, env: NodeJS.ProcessEnv = process.env): void {
  if (ctx.stackFile) return;
  const profile = runProfile(ctx, env);
  for (const exp of 'experiments' in target ? target.experiments : [target]) {
    const refusal = profileRefusal(exp, profile);
    if (refusal) throw new FaultlineError('WRONG_PROFILE', 'experiments' in target ? `${target.id}: ${refusal}` : refusal);
  }
}
