import { type FieldIssue, ruleOfMessage } from "@juanie/contracts";
import { computed, getCurrentInstance, type MaybeRefOrGetter, reactive, shallowRef, toValue } from "vue";
import { type ApiError, toApiError } from "./apiError.ts";
import { issuesOf, issueText, knownRules, type Translator, useTranslator } from "./errorText.ts";

/**
 * Splits an API error between the form's own fields (shown under each input) and a general
 * alert for everything else. `fields` are the field names the form renders (a getter when the
 * form grows rows, such as `spec.env.3.name`). Field messages are worded in the user's language
 * (outside a component, as the server wrote them).
 */
export function useFormErrors(fields: MaybeRefOrGetter<readonly string[]> = []) {
  const tr: Translator | null = getCurrentInstance() ? useTranslator() : null;
  const error = shallowRef<ApiError | null>(null);
  const shown = computed(() => new Set(toValue(fields)));

  function field(name: string): string[] {
    const e = error.value;
    if (!e || !shown.value.has(name)) return [];
    const issues = issuesOf(e).filter((issue) => issue.field === name);
    return [...new Set(issues.map((issue) => (tr ? issueText(tr, issue) : issue.message)))];
  }

  const general = computed<ApiError | null>(() => {
    const e = error.value;
    if (!e) return null;
    const unshown = Object.entries(e.fieldErrors).filter(([name]) => !shown.value.has(name));
    // Every problem is already shown under its field (e.g. INVALID_INPUT, or CONFLICT on a slug).
    if (Object.keys(e.fieldErrors).length > 0 && unshown.length === 0) return null;
    const message = e.message || unshown.map(([name, messages]) => `${name} ${messages.join(", ")}`).join("; ");
    const issues = e.issues?.filter((issue) => !shown.value.has(issue.field));
    return { ...e, message, fieldErrors: Object.fromEntries(unshown), ...(issues ? { issues } : {}) };
  });

  return reactive({
    field,
    general,
    set(e: unknown) {
      error.value = toApiError(e);
    },
    /** For client-side validation, before a request is sent. */
    setFieldErrors(fieldErrors: Record<string, string[]>) {
      const issues = Object.entries(fieldErrors).flatMap(([name, messages]) =>
        messages.map((message) => ({ field: name, rule: ruleOfMessage(message, knownRules), message })),
      );
      error.value = { code: "INVALID_INPUT", message: "", fieldErrors, requiredRole: null, issues };
    },
    /** For client-side validation with the shared schema: each issue with its rule name. */
    setIssues(issues: FieldIssue[]) {
      const fieldErrors: Record<string, string[]> = {};
      for (const issue of issues) fieldErrors[issue.field] = [...(fieldErrors[issue.field] ?? []), issue.message];
      error.value = { code: "INVALID_INPUT", message: "", fieldErrors, requiredRole: null, issues };
    },
    clear() {
      error.value = null;
    },
  });
}

export type FormErrors = ReturnType<typeof useFormErrors>;
