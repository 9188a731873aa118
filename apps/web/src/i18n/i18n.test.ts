import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  deploymentMethods,
  deploymentStatusValues,
  environmentTypes,
  fieldRules,
  invitationStatusSchema,
  issueRules,
  oauthProviders,
  orgRoles,
  projectRoles,
  projectStatuses,
  projectVisibilities,
  repositoryProviders,
  teamRoles,
} from "@juanie/contracts";
import { rules as deploySpecRules } from "@juanie/manifests/deploy-spec";
import { describe, expect, it } from "vitest";
import { createI18n } from "vue-i18n";
import { uiErrorCodes } from "../api/apiError.ts";
import { auditActions, auditResourceTypes } from "../audit/auditVocabulary.ts";
import { oauthErrorCodes } from "../auth/oauth.ts";
import { connectionTypes } from "../clusters/clusterForm.ts";
import {
  clusterStatuses,
  fluxActions,
  fluxManagers,
  fluxOperationStatuses,
  fluxSources,
  fluxStates,
  gitopsStates,
} from "../clusters/clusterVocabulary.ts";
import { changeFields, probeTypes } from "../deployments/deployForm.ts";
import { deploymentStrategies, manualEvents } from "../deployments/deploymentVocabulary.ts";
import { eventMessageKeys } from "../deployments/eventMessages.ts";
import { rolloutStepNames } from "../deployments/rolloutSteps.ts";
import { fluxActions as environmentFluxActions } from "../environments/environmentFlux.ts";
import { cloudProviders, environmentPermissions } from "../environments/environmentVocabulary.ts";
import { notificationKinds } from "../notifications/notificationKinds.ts";
import { credentialTypes } from "../repositories/credentialForm.ts";
import { en } from "./en.ts";
import { locales } from "./locales.ts";
import { zhCN } from "./zh-CN.ts";

const catalogs = { en, "zh-CN": zhCN };
const srcDir = dirname(dirname(fileURLToPath(import.meta.url)));

/** Dotted path → message, for every leaf. */
function flatten(messages: object, prefix = ""): Map<string, unknown> {
  const leaves = new Map<string, unknown>();
  for (const [key, value] of Object.entries(messages)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === "object" && value !== null) {
      for (const [leaf, message] of flatten(value, path)) leaves.set(leaf, message);
    } else {
      leaves.set(path, value);
    }
  }
  return leaves;
}

const flat = { en: flatten(en), "zh-CN": flatten(zhCN) };

function placeholders(message: unknown): string[] {
  return [...new Set([...String(message).matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? ""))].sort();
}

