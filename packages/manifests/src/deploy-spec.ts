import { z } from "zod";
import { ManifestError } from "./errors.ts";
import { isImageReference, parseImageReference } from "./image-reference.ts";
import { compareQuantities, parseQuantity } from "./quantity.ts";

/**
 * What the deploy form asks to change in an environment. Every field left out stays as it is.
 * (A type alias, not an interface, so that it is assignable to `Record<string, unknown>`.)
 */
export type DeploySpec = {
  /** Which workload kind (Deployment, StatefulSet or DaemonSet); needed only when two kinds share a name. */
  kind?: WorkloadKind;
  /** Which workload (metadata.name as declared) when the environment has more than one. */
  workload?: string;
  /** Container name; default: the first container of the workload. */
  container?: string;
  /** Full image reference: `registry[:port]/path[:tag][@sha256:digest]`. */
  image?: string;
  imagePullPolicy?: ImagePullPolicy;
  /** Integer 0..1000. */
  replicas?: number;
  /** Replaces the container's literal env entries; entries using valueFrom are kept. */
  env?: EnvVar[];
  /** Kubernetes quantities; only the keys given are set. */
  resources?: ResourceRequirements;
  /** `null` removes the probe. */
  livenessProbe?: Probe | null;
  readinessProbe?: Probe | null;
};

export const workloadKinds = ["Deployment", "StatefulSet", "DaemonSet"] as const;
export type WorkloadKind = (typeof workloadKinds)[number];

export type ImagePullPolicy = "Always" | "IfNotPresent" | "Never";
export interface EnvVar {
  name: string;
  value: string;
}
export interface ResourceAmounts {
  cpu?: string;
  memory?: string;
}
export interface ResourceRequirements {
  requests?: ResourceAmounts;
  limits?: ResourceAmounts;
}

interface ProbeTiming {
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}
export type Probe =
  | ({ type: "http"; path: string; port: number | string } & ProbeTiming)
  | ({ type: "tcp"; port: number | string } & ProbeTiming)
  | ({ type: "exec"; command: string[] } & ProbeTiming);

/** The fields that request a change (as opposed to `kind`, `workload` and `container`, which select). */
export const changeFields = [
  "image",
  "imagePullPolicy",
  "replicas",
  "env",
  "resources",
  "livenessProbe",
  "readinessProbe",
] as const;

export const imagePullPolicies = ["Always", "IfNotPresent", "Never"] as const;

// The rules, worded once: they are what the form shows next to a field.
export const rules = {
  object: "must be an object",
  unknownField: "is not a known field",
  kind: "must be one of Deployment, StatefulSet or DaemonSet",
  workload: "must be a Kubernetes object name (lowercase letters, digits, '-' and '.', at most 253 characters)",
  container:
    "must be a container name (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)",
  image: "must be a valid image reference like registry.example.com/team/app:1.2.3",
  imageTag: "must name a tag or a digest, like app:1.2.3 or app@sha256:…",
  imagePullPolicy: "must be one of Always, IfNotPresent or Never",
  replicas: "must be an integer from 0 to 1000",
  env: "must be a list of { name, value } entries",
  envName: "must consist of letters, digits, '_', '-' or '.', and must not start with a digit",
  envValue: "must be a string",
  cpu: "must be a Kubernetes quantity like 500m or 1",
  memory: "must be a Kubernetes quantity like 128Mi or 1Gi",
  probe: "must be a probe object, or null to remove the probe",
  probeType: "must be one of http, tcp or exec",
  port: "must be a port number from 1 to 65535 or a port name (IANA_SVC_NAME: at most 15 lowercase letters, digits and '-', with at least one letter)",
  httpPath: "must be an HTTP path starting with '/'",
  command: "must be a non-empty list of strings",
  initialDelaySeconds: "must be an integer from 0 to 86400",
  probeSeconds: "must be an integer from 1 to 86400",
  failureThreshold: "must be an integer from 1 to 1000",
  atLeastOneChange: `must request at least one change (one of ${changeFields.join(", ")})`,
} as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Kubernetes' classic env var name rule (C_IDENTIFIER plus '-' and '.'). */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const IANA_SVC_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/;

export function isDnsLabel(v: string): boolean {
  return v.length <= 63 && DNS_LABEL.test(v);
}
export function isDnsSubdomain(v: string): boolean {
  return v.length <= 253 && DNS_SUBDOMAIN.test(v);
}
export function isEnvVarName(v: string): boolean {
  return ENV_NAME.test(v);
}
/** `app:1.2` or `app@sha256:…`; not `nginx`, nor `localhost:5000/app` (a port, not a tag). */
export function hasTagOrDigest(image: string): boolean {
  const ref = parseImageReference(image);
  return !!ref && (ref.tag !== undefined || ref.digest !== undefined);
}

export function isPort(v: number | string): boolean {
  if (typeof v === "number") return Number.isInteger(v) && v >= 1 && v <= 65535;
  if (/^\d+$/.test(v)) return isPort(Number(v));
  return IANA_SVC_NAME.test(v);
}

/** Unknown keys are refused one by one, so that the error names the misspelt field itself. */
function strict<T extends z.ZodRawShape>(shape: T) {
  const known = new Set(Object.keys(shape));
  return z.looseObject(shape, { message: rules.object }).superRefine((value, ctx) => {
    for (const key of Object.keys(value)) {
      if (!known.has(key)) ctx.addIssue({ code: "custom", path: [key], message: rules.unknownField });
    }
  });
}

function int(min: number, max: number, message: string) {
  return z.number({ message }).int({ message }).min(min, { message }).max(max, { message });
}

