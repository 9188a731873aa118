// The simulated notification-controller (test tooling): forwards the Flux controllers' events to the
// Providers of matching Alerts (notification.toolkit.fluxcd.io/v1beta3), for the `generic` and
// `generic-hmac` provider types, in the JSON shape and with the headers Flux's notification-controller uses.
import { createHmac } from "node:crypto";
import { parse } from "yaml";
import { isObject, type Json, type JsonObject, type KubeObject, obj, str } from "../json.ts";
import type { ResourceType } from "../resources.ts";
import type { FluxSimulator } from "./controllers.ts";
import type { FluxController } from "./versions.ts";

const GV = "notification.toolkit.fluxcd.io/v1beta3";

/** The payload Flux POSTs to a generic provider (fluxcd/pkg apis/event v1beta1 Event). */
export interface FluxEventPayload extends JsonObject {
  involvedObject: JsonObject;
  severity: "info" | "error";
  timestamp: string;
  message: string;
  reason: string;
  metadata: Record<string, string>;
  reportingController: string;
  reportingInstance: string;
}

/** Sends `event` to every Provider whose Alert selects it; resolves when every delivery ended. */
export async function forwardEvent(
  sim: FluxSimulator,
  involved: KubeObject,
  controller: FluxController,
  severity: "info" | "error",
  reason: string,
  message: string,
  metadata: Record<string, string>,
): Promise<void> {
  if (!sim.controllerReady("notification-controller")) return;
  const alerts = sim.store.findKind(GV, "Alert");
  const providers = sim.store.findKind(GV, "Provider");
  if (!alerts || !providers) return;
  const ns = str(involved.metadata.namespace) ?? "";
  const deliveries: Promise<void>[] = [];
  for (const alert of sim.store.list(alerts, ns)) {
    const spec = obj(alert.spec) ?? {};
    if (spec.suspend === true) continue;
    if (str(spec.eventSeverity) === "error" && severity !== "error") continue;
    if (!selects(spec.eventSources, involved, ns)) continue;
    if (!passesLists(spec, message)) continue;
    const provider = sim.store.tryGet(providers, ns, str(obj(spec.providerRef)?.name) ?? "");
    const pspec = obj(provider?.spec) ?? {};
    if (!provider || pspec.suspend === true) continue;
    const type = str(pspec.type);
    if (type !== "generic" && type !== "generic-hmac") continue;
    const secret = secretData(sim, ns, str(obj(pspec.secretRef)?.name));
    const address = secret.address ?? str(pspec.address);
    if (!address) continue;
    const extra: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj(spec.eventMetadata) ?? {})) if (typeof v === "string") extra[k] = v;
    if (str(spec.summary)) extra.summary = str(spec.summary) as string;
    const payload: FluxEventPayload = {
      involvedObject: {
        apiVersion: involved.apiVersion,
        kind: involved.kind,
        name: involved.metadata.name as Json,
        namespace: ns,
        uid: involved.metadata.uid as Json,
        resourceVersion: involved.metadata.resourceVersion as Json,
      },
      severity,
      timestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      message,
      reason,
      metadata: { ...extra, ...metadata },
      reportingController: controller,
      reportingInstance: `${controller}-sim`,
    };
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "Gotk-Component": controller,
      ...parseHeaders(secret.headers),
    };
    if (type === "generic-hmac") {
      if (!secret.token) continue;
      headers["X-Signature"] = `sha256=${createHmac("sha256", secret.token).update(body).digest("hex")}`;
    }
    deliveries.push(deliver(sim, address, headers, body));
  }
  await Promise.all(deliveries);
}

function selects(sources: Json | undefined, involved: KubeObject, ns: string): boolean {
  if (!Array.isArray(sources)) return false;
  return sources.filter(isObject).some((s) => {
    if (str(s.kind) !== involved.kind) return false;
    if ((str(s.namespace) ?? ns) !== ns) return false;
    const name = str(s.name);
    if (name !== "*") return name === involved.metadata.name;
    const want = obj(s.matchLabels);
    if (!want) return true;
    const labels = obj(involved.metadata.labels) ?? {};
    return Object.entries(want).every(([k, v]) => labels[k] === v);
  });
}

function passesLists(spec: JsonObject, message: string): boolean {
  const list = (v: Json | undefined) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
  const matches = (re: string) => {
    try {
      return new RegExp(re).test(message);
    } catch {
      return false;
    }
  };
  const inclusion = list(spec.inclusionList);
  if (inclusion.length > 0 && !inclusion.some(matches)) return false;
  return !list(spec.exclusionList).some(matches);
}

function secretData(sim: FluxSimulator, ns: string, name: string | undefined): Record<string, string | undefined> {
  if (!name) return {};
  const secrets = sim.store.findKind("v1", "Secret") as ResourceType;
  const secret = sim.store.tryGet(secrets, ns, name);
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(obj(secret?.data) ?? {})) {
    if (typeof v === "string") out[k] = Buffer.from(v, "base64").toString("utf8");
  }
  for (const [k, v] of Object.entries(obj(secret?.stringData) ?? {})) if (typeof v === "string") out[k] = v;
  return out;
}

function parseHeaders(text: string | undefined): Record<string, string> {
  if (!text) return {};
  try {
    const v = parse(text) as unknown;
    if (typeof v !== "object" || v === null) return {};
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v)) if (typeof val === "string") out[k] = val;
    return out;
  } catch {
    return {};
  }
}

/** POSTs with a few retries (Flux retries delivery too, so receivers see duplicates now and then). */
async function deliver(sim: FluxSimulator, address: string, headers: Record<string, string>, body: string) {
  for (let attempt = 0; attempt < 3 && !sim.isStopped; attempt++) {
    try {
      const res = await fetch(address, { method: "POST", headers, body, signal: AbortSignal.timeout(15_000) });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 500) return;
    } catch {
      // Unreachable receiver: retry, then give up (delivery is best-effort in Flux as well).
    }
    await sim.sleep(200 * 2 ** attempt);
  }
}
