import { type FieldIssue, type MessageParams, ruleCatalog } from "@juanie/contracts";
import { rules as deploySpecRules } from "@juanie/manifests/deploy-spec";
import { useI18n } from "vue-i18n";
import type { ApiError } from "./apiError.ts";

/** The part of vue-i18n's composer the error wording needs (`useI18n()` or `i18n.global`). */
export interface Translator {
  t(key: string, params?: Record<string, unknown>): string;
  te(key: string): boolean;
}

/** The English texts the browser knows by rule name: the shared ones, and the deploy form's (`deploy.image`). */
export const knownRules = ruleCatalog(
  Object.fromEntries(Object.entries(deploySpecRules).map(([name, text]) => [`deploy.${name}`, text])),
);

/** Parameters that are themselves names, translated by vocabulary (`entity: project` → 该项目). */
const vocabularies: Record<string, string> = {
  entity: "errors.entities",
  action: "errors.actions",
  role: "errors.roles",
  has: "errors.roles",
  status: "deployments.statuses",
};

/** `organization admin` → organization_admin, `project.read` → project_read. */
function vocabularyKey(value: string): string {
  return value.replace(/[^A-Za-z0-9]+/g, "_");
}

function translatedParams(tr: Translator, params: MessageParams | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params ?? {})) {
    const vocabulary = vocabularies[name];
    if (vocabulary && typeof value === "string") {
      const key = `${vocabulary}.${value === "" && name === "has" ? "none" : vocabularyKey(value)}`;
      out[name] = tr.te(key) ? tr.t(key) : value;
    } else {
      out[name] = value;
    }
  }
  return out;
}

/** A role as the server names it (`environment deploy permission`), in the user's language. */
export function roleText(tr: Translator, role: string): string {
  const key = `errors.roles.${vocabularyKey(role)}`;
  return tr.te(key) ? tr.t(key) : role;
}

/** What is wrong with a field, in the user's language; the server's English for a rule the browser does not know. */
export function issueText(tr: Translator, issue: Pick<FieldIssue, "rule" | "params" | "message">): string {
  const key = `errors.rules.${issue.rule}`;
  // `message`: a rule without a name (a Git host's or kustomize's own words), said as the server got it.
  if (issue.rule && issue.rule !== "message" && tr.te(key)) return tr.t(key, translatedParams(tr, issue.params));
  return issue.message || tr.t("errors.rules.message");
}

/** A field's name for a sentence, from the last named part of its path; never the internal name itself. */
export function fieldLabel(tr: Translator, field: string): string {
  const parts = field.split(".").filter((part) => part !== "");
  const label = (name: string | undefined) => {
    const key = `errors.fields.${name ?? ""}`;
    return name && tr.te(key) ? tr.t(key) : null;
  };
  const names = parts.filter((part) => !/^\d+$/.test(part));
  const leaf = label(names.at(-1)) ?? tr.t("errors.fieldFallback");
  // An entry of a list (`spec.env.0.name`): which entry, then which of its fields.
  const at = parts.findLastIndex((part) => /^\d+$/.test(part));
  const list = at > 0 ? label(parts[at - 1]) : null;
  if (list && at < parts.length - 1) return tr.t("errors.fieldItem", { list, n: Number(parts[at]) + 1, field: leaf });
  return leaf;
}

/** The error's own sentence, when the server named it and the browser knows the name. */
export function reasonText(tr: Translator, error: Pick<ApiError, "reason" | "params">): string | null {
  if (!error.reason) return null;
  const key = `errors.reasons.${error.reason}`;
  return tr.te(key) ? tr.t(key, translatedParams(tr, error.params)) : null;
}

/** The issues of an error, by field; from the server's English field errors when it sent no rule names. */
export function issuesOf(error: Pick<ApiError, "issues" | "fieldErrors">): FieldIssue[] {
  if (error.issues?.length) return error.issues;
  return Object.entries(error.fieldErrors).flatMap(([field, messages]) =>
    messages.map((message) => ({ field, rule: "", message })),
  );
}

/**
 * The message of an error for the alert: its named sentence, else each field issue the form does not show
 * under its field (`Replicas: must be at most 1000`), else the server's text.
 */
export function errorText(tr: Translator, error: ApiError, shown: ReadonlySet<string> = new Set()): string {
  const reason = reasonText(tr, error);
  if (reason) return reason;
  const unshown = issuesOf(error).filter((issue) => !shown.has(issue.field));
  if (unshown.length > 0 && (error.issues?.length || !error.message)) {
    return unshown.map((issue) => `${fieldLabel(tr, issue.field)}: ${issueText(tr, issue)}`).join("; ");
  }
  return error.message;
}

/** The current locale's translator, for components (the composer itself, narrowed to what is used here). */
export function useTranslator(): Translator {
  const { t, te } = useI18n();
  return { t: (key, params) => t(key, params ?? {}), te: (key) => te(key) };
}
