/**
 * Why a manifest edit cannot be made: bad input, a repository layout we cannot follow, or YAML that
 * does not parse. `field` names the deploy-spec field at fault (for the form), `file` and `line` the
 * place in the repository (for the YAML view).
 */
export class ManifestError extends Error {
  override readonly name = "ManifestError";
  readonly field?: string;
  readonly file?: string;
  readonly line?: number;
  /** Every rule a deploy spec broke, keyed by field (`env.2.name`), for forms that show them all. */
  readonly fieldErrors?: Record<string, string[]>;

  constructor(
    message: string,
    details: { field?: string; file?: string; line?: number; fieldErrors?: Record<string, string[]> } = {},
  ) {
    super(message);
    if (details.field !== undefined) this.field = details.field;
    if (details.file !== undefined) this.file = details.file;
    if (details.line !== undefined) this.line = details.line;
    if (details.fieldErrors !== undefined) this.fieldErrors = details.fieldErrors;
  }
}
