import { VueQueryPlugin } from "@tanstack/vue-query";
import { createApp } from "vue";
import App from "./App.vue";
import { queryClient } from "./api/queryClient.ts";
import { i18n } from "./i18n/i18n.ts";
import { router } from "./router.ts";
import "./style.css";

createApp(App).use(i18n).use(VueQueryPlugin, { queryClient }).use(router).mount("#app");
