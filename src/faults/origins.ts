// Which plugin file registered which fault: a fault's record names its plugin, so `faultline revert` in a fresh
// process (after faultline was killed) can load that plugin and undo the fault without being told about it.

const origins = new Map<string, string>();

/** Notes that the plugin at `file` (a real path) registered the fault `name`. */
export function noteFaultOrigin(name: string, file: string): void {
  origins.set(name, file);
}

/** The plugin file that registered the fault `name`; undefined for a built-in fault. */
export function faultOrigin(name: string): string | undefined {
  return origins.get(name);
}
