import { createI18n } from "vue-i18n";
import { en } from "./en.ts";
import { isLocale, type Locale } from "./locales.ts";
import { zhCN } from "./zh-CN.ts";

const storageKey = "juanie.locale";

function initialLocale(): Locale {
  const stored = localStorage.getItem(storageKey);
  if (isLocale(stored)) return stored;
  return navigator.language.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

const dateTimeFormats = {
  date: { year: "numeric", month: "short", day: "numeric" },
  dateTime: { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" },
} as const;

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: "en",
  messages: { en, "zh-CN": zhCN },
  datetimeFormats: { en: dateTimeFormats, "zh-CN": dateTimeFormats },
  // vue-i18n only warns about missing keys in development builds; the browser tests run the production
  // build and fail on this line, so a key missing in a locale (or everywhere) is always reported.
  missing: (locale, key) => {
    console.warn(`[juanie i18n] Not found '${key}' key in '${locale}' locale messages.`);
  },
});

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale;
  localStorage.setItem(storageKey, locale);
  document.documentElement.lang = locale;
}

document.documentElement.lang = i18n.global.locale.value;
