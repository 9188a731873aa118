import { computed, type MaybeRefOrGetter, reactive, shallowRef, toValue } from "vue";
import { type ApiError, toApiError } from "./apiError.ts";

/**
 * Splits an API error between the form's own fields (shown under each input) and a general
 * alert for everything else. `fields` are the field names the form renders (a getter when the
 * form grows rows, such as `spec.env.3.name`).
 */
export function useFormErrors(fields: MaybeRefOrGetter<readonly string[]> = []) {
  const error = shallowRef<ApiError | null>(null);
  const shown = computed(() => new Set(toValue(fields)));

  function field(name: string): string[] {
    return shown.value.has(name) ? (error.value?.fieldErrors[name] ?? []) : [];
  }

  const general = computed<ApiError | null>(() => {
    const e = error.value;
    if (!e) return null;
    const unshown = Object.entries(e.fieldErrors).filter(([name]) => !shown.value.has(name));
    // Every problem is already shown under its field (e.g. INVALID_INPUT, or CONFLICT on a slug).
    if (Object.keys(e.fieldErrors).length > 0 && unshown.length === 0) return null;
    const message = e.message || unshown.map(([name, messages]) => `${name} ${messages.join(", ")}`).join("; ");
    return { ...e, message };
  });

  return reactive({
    field,
    general,
    set(e: unknown) {
      error.value = toApiError(e);
    },
    /** For client-side validation, before a request is sent. */
    setFieldErrors(fieldErrors: Record<string, string[]>) {
      error.value = { code: "INVALID_INPUT", message: "", fieldErrors, requiredRole: null };
    },
    clear() {
      error.value = null;
    },
  });
}

export type FormErrors = ReturnType<typeof useFormErrors>;
