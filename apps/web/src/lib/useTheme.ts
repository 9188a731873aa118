import { readonly, ref, watchEffect } from "vue";

type Theme = "light" | "dark";
const storageKey = "juanie.theme";

function initialTheme(): Theme {
  const stored = localStorage.getItem(storageKey);
  if (stored === "light" || stored === "dark") return stored;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

const theme = ref<Theme>(initialTheme());
watchEffect(() => document.documentElement.classList.toggle("dark", theme.value === "dark"));

export function useTheme() {
  return {
    theme: readonly(theme),
    toggle() {
      theme.value = theme.value === "dark" ? "light" : "dark";
      localStorage.setItem(storageKey, theme.value);
    },
  };
}
