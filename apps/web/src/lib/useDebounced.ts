import { onScopeDispose, type Ref, shallowRef, watch } from "vue";

export function useDebounced<T>(source: Ref<T>, delayMs = 250): Readonly<Ref<T>> {
  const debounced = shallowRef(source.value);
  let timer: ReturnType<typeof setTimeout> | undefined;
  watch(source, (value) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      debounced.value = value;
    }, delayMs);
  });
  onScopeDispose(() => clearTimeout(timer));
  return debounced;
}
