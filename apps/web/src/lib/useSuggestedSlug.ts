import { computed, type Ref, ref } from "vue";
import { slugify } from "./slugify.ts";

/** A slug that follows the name until the user types one. */
export function useSuggestedSlug(name: Ref<string>) {
  const typed = ref<string | null>(null);
  const slug = computed({
    get: () => typed.value ?? slugify(name.value),
    set: (value: string) => {
      typed.value = value;
    },
  });
  return {
    slug,
    reset() {
      typed.value = null;
    },
  };
}
