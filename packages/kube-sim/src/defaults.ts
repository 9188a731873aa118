import { isObject, type JsonObject, type KubeObject, obj } from "./json.ts";
import type { ResourceType } from "./resources.ts";

/**
 * The defaults a real API server fills in for the built-in kinds the platform deploys (what `kubectl get -o
 * yaml` shows afterwards). Applied after field ownership is recorded: nobody manages a defaulted field.
 */
export function applyDefaults(type: ResourceType, object: KubeObject, allocateIp: () => string): void {
  if (!type.builtin) return;
  const spec = obj(object.spec);
  if (!spec) return;
  if (
    type.group === "apps" &&
    (type.kind === "Deployment" || type.kind === "StatefulSet" || type.kind === "ReplicaSet")
  ) {
    spec.replicas ??= 1;
    spec.revisionHistoryLimit ??= 10;
    if (type.kind === "Deployment") {
      spec.progressDeadlineSeconds ??= 600;
      const strategy = obj(spec.strategy) ?? {};
      strategy.type ??= "RollingUpdate";
      if (strategy.type === "RollingUpdate") {
        const rolling = obj(strategy.rollingUpdate) ?? {};
        rolling.maxUnavailable ??= "25%";
        rolling.maxSurge ??= "25%";
        strategy.rollingUpdate = rolling;
      }
      spec.strategy = strategy;
    }
  }
  const templateSpec = obj(obj(spec.template)?.spec);
  if (templateSpec) defaultPodSpec(templateSpec);
  if (type.kind === "Pod" && type.group === "") defaultPodSpec(spec);
  if (type.kind === "Service" && type.group === "") {
    spec.type ??= "ClusterIP";
    spec.sessionAffinity ??= "None";
    if (spec.type !== "ExternalName") {
      spec.clusterIP ??= allocateIp();
      spec.clusterIPs ??= [spec.clusterIP];
      spec.ipFamilies ??= ["IPv4"];
      spec.ipFamilyPolicy ??= "SingleStack";
      spec.internalTrafficPolicy ??= "Cluster";
    }
    for (const port of Array.isArray(spec.ports) ? spec.ports.filter(isObject) : []) {
      port.protocol ??= "TCP";
      port.targetPort ??= port.port ?? null;
    }
  }
}

function defaultPodSpec(spec: JsonObject) {
  spec.restartPolicy ??= "Always";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= "ClusterFirst";
  spec.schedulerName ??= "default-scheduler";
  spec.securityContext ??= {};
  for (const key of ["containers", "initContainers"]) {
    const list = spec[key];
    if (!Array.isArray(list)) continue;
    for (const c of list.filter(isObject)) {
      const image = String(c.image ?? "");
      const tag = image.includes("@") ? "digest" : (/:([^/:]+)$/.exec(image)?.[1] ?? "latest");
      c.imagePullPolicy ??= tag === "latest" ? "Always" : "IfNotPresent";
      c.terminationMessagePath ??= "/dev/termination-log";
      c.terminationMessagePolicy ??= "File";
      c.resources ??= {};
      for (const p of Array.isArray(c.ports) ? c.ports.filter(isObject) : []) p.protocol ??= "TCP";
    }
  }
}