const quantity = (message: string) => z.string({ message }).refine((v) => parseQuantity(v) !== null, { message });

const port = z
  .union([z.number(), z.string()], { message: rules.port })
  .refine(isPort, { message: rules.port })
  // A port typed into a text field arrives as "8080"; Kubernetes wants the number.
  .transform((v) => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v));

const timing = {
  initialDelaySeconds: int(0, 86400, rules.initialDelaySeconds).optional(),
  periodSeconds: int(1, 86400, rules.probeSeconds).optional(),
  timeoutSeconds: int(1, 86400, rules.probeSeconds).optional(),
  failureThreshold: int(1, 1000, rules.failureThreshold).optional(),
};

const probeSchema = z.discriminatedUnion(
  "type",
  [
    strict({
      type: z.literal("http"),
      path: z.string({ message: rules.httpPath }).regex(/^\/\S*$/, { message: rules.httpPath }),
      port,
      ...timing,
    }),
    strict({ type: z.literal("tcp"), port, ...timing }),
    strict({
      type: z.literal("exec"),
      command: z
        .array(z.string({ message: rules.command }), { message: rules.command })
        .refine((c) => (c[0] ?? "").trim() !== "", { message: rules.command }),
      ...timing,
    }),
  ],
  {
    error: (issue) =>
      issue.code === "invalid_union" && issue.note === "No matching discriminator" ? rules.probeType : rules.probe,
  },
);

const amounts = (): z.ZodType<ResourceAmounts> =>
  strict({ cpu: quantity(rules.cpu).optional(), memory: quantity(rules.memory).optional() });

/** The deploy form's input. Each issue's path names the field and its message the rule. */
export const deploySpecSchema: z.ZodType<DeploySpec> = strict({
  kind: z.enum(workloadKinds, { message: rules.kind }).optional(),
  workload: z.string({ message: rules.workload }).refine(isDnsSubdomain, { message: rules.workload }).optional(),
  container: z.string({ message: rules.container }).refine(isDnsLabel, { message: rules.container }).optional(),
  image: z
    .string({ message: rules.image })
    .refine(isImageReference, { message: rules.image, abort: true })
    // Without a tag the cluster runs whatever `latest` is when a node pulls: not a deployment one can name.
    .refine(hasTagOrDigest, { message: rules.imageTag })
    .optional(),
  imagePullPolicy: z.enum(imagePullPolicies, { message: rules.imagePullPolicy }).optional(),
  replicas: int(0, 1000, rules.replicas).optional(),
  env: z
    .array(
      strict({
        name: z.string({ message: rules.envName }).regex(ENV_NAME, { message: rules.envName }),
        value: z.string({ message: rules.envValue }),
      }),
      { message: rules.env },
    )
    .optional(),
  resources: strict({ requests: amounts().optional(), limits: amounts().optional() }).optional(),
  livenessProbe: probeSchema.nullable().optional(),
  readinessProbe: probeSchema.nullable().optional(),
}).superRefine((spec, ctx) => {
  if (!hasChange(spec)) ctx.addIssue({ code: "custom", path: [], message: rules.atLeastOneChange });

  const firstIndex = new Map<string, number>();
  spec.env?.forEach((entry, i) => {
    const first = firstIndex.get(entry.name);
    if (first === undefined) firstIndex.set(entry.name, i);
    else
      ctx.addIssue({
        code: "custom",
        path: ["env", i, "name"],
        message: `must be unique ("${entry.name}" is also env.${first}.name)`,
        params: { rule: "deploy.env_duplicate", name: entry.name, row: first + 1 },
      });
  });

  for (const resource of ["cpu", "memory"] as const) {
    const request = spec.resources?.requests?.[resource];
    const limit = spec.resources?.limits?.[resource];
    const r = request === undefined ? null : parseQuantity(request);
    const l = limit === undefined ? null : parseQuantity(limit);
    if (r && l && compareQuantities(l, r) < 0) {
      ctx.addIssue({
        code: "custom",
        path: ["resources", "limits", resource],
        message: `must not be less than resources.requests.${resource} (${request})`,
        params: { rule: `deploy.limit_below_request_${resource}`, request },
      });
    }
  }
});

function hasChange(spec: DeploySpec): boolean {
  return changeFields.some((f) => {
    if (f === "resources") {
      const r = spec.resources;
      return Boolean(r && (Object.keys(r.requests ?? {}).length > 0 || Object.keys(r.limits ?? {}).length > 0));
    }
    return spec[f] !== undefined;
  });
}

/** `image: must be a valid image reference …` — a zod issue as the form and the logs show it. */
export function describeIssue(issue: { path: readonly PropertyKey[]; message: string }): string {
  const field = issue.path.map(String).join(".");
  return field === "" ? `spec: ${issue.message}` : `${field}: ${issue.message}`;
}

/** The validated spec, or a ManifestError listing every broken rule (first one in the message). */
export function parseDeploySpec(input: unknown): DeploySpec {
  const result = deploySpecSchema.safeParse(input);
  if (result.success) return result.data;
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of result.error.issues) {
    const field = issue.path.map(String).join(".");
    const list = fieldErrors[field] ?? [];
    list.push(issue.message);
    fieldErrors[field] = list;
  }
  const messages = result.error.issues.map(describeIssue);
  const first = result.error.issues[0];
  return throwSpecError(messages.join("; "), first ? first.path.map(String).join(".") : "", fieldErrors);
}

function throwSpecError(message: string, field: string, fieldErrors: Record<string, string[]>): never {
  throw new ManifestError(message, { field, fieldErrors });
}
