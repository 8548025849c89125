/**
 * The error every schedule builder and parser throws for a bad configuration: it names the field
 * and says how to fix it, so a user never needs a stack trace.
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
