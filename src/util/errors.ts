/**
 * The user-error classes, in one place: each carries one line that names the field, flag or
 * file at fault and the fix, and the CLIs print it without a stack trace. Anything that is not a
 * user error is a bug and keeps its stack.
 * @module
 */

/** A configuration error that names the offending field and the fix. */
export class ConfigError extends Error {
  /** Dotted path of the field at fault, e.g. `m` or `steps[3].cells`. */
  readonly field: string;

  /**
   * A config error whose message reads `<field>: <problem>. Fix: <fix>.`
   * @param field dotted path of the field at fault
   * @param problem what is wrong, in plain words
   * @param fix what to do instead
   */
  constructor(field: string, problem: string, fix: string) {
    super(`${field}: ${problem}. Fix: ${fix}.`);
    this.name = "ConfigError";
    this.field = field;
  }
}

/** A manifest or model file that cannot be used, with the reason and the fix. */
export class ManifestError extends Error {
  /**
   * A bad model or manifest file.
   * @param message full message naming the field and the fix
   */
  constructor(message: string) {
    super(message);
    this.name = "ManifestError";
  }
}

/** A user error on the command line or in an input file: print the message, exit 1. */
export class UsageError extends Error {
  /**
   * A user error: the CLI prints its message alone (no stack) and exits 1.
   * @param message one line naming the flag or field and the fix
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Names of the error classes that mean "the user gave bad input". By name rather than by class,
 * so errors from a second copy of the module (an import by URL beside a local one) count too.
 */
const USER_ERRORS = new Set([
  "UsageError",
  "ConfigError",
  "ManifestError",
  "PairingError",
  "SampleOptionsError",
  "EntropyInputError",
  "PermissionError",
]);

/** True when `err` is a user error (print its message alone). */
export function isUserError(err: unknown): err is Error {
  return err instanceof Error && USER_ERRORS.has(err.name);
}