/** Literal keys passed to `t(...)` / `$t(...)` anywhere in the app. */
function literalKeysInSource(): Map<string, string> {
  const keys = new Map<string, string>();
  const files = readdirSync(srcDir, { recursive: true, encoding: "utf8" }).filter(
    (file) => /\.(vue|ts)$/.test(file) && !file.endsWith(".test.ts"),
  );
  for (const file of files) {
    const source = readFileSync(join(srcDir, file), "utf8");
    for (const match of source.matchAll(/(?<![\w$])\$?t\(\s*(["'])([^"'\n]+)\1/g)) {
      keys.set(match[2] ?? "", file);
    }
  }
  return keys;
}

/** Keys the UI builds at run time from a vocabulary (`t(`audit.actions.${action}`)`). */
const vocabularyKeys = [
  ...uiErrorCodes.map((code) => `errors.codes.${code}`),
  // Every rule the server or the shared schemas name (see @juanie/contracts field-rules.ts).
  ...[...issueRules, ...Object.keys(fieldRules)].map((rule) => `errors.rules.${rule}`),
  ...Object.keys(deploySpecRules).map((rule) => `errors.rules.deploy.${rule}`),
  ...auditActions.map((action) => `audit.actions.${action}`),
  ...auditResourceTypes.map((type) => `audit.resourceTypes.${type}`),
  ...["success", "denied", "failed"].map((result) => `audit.results.${result}`),
  ...notificationKinds.map((kind) => `notifications.kinds.${kind}`),
  ...oauthErrorCodes.map((code) => `oauth.errors.${code}`),
  ...oauthProviders.map((provider) => `providers.${provider}`),
  ...orgRoles.map((role) => `roles.org.${role}`),
  ...teamRoles.map((role) => `roles.team.${role}`),
  ...projectRoles.map((role) => `roles.project.${role}`),
  ...projectStatuses.map((status) => `projects.statuses.${status}`),
  ...projectVisibilities.flatMap((v) => [`projects.visibilities.${v}`, `projects.visibilityHints.${v}`]),
  ...invitationStatusSchema.options.filter((s) => s !== "pending").map((s) => `invitation.closed.${s}`),
  ...locales.map((locale) => `localeNames.${locale}`),
  ...repositoryProviders.map((provider) => `repositories.providers.${provider}`),
  ...credentialTypes.map((type) => `repositories.credential.types.${type}`),
  ...repositoryProviders.map((provider) => `repositories.credential.tokenHints.${provider}`),
  ...(["github", "gitlab"] as const).flatMap((provider) => [
    `repositories.connect.apiUrlHints.${provider}`,
    `repositories.create.tokenHints.${provider}`,
    `repositories.create.namespace.${provider}`,
  ]),
  ...environmentTypes.map((type) => `environments.types.${type}`),
  ...cloudProviders.map((provider) => `environments.cloudProviders.${provider}`),
  ...environmentPermissions.flatMap((p) => [`environments.permissions.${p}`, `environments.permissionHints.${p}`]),
  ...(["user", "team"] as const).map((type) => `environments.grants.subjectTypes.${type}`),
  ...deploymentStatusValues.map((status) => `deployments.statuses.${status}`),
  ...deploymentMethods.map((method) => `deployments.methods.${method}`),
  ...deploymentStrategies.flatMap((s) => [`deployments.strategies.${s}`, `deployments.strategyHints.${s}`]),
  ...manualEvents.map((event) => `deployments.manual.events.${event}`),
  ...eventMessageKeys.map((key) => `deployments.eventMessages.${key}`),
  ...["seconds", "minutes", "hours"].map((unit) => `deployments.duration.${unit}`),
  ...changeFields.map((field) => `deployments.form.changeFields.${field}`),
  ...probeTypes.map((type) => `deployments.form.probes.types.${type}`),
  ...["livenessProbe", "readinessProbe"].map((kind) => `deployments.form.probes.${kind}`),
  ...["requests", "limits"].flatMap((g) => ["cpu", "memory"].map((n) => `deployments.form.resources.${g}.${n}`)),
  ...["git", "flux", "kubernetes", "health"].map((step) => `deployments.progress.steps.${step}`),
  ...["approved", "rejected"].map((decision) => `deployments.approvals.decisions.${decision}`),
  ...clusterStatuses.map((status) => `clusters.statuses.${status}`),
  ...connectionTypes.map((type) => `clusters.connections.${type}`),
  ...fluxSources.flatMap((s) => [`clusters.flux.sources.${s}`, `clusters.flux.sourceHints.${s}`]),
  ...fluxActions.map((action) => `clusters.flux.actions.${action}`),
  ...fluxOperationStatuses.map((status) => `clusters.flux.operationStatuses.${status}`),
  ...fluxManagers.map((manager) => `clusters.flux.managedByValues.${manager}`),
  ...fluxStates.map((state) => `environments.flux.states.${state}`),
  ...gitopsStates.map((state) => `environments.flux.gitopsStates.${state}`),
  ...rolloutStepNames.map((step) => `deployments.rollout.steps.${step}`),
  ...environmentFluxActions.map((action) => `environments.flux.actions.${action}`),
];

describe("i18n catalogs", () => {
  it("en and zh-CN have exactly the same keys", () => {
    expect([...flat["zh-CN"].keys()].sort()).toEqual([...flat.en.keys()].sort());
  });

  it("every message is a non-empty string with the same placeholders in both languages", () => {
    for (const [key, message] of flat.en) {
      expect(typeof message === "string" && message.trim() !== "", `en: ${key}`).toBe(true);
      const translated = flat["zh-CN"].get(key);
      expect(typeof translated === "string" && translated.trim() !== "", `zh-CN: ${key}`).toBe(true);
      expect(placeholders(translated), `placeholders of ${key}`).toEqual(placeholders(message));
    }
  });

  it("every literal key used in the source exists in both languages", () => {
    const used = literalKeysInSource();
    expect(used.size).toBeGreaterThan(100);
    for (const [key, file] of used) {
      for (const locale of locales) expect(flat[locale].has(key), `${locale}: '${key}' used in ${file}`).toBe(true);
    }
  });

  it("every error code, audit action, resource type, notification kind, role and GitOps vocabulary is translated", () => {
    for (const key of vocabularyKeys) {
      for (const locale of locales) expect(flat[locale].has(key), `${locale}: ${key}`).toBe(true);
    }
  });

  it("every message compiles and renders", () => {
    const errors: string[] = [];
    const i18n = createI18n({
      legacy: false,
      messages: catalogs,
      missingWarn: false,
      fallbackWarn: false,
    });
    for (const locale of locales) {
      i18n.global.locale.value = locale;
      for (const [key, message] of flat[locale]) {
        const params = Object.fromEntries(placeholders(message).map((name) => [name, `<${name}>`]));
        try {
          const rendered = i18n.global.t(key, params);
          if (rendered === key) errors.push(`${locale}: ${key} did not resolve`);
          for (const name of Object.keys(params)) {
            if (!rendered.includes(`<${name}>`)) errors.push(`${locale}: ${key} lost {${name}}`);
          }
        } catch (error) {
          errors.push(`${locale}: ${key}: ${String(error)}`);
        }
      }
    }
    expect(errors).toEqual([]);
  });
});
