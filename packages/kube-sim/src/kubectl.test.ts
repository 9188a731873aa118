import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeSim, startKubeSim } from "./cluster.ts";
import { kubectlFor } from "./kubectl.testing.ts";

// Conformance of the simulator, judged by the real kubectl (v1.35): every assertion is what a user sees.
let sim: KubeSim;
let k: Awaited<ReturnType<typeof kubectlFor>>;

const deployment = (replicas: number, image = "nginx:1.27", name = "web") => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
        - name: ${name}
          image: ${image}
          env:
            - {name: MODE, value: demo}
`;

const configMap = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  a: b\n`;

async function file(name: string, text: string): Promise<string> {
  const p = path.join(k.home, "manifests", name);
  await mkdir(path.dirname(p), { recursive: true });
  await writeFile(p, text);
  return p;
}

beforeAll(async () => {
  sim = await startKubeSim({ workloads: { podStartMs: 50, restartIntervalMs: 200 } });
  k = await kubectlFor(sim);
});

afterAll(async () => {
  await sim?.close();
  await k?.cleanup();
});

describe("kubectl against the simulated cluster", () => {
  it("names itself a simulator in its server version and a well-known ConfigMap", async () => {
    const version = await k.run(["version"]);
    expect(version.code).toBe(0);
    expect(version.stdout).toContain("Server Version: v1.35.0+juanie-simulator");
    const marker = await k.run([
      "get",
      "configmap",
      "juanie-simulator",
      "-n",
      "kube-public",
      "-o",
      "jsonpath={.data.simulator}",
    ]);
    expect(marker.stdout).toBe("true");
    const nodes = await k.run(["get", "nodes"]);
    expect(nodes.stdout).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\nsim-node-1\s+Ready\s+control-plane\s+/);
  });

  it("refuses a wrong token (401) and a read-only user's writes (403)", async () => {
    const wrong = await kubectlFor(sim, { token: "not-the-token" });
    const denied = await wrong.run(["get", "pods"]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(
      "error: You must be logged in to the server (the server has asked for the client to provide credentials)",
    );
    await wrong.cleanup();

    const viewerSim = await startKubeSim({
      token: "admin",
      users: { viewer: { user: "viewer", readOnly: true } },
      workloads: false,
    });
    const viewer = await kubectlFor(viewerSim, { token: "viewer" });
    expect((await viewer.run(["get", "namespaces", "-o", "name"])).stdout).toContain("namespace/default");
    const write = await viewer.run(["create", "-f", "-"], configMap("x"));
    expect(write.code).toBe(1);
    expect(write.stderr).toContain(
      'Error from server (Forbidden): error when creating "STDIN": configmaps is forbidden: User "viewer" cannot create resource "configmaps" in API group "" in the namespace "default"',
    );
    await viewer.cleanup();
    await viewerSim.close();
  });

  it("applies client-side: created, unchanged, configured — and the workload becomes Available", async () => {
    const f = await file("web.yaml", deployment(2));
    const first = await k.run(["apply", "-f", f]);
    expect(first).toMatchObject({ code: 0, stdout: "deployment.apps/web created\n" });
    expect((await k.run(["apply", "-f", f])).stdout).toBe("deployment.apps/web unchanged\n");
    await writeFile(f, deployment(3));
    expect((await k.run(["apply", "-f", f])).stdout).toBe("deployment.apps/web configured\n");

    const wait = await k.run(["wait", "--for=condition=Available", "deployment/web", "--timeout=10s"]);
    expect(wait).toMatchObject({ code: 0, stdout: "deployment.apps/web condition met\n" });
    const rollout = await k.run(["rollout", "status", "deployment/web", "--timeout=10s"]);
    expect(rollout.stdout).toContain('deployment "web" successfully rolled out');
    const get = await k.run(["get", "deployment", "web"]);
    expect(get.stdout).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+3\/3\s+3\s+3\s+/);
    const pods = await k.run([
      "get",
      "pods",
      "-l",
      "app=web",
      "--field-selector",
      "status.phase=Running",
      "-o",
      "name",
    ]);
    expect(pods.stdout.trim().split("\n")).toHaveLength(3);
    const status = await k.run([
      "get",
      "deployment",
      "web",
      "-o",
      "jsonpath={.metadata.generation} {.status.observedGeneration} {.status.readyReplicas}",
    ]);
    expect(status.stdout).toBe("2 2 3");
  });

  it("decodes the protobuf that kubectl's create generators send", async () => {
    expect((await k.run(["create", "namespace", "generated"])).stdout).toBe("namespace/generated created\n");
    const secret = await k.run([
      "create",
      "secret",
      "generic",
      "token",
      "-n",
      "generated",
      "--from-literal=token=s3cr3t",
    ]);
    expect(secret.stdout).toBe("secret/token created\n");
    const data = await k.run(["get", "secret", "token", "-n", "generated", "-o", "jsonpath={.data.token}"]);
    expect(Buffer.from(data.stdout, "base64").toString()).toBe("s3cr3t");
    const cm = await k.run(["create", "configmap", "settings", "-n", "generated", "--from-literal=mode=fast"]);
    expect(cm.stdout).toBe("configmap/settings created\n");
    const deploy = await k.run([
      "create",
      "deployment",
      "gen",
      "-n",
      "generated",
      "--image=nginx:1.27",
      "--replicas=2",
      "--port=80",
    ]);
    expect(deploy.stdout).toBe("deployment.apps/gen created\n");
    const wait = await k.run([
      "wait",
      "-n",
      "generated",
      "--for=condition=Available",
      "deployment/gen",
      "--timeout=10s",
    ]);
    expect(wait.code).toBe(0);
    const exposed = await k.run(["expose", "deployment", "gen", "-n", "generated", "--port=8080", "--target-port=80"]);
    expect(exposed.stdout).toBe("service/gen exposed\n");
    const svc = await k.run(["get", "service", "gen", "-n", "generated"]);
    expect(svc.stdout).toMatch(
      /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\ngen\s+ClusterIP\s+10\.43\.\d+\.\d+\s+<none>\s+8080\/TCP\s+/,
    );
    const job = await k.run(["create", "job", "once", "-n", "generated", "--image=busybox"]);
    expect(job.code).toBe(1);
    expect(job.stderr).toContain("no protobuf decoder for kind Job");
  });

  it("prints the pods' logs", async () => {
    const logs = await k.run(["logs", "deployment/web"]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toBe("container web started (image nginx:1.27)\n");
  });

  it("patches by strategic merge (containers merge by name), merge patch and JSON patch", async () => {
    const smp = await k.run([
      "patch",
      "deployment",
      "web",
      "-p",
      '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}}',
    ]);
    expect(smp.stdout).toBe("deployment.apps/web patched\n");
    const after = await k.run([
      "get",
      "deployment",
      "web",
      "-o",
      "jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env[0].value} {.metadata.generation}",
    ]);
    expect(after.stdout).toBe("nginx:1.28 demo 3");
    const merge = await k.run([
      "patch",
      "deployment",
      "web",
      "--type=merge",
      "-p",
      '{"metadata":{"labels":{"tier":"front"}}}',
    ]);
    expect(merge.stdout).toBe("deployment.apps/web patched\n");
    const json = await k.run([
      "patch",
      "deployment",
      "web",
      "--type=json",
      "-p",
      '[{"op":"replace","path":"/spec/replicas","value":1}]',
    ]);
    expect(json.stdout).toBe("deployment.apps/web patched\n");
    const same = await k.run(["patch", "deployment", "web", "--type=merge", "-p", '{"spec":{"replicas":1}}']);
    expect(same.stdout).toBe("deployment.apps/web patched (no change)\n");
    const labels = await k.run(["get", "deployment", "-l", "tier=front", "-o", "jsonpath={.items[*].spec.replicas}"]);
    expect(labels.stdout).toBe("1");
    const failed = await k.run([
      "patch",
      "deployment",
      "web",
      "--type=json",
      "-p",
      '[{"op":"test","path":"/spec/replicas","value":5}]',
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("testing value at /spec/replicas failed");
  });

  it("server-side applies with field managers: conflicts without --force-conflicts, taken over with it", async () => {
    const f = await file("api.yaml", deployment(2, "nginx:1.27", "api"));
    const ci = await k.run(["apply", "--server-side", "--field-manager=ci", "-f", f]);
    expect(ci.stdout).toBe("deployment.apps/api serverside-applied\n");
    await writeFile(f, deployment(4, "nginx:1.27", "api"));
    const conflict = await k.run(["apply", "--server-side", "-f", f]);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('error: Apply failed with 1 conflict: conflict with "ci": .spec.replicas');
    expect(conflict.stderr).toContain("--force-conflicts");
    const forced = await k.run(["apply", "--server-side", "--force-conflicts", "-f", f]);
    expect(forced.stdout).toBe("deployment.apps/api serverside-applied\n");
    const managers = await k.run([
      "get",
      "deployment",
      "api",
      "-o",
      "jsonpath={.spec.replicas} {.metadata.managedFields[*].manager}",
    ]);
    expect(managers.stdout).toMatch(/^4 /);
    expect(managers.stdout).toContain("ci");
    expect(managers.stdout).toContain("kubectl");
    // Sharing a field with the same value is no conflict.
    const shared = await k.run(["apply", "--server-side", "--field-manager=ci", "-f", f]);
    expect(shared.code).toBe(0);
  });

  it("switches an object from client-side to server-side apply without conflicts, as a real API server does", async () => {
    const f = await file("cfg.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: '1'\n");
    expect((await k.run(["apply", "-f", f])).stdout).toBe("configmap/cfg created\n");
    await writeFile(f, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: '2'\n");
    const ssa = await k.run(["apply", "--server-side", "-f", f]);
    expect(ssa).toMatchObject({ code: 0, stdout: "configmap/cfg serverside-applied\n" });
    expect((await k.run(["get", "cm", "cfg", "-o", "jsonpath={.data.a}"])).stdout).toBe("2");
  });

  it("streams changes with get -w", async () => {
    const watch = k.stream(["get", "configmaps", "-w", "-l", "watched=yes"]);
    await k.run(["apply", "-f", "-"], configMap("streamed"));
    await k.run(["label", "configmap", "streamed", "watched=yes"]);
    await watch.waitFor(/streamed\s+1\s+/);
    await k.run(["patch", "configmap", "streamed", "--type=merge", "-p", '{"data":{"b":"c"}}']);
    await watch.waitFor(/streamed\s+2\s+/);
    await watch.stop();
    expect(watch.output()).toMatch(/^NAME\s+DATA\s+AGE\n/);
  });

  it("deletes, and says NotFound afterwards", async () => {
    const del = await k.run(["delete", "deployment", "api"]);
    expect(del.stdout).toBe('deployment.apps "api" deleted from default namespace\n');
    const get = await k.run(["get", "deployment", "api"]);
    expect(get).toMatchObject({ code: 1, stderr: 'Error from server (NotFound): deployments.apps "api" not found\n' });
    // Its pods are garbage-collected after it: Terminating for a moment, as on a real cluster, then gone.
    let pods = await k.run(["get", "pods", "-l", "app=api", "-o", "name"]);
    for (const until = Date.now() + 15_000; pods.stdout !== "" && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 200));
      pods = await k.run(["get", "pods", "-l", "app=api", "-o", "name"]);
    }
    expect(pods.stdout).toBe("");
  });

  it("reports errors as a real API server does", async () => {
    const invalid = await k.run(["apply", "-f", "-"], configMap("Bad_Name"));
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain(
      'The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of',
    );
    await k.run(["create", "-f", "-"], configMap("twice"));
    const exists = await k.run(["create", "-f", "-"], configMap("twice"));
    expect(exists.stderr).toBe(
      'Error from server (AlreadyExists): error when creating "STDIN": configmaps "twice" already exists\n',
    );
    const noNs = await k.run(["apply", "-n", "missing", "-f", "-"], configMap("x"));
    expect(noNs.stderr).toContain(
      'Error from server (NotFound): error when creating "STDIN": namespaces "missing" not found',
    );
    const unknown = await k.run(["get", "frobnicators"]);
    expect(unknown.stderr).toContain('error: the server doesn\'t have a resource type "frobnicators"');
    const badSelector = await k.run(["get", "pods", "--field-selector", "spec.image=x"]);
    expect(badSelector.stderr).toContain("field label not supported: spec.image");
  });

  it("refuses a stale resourceVersion with 409 Conflict", async () => {
    const old = await k.run(["get", "configmap", "twice", "-o", "yaml"]);
    await k.run(["patch", "configmap", "twice", "--type=merge", "-p", '{"data":{"x":"1"}}']);
    const f = await file("stale.yaml", old.stdout);
    const replace = await k.run(["replace", "-f", f]);
    expect(replace.code).toBe(1);
    expect(replace.stderr).toContain(
      'Operation cannot be fulfilled on configmaps "twice": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  it("serves a CRD's kind once it is established, with its printer columns", async () => {
    const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget, shortNames: [wg]}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      additionalPrinterColumns:
        - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
        - {name: Size, type: integer, jsonPath: .spec.size}
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`;
    const widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n";
    const both = await file("crd-and-widget.yaml", `${crd}---\n${widget}`);
    const first = await k.run(["apply", "-f", both]);
    expect(first.code).toBe(1);
    expect(first.stdout).toBe("customresourcedefinition.apiextensions.k8s.io/widgets.example.com created\n");
    expect(first.stderr).toContain(
      'no matches for kind "Widget" in version "example.com/v1"\nensure CRDs are installed first',
    );
    const established = await k.run([
      "wait",
      "--for=condition=Established",
      "crd/widgets.example.com",
      "--timeout=10s",
    ]);
    expect(established.code).toBe(0);
    const second = await k.run(["apply", "-f", both]);
    expect(second.stdout).toContain("widget.example.com/w1 created");
    expect((await k.run(["get", "wg"])).stdout).toMatch(/^NAME\s+READY\s+SIZE\s+AGE\nw1\s+3\s+/);
    const smp = await k.run(["patch", "widget", "w1", "-p", '{"spec":{"size":4}}']);
    expect(smp.stderr).toContain(
      "application/strategic-merge-patch+json is not supported by example.com/v1, Kind=Widget",
    );
    await k.run(["patch", "widget", "w1", "--type=merge", "-p", '{"spec":{"size":4}}']);
    const generation = await k.run(["get", "widget", "w1", "-o", "jsonpath={.metadata.generation} {.spec.size}"]);
    expect(generation.stdout).toBe("2 4");
    const deleted = await k.run(["delete", "crd", "widgets.example.com"]);
    expect(deleted.code).toBe(0);
    const gone = await k.run(["get", "widgets"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(
      /the server could not find the requested resource|doesn't have a resource type "widgets"/,
    );
  });

  it("refuses what a real API server refuses: oversized last-applied annotations, mismatched selectors", async () => {
    // Flux's CRDs are too large for client-side apply's annotation; the reason Flux installs server-side.
    const big = JSON.stringify({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "bigs.example.com" },
      spec: {
        group: "example.com",
        names: { kind: "Big", plural: "bigs", singular: "big", listKind: "BigList" },
        scope: "Namespaced",
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: "object", description: "x".repeat(300_000) } },
          },
        ],
      },
    });
    const f = await file("big-crd.json", big);
    const csa = await k.run(["apply", "-f", f]);
    expect(csa.code).toBe(1);
    expect(csa.stderr).toContain(
      'The CustomResourceDefinition "bigs.example.com" is invalid: metadata.annotations: Too long: must have at most 262144 bytes',
    );
    const ssa = await k.run(["apply", "--server-side", "-f", f]);
    expect(ssa.stdout).toBe("customresourcedefinition.apiextensions.k8s.io/bigs.example.com serverside-applied\n");

    const mismatch = await file(
      "mismatch.yaml",
      deployment(1)
        .replace("matchLabels: {app: web}", "matchLabels: {app: other}")
        .replace("name: web\n", "name: odd\n"),
    );
    const bad = await k.run(["apply", "-f", mismatch]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      'The Deployment "odd" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    );
  });

  it("applies what kubectl kustomize builds, through a pipe", async () => {
    await file("kustomize/base/deployment.yaml", deployment(1, "nginx:1.27", "shop"));
    await file("kustomize/base/kustomization.yaml", "resources:\n  - deployment.yaml\n");
    await file(
      "kustomize/overlay/kustomization.yaml",
      "namespace: staging\nresources:\n  - ../base\n  - namespace.yaml\nimages:\n  - name: nginx\n    newTag: '1.29'\n",
    );
    await file("kustomize/overlay/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: staging\n");
    const built = await k.run(["kustomize", path.join(k.home, "manifests", "kustomize", "overlay")]);
    expect(built.code).toBe(0);
    const applied = await k.run(["apply", "-f", "-"], built.stdout);
    expect(applied.stdout).toBe("namespace/staging created\ndeployment.apps/shop created\n");
    const image = await k.run([
      "get",
      "deploy",
      "shop",
      "-n",
      "staging",
      "-o",
      "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    expect(image.stdout).toBe("nginx:1.29");
    const deleted = await k.run(["delete", "namespace", "staging"]);
    expect(deleted.code).toBe(0);
    expect((await k.run(["get", "deploy", "shop", "-n", "staging"])).stderr).toContain("NotFound");
  });

  it("shows workloads that cannot start: ImagePullBackOff and CrashLoopBackOff", async () => {
    const pull = await file("broken.yaml", deployment(1, "registry.example/app:does-not-exist", "broken"));
    await k.run(["apply", "-f", pull]);
    const crash = await file(
      "crash.yaml",
      deployment(1, "nginx:1.27", "crash").replace(
        "      labels: {app: crash}\n    spec:",
        "      labels: {app: crash}\n      annotations: {kube-sim.juanie.dev/failure: CrashLoopBackOff}\n    spec:",
      ),
    );
    await k.run(["apply", "-f", crash]);
    const wait = await k.run(["wait", "--for=condition=Available", "deployment/broken", "--timeout=1s"]);
    expect(wait.code).toBe(1);
    expect(wait.stderr).toContain("timed out waiting for the condition on deployments/broken");
    const pods = await k.run(["get", "pods", "-l", "app in (broken,crash)"]);
    expect(pods.stdout).toMatch(/broken-\S+\s+0\/1\s+ImagePullBackOff\s+0\s+/);
    expect(pods.stdout).toMatch(/crash-\S+\s+0\/1\s+CrashLoopBackOff\s+[1-9]\d*\s+/);
    const logs = await k.run(["logs", "deployment/broken"]);
    expect(logs.stderr).toMatch(
      /container "broken" in pod "broken-\S+" is waiting to start: trying and failing to pull image/,
    );
    const describe = await k.run(["describe", "pods", "-l", "app=broken"]);
    expect(describe.stdout).toMatch(
      /Warning\s+Failed\s+\S+\s+kubelet\s+Failed to pull image "registry.example\/app:does-not-exist"/,
    );
    expect(describe.stdout).toMatch(
      /Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/broken-\S+ to sim-node-1/,
    );
    const events = await k.run(["get", "events", "--field-selector", "involvedObject.name=broken"]);
    expect(events.stdout).toMatch(
      /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n\S+\s+Normal\s+ScalingReplicaSet\s+deployment\/broken\s+Scaled up replica set broken-\S+ from 0 to 1\n$/,
    );
    const crashLogs = await k.run(["logs", "deployment/crash"]);
    expect(crashLogs.stdout).toContain("fatal: container crash exited with code 1");
    // Following the logs shows the next restart's lines as they happen.
    const follow = k.stream(["logs", "-f", "deployment/crash"]);
    await follow.waitFor(/fatal: container crash exited with code 1\n/);
    const seen = follow.output().split("fatal:").length - 1;
    await follow.waitFor(new RegExp(`(fatal: container crash exited with code 1\n[^]*){${seen + 1}}`));
    await follow.stop();
    const deploy = await k.run([
      "get",
      "deployment",
      "broken",
      "-o",
      'jsonpath={.status.conditions[?(@.type=="Available")].reason}',
    ]);
    expect(deploy.stdout).toBe("MinimumReplicasUnavailable");
  });
});
