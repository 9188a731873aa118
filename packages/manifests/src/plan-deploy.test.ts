import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { ManifestError } from "./errors.ts";
import {
  currentDeployValues,
  type DeploySpec,
  filesFromRecord,
  filesWithChanges,
  type Probe,
  planDeploy,
  type RepoFiles,
} from "./index.ts";
import { overlayRepo } from "./test-fixtures.ts";

/** A Deployment written by hand: comments, flow maps, sequences not indented, a Service after it. */
const handWritten = `# Web front end — owned by team A
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    team: a   # keep me
spec:
  replicas: 2 # scaled by hand
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ghcr.io/org/web:1.0   # pinned
        args: ["--port", "8080"]
        env:
        - name: LOG_LEVEL
          value: info
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef: {name: db, key: password}
        - name: OLD
          value: "x"
        ports:
        - containerPort: 8080
      - name: sidecar
        image: busybox:1.36
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports: [{port: 80, targetPort: 8080}]
`;

const plainRepo = () => filesFromRecord({ "apps/web/deployment.yaml": handWritten, "README.md": "# app\n" });

function expectManifestError(fn: () => unknown, match: RegExp, field?: string): ManifestError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ManifestError);
  const error = caught as ManifestError;
  expect(error.message).toMatch(match);
  if (field !== undefined) expect(error.field).toBe(field);
  return error;
}

describe("planDeploy on a Deployment inside the path (edited in place)", () => {
  it("changes only the touched fields and keeps comments, layout and the other documents byte for byte", () => {
    const plan = planDeploy(plainRepo(), "apps/web", {
      image: "ghcr.io/org/web:1.1",
      replicas: 4,
      env: [
        { name: "LOG_LEVEL", value: "debug" },
        { name: "NEW", value: "on" },
      ],
    });
    expect(Object.keys(plan.changes)).toEqual(["apps/web/deployment.yaml"]);
    expect(plan.changes["apps/web/deployment.yaml"]).toBe(`# Web front end — owned by team A
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    team: a   # keep me
spec:
  replicas: 4 # scaled by hand
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ghcr.io/org/web:1.1   # pinned
        args: ["--port", "8080"]
        env:
        - name: LOG_LEVEL
          value: debug
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef: {name: db, key: password}
        - name: NEW
          value: "on"
        ports:
        - containerPort: 8080
      - name: sidecar
        image: busybox:1.36
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports: [{port: 80, targetPort: 8080}]
`);
    expect(plan.fields).toEqual([
      { field: "image", before: "ghcr.io/org/web:1.0", after: "ghcr.io/org/web:1.1" },
      { field: "replicas", before: 2, after: 4 },
      { field: "env.LOG_LEVEL", before: "info", after: "debug" },
      { field: "env.NEW", before: null, after: "on" },
      { field: "env.OLD", before: "x", after: null },
    ]);
    expect(plan.summary).toBe(
      "update image to ghcr.io/org/web:1.1, scale to 4 replicas, add env NEW, change env LOG_LEVEL, remove env OLD (container web)",
    );
  });

  it("edits the container named in the spec", () => {
    const plan = planDeploy(plainRepo(), "apps/web", { container: "sidecar", image: "busybox:1.37" });
    const text = plan.changes["apps/web/deployment.yaml"] ?? "";
    expect(text).toContain("        image: busybox:1.37\n");
    expect(text).toContain("        image: ghcr.io/org/web:1.0   # pinned\n");
    expect(plan.summary).toBe("update image to busybox:1.37 (container sidecar)");
  });

  it("sets resources, pull policy and probes, appending new keys after the existing ones", () => {
    const plan = planDeploy(plainRepo(), "apps/web", {
      imagePullPolicy: "Always",
      resources: { requests: { cpu: "250m", memory: "128Mi" }, limits: { memory: "256Mi" } },
      livenessProbe: { type: "http", path: "/healthz", port: 8080, periodSeconds: 10 },
    });
    expect(plan.changes["apps/web/deployment.yaml"]).toContain(`        ports:
        - containerPort: 8080
        imagePullPolicy: Always
        resources:
          requests:
            cpu: 250m
            memory: 128Mi
          limits:
            memory: 256Mi
        livenessProbe:
          httpGet:
            path: /healthz
            port: 8080
          periodSeconds: 10
      - name: sidecar
`);
    expect(plan.summary).toBe(
      "set image pull policy to Always, set resources requests.cpu 250m, requests.memory 128Mi, limits.memory 256Mi, add liveness probe (container web)",
    );
  });

  it("keeps Windows line endings", () => {
    const files = filesFromRecord({ "d/deployment.yaml": handWritten.replace(/\n/g, "\r\n") });
    const text = planDeploy(files, "d", { replicas: 3 }).changes["d/deployment.yaml"] ?? "";
    expect(text).toBe(handWritten.replace("replicas: 2 #", "replicas: 3 #").replace(/\n/g, "\r\n"));
  });

  it("changes nothing when the spec asks for what is already there", () => {
    const plan = planDeploy(plainRepo(), "apps/web", { image: "ghcr.io/org/web:1.0", replicas: 2 });
    expect(plan).toMatchObject({ changes: {}, fields: [], summary: "no changes" });
  });

  it("finds Deployments in nested directories and multi-document files", () => {
    const files = filesFromRecord({
      "env/a/all.yml": `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n${handWritten}`,
    });
    expect(currentDeployValues(files, "env").workloads).toEqual([
      { kind: "Deployment", name: "web", containers: ["web", "sidecar"] },
    ]);
    const plan = planDeploy(files, "env", { replicas: 1 });
    expect(plan.changes["env/a/all.yml"]).toContain("  replicas: 1 # scaled by hand\n");
    expect(
      plan.changes["env/a/all.yml"]?.startsWith("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n"),
    ).toBe(true);
  });
});

describe("planDeploy on a kustomize overlay (the change stays in the overlay)", () => {
  const repo = () => filesFromRecord(overlayRepo());

  it("puts the image into the overlay's images: and the count into replicas:, never into base", () => {
    const plan = planDeploy(repo(), "k8s/overlays/development", { image: "ghcr.io/org/web:2.0", replicas: 5 });
    expect(plan.changes).toEqual({
      "k8s/overlays/development/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: web-dev
resources:
  - ../../base
images:
  - name: ghcr.io/org/web
    newTag: "2.0"
replicas:
  - name: web
    count: 5
`,
    });
    expect(plan.summary).toBe("update image to ghcr.io/org/web:2.0, scale to 5 replicas");
  });

  it("updates existing images: and replicas: entries in place", () => {
    const plan = planDeploy(repo(), "k8s/overlays/staging", {
      image: `registry.example.com:5000/team/web:3.1@sha256:${"a".repeat(64)}`,
      replicas: 0,
    });
    expect(plan.changes).toEqual({
      "k8s/overlays/staging/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: web-staging
resources:
  - ../../base
images:
  - name: ghcr.io/org/web # the CI bumps this
    newTag: "3.1"
    newName: registry.example.com:5000/team/web
    digest: sha256:${"a".repeat(64)}
replicas:
  - name: web
    count: 0
`,
    });
    expect(plan.fields[0]).toEqual({
      field: "image",
      before: "ghcr.io/org/web:1.1",
      after: `registry.example.com:5000/team/web:3.1@sha256:${"a".repeat(64)}`,
    });
    expect(plan.summary).toMatch(/, scale to 0 replicas$/);
  });

  it("refuses a bare image name: a deployment names a tag or a digest", () => {
    expect(() => planDeploy(repo(), "k8s/overlays/staging", { image: "ghcr.io/org/web" })).toThrow(
      "image: must name a tag or a digest, like app:1.2.3 or app@sha256:…",
    );
  });

  it("creates deployment-patch.yaml for env, resources and probes, and lists it under patches:", () => {
    const plan = planDeploy(repo(), "k8s/overlays/development", {
      env: [{ name: "FEATURE_X", value: "on" }],
      resources: { limits: { memory: "512Mi" } },
      livenessProbe: { type: "tcp", port: 8080 },
      imagePullPolicy: "IfNotPresent",
    });
    expect(plan.changes).toEqual({
      "k8s/overlays/development/deployment-patch.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          imagePullPolicy: IfNotPresent
          env:
            - name: FEATURE_X
              value: "on"
            - name: LOG_LEVEL
              $patch: delete
          resources:
            limits:
              memory: 512Mi
          livenessProbe:
            tcpSocket:
              port: 8080
`,
      "k8s/overlays/development/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: web-dev
resources:
  - ../../base
patches:
  - path: deployment-patch.yaml
`,
    });
    // The rendered result is what was asked for, and the secret-backed entry survived.
    const after = currentDeployValues(filesWithChanges(repo(), plan.changes), "k8s/overlays/development");
    expect(after).toMatchObject({
      env: [{ name: "FEATURE_X", value: "on" }],
      valueFromEnv: ["DB_PASSWORD"],
      imagePullPolicy: "IfNotPresent",
      resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { memory: "512Mi" } },
      livenessProbe: { type: "tcp", port: 8080 },
    });
  });

  it("reuses the overlay's patch on the next deploy instead of creating another", () => {
    const first = planDeploy(repo(), "k8s/overlays/development", { resources: { limits: { cpu: "2" } } });
    const files = filesWithChanges(repo(), first.changes);
    const second = planDeploy(files, "k8s/overlays/development", { resources: { limits: { cpu: "500m" } } });
    expect(Object.keys(second.changes)).toEqual(["k8s/overlays/development/deployment-patch.yaml"]);
    expect(second.changes["k8s/overlays/development/deployment-patch.yaml"]).toContain('              cpu: "500m"\n');
  });

  it("edits the seeds' overlay deployment.yaml patch where it already decides a field", () => {
    const plan = planDeploy(repo(), "k8s/overlays/production", {
      image: "ghcr.io/org/web:2.0",
      replicas: 5,
      env: [{ name: "LOG_LEVEL", value: "error" }],
      resources: { limits: { memory: "1Gi" } },
    });
    expect(plan.changes).toEqual({
      "k8s/overlays/production/deployment.yaml": `# Production sizing
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 5
  template:
    spec:
      containers:
      - name: web
        env:
        - name: LOG_LEVEL
          value: error
        resources:
          limits:
            cpu: "1"
            memory: 1Gi
`,
      "k8s/overlays/production/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: web-prod
resources:
- ../../base
patchesStrategicMerge:
- deployment.yaml
images:
- name: ghcr.io/org/web
  newTag: "2.0"
`,
    });
  });

  it("edits the image where an overlay patch sets it (kustomize applies patches before images:)", () => {
    const files = overlayRepo();
    files["k8s/overlays/production/deployment.yaml"] = (files["k8s/overlays/production/deployment.yaml"] ?? "").replace(
      "      - name: web\n",
      "      - name: web\n        image: ghcr.io/org/web-hotfix:1.0.1\n",
    );
    const plan = planDeploy(filesFromRecord(files), "k8s/overlays/production", { image: "ghcr.io/org/web:2.0" });
    expect(Object.keys(plan.changes)).toEqual(["k8s/overlays/production/deployment.yaml"]);
    expect(plan.changes["k8s/overlays/production/deployment.yaml"]).toContain("        image: ghcr.io/org/web:2.0\n");
  });

  it("never changes a file outside the environment's path", () => {
    const specs: DeploySpec[] = [
      { image: "ghcr.io/org/web:9" },
      { replicas: 9 },
      { env: [] },
      { readinessProbe: null },
      { resources: { requests: { cpu: "1" } } },
    ];
    for (const env of ["development", "staging", "production"]) {
      for (const spec of specs) {
        const plan = planDeploy(repo(), `k8s/overlays/${env}`, spec);
        expect(Object.keys(plan.changes).length).toBeGreaterThan(0);
        for (const path of Object.keys(plan.changes)) expect(path.startsWith(`k8s/overlays/${env}/`)).toBe(true);
      }
    }
  });

  it("refuses limits below the requests in effect, even when only one side comes from the form", () => {
    expectManifestError(
      () => planDeploy(repo(), "k8s/overlays/production", { resources: { requests: { memory: "512Mi" } } }),
      /^resources\.requests\.memory: must not be more than the memory limit in effect \(256Mi\)$/,
      "resources.requests.memory",
    );
  });
});

describe("env: the form's list replaces the literal entries; valueFrom entries are kept", () => {
  it.each([
    {
      name: "in place",
      files: () => plainRepo(),
      path: "apps/web",
    },
    {
      name: "through an overlay patch",
      files: () => filesFromRecord(overlayRepo()),
      path: "k8s/overlays/staging",
    },
  ])("$name", ({ files, path }) => {
    const repo = files();
    const plan = planDeploy(repo, path, { env: [{ name: "ONLY", value: "1" }] });
    const after = currentDeployValues(filesWithChanges(repo, plan.changes), path, { container: "web" });
    expect(after.env).toEqual([{ name: "ONLY", value: "1" }]);
    expect(after.valueFromEnv).toEqual(["DB_PASSWORD"]);
  });

  it("refuses to turn a valueFrom entry into a literal", () => {
    expectManifestError(
      () =>
        planDeploy(plainRepo(), "apps/web", {
          env: [
            { name: "A", value: "1" },
            { name: "DB_PASSWORD", value: "x" },
          ],
        }),
      /^env\.1\.name: "DB_PASSWORD" is set from a secret/,
      "env.1.name",
    );
  });
});

describe("probes", () => {
  const withProbe = (probe: string) =>
    filesFromRecord({
      "p/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: api:1
${probe}`,
    });
  const existing = `          livenessProbe:
            httpGet:
              path: /live
              port: 8080
              scheme: HTTPS # behind TLS
            periodSeconds: 5
            successThreshold: 1
`;
  const cases: { name: string; before: string; probe: Probe | null; after: string; summary: string }[] = [
    {
      name: "adds a probe",
      before: "",
      probe: { type: "http", path: "/healthz", port: "http", initialDelaySeconds: 3 },
      after: `          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            initialDelaySeconds: 3
`,
      summary: "add liveness probe",
    },
    {
      name: "replaces path and timing of a probe of the same kind, keeping the fields the form does not manage",
      before: existing,
      probe: { type: "http", path: "/healthz", port: 8080, timeoutSeconds: 2 },
      after: `          livenessProbe:
            httpGet:
              path: /healthz
              port: 8080
              scheme: HTTPS # behind TLS
            successThreshold: 1
            timeoutSeconds: 2
`,
      summary: "update liveness probe",
    },
    {
      name: "replaces a probe by one of another kind",
      before: existing,
      probe: { type: "exec", command: ["cat", "/tmp/healthy"], failureThreshold: 5 },
      after: `          livenessProbe:
            successThreshold: 1
            exec:
              command:
                - cat
                - /tmp/healthy
            failureThreshold: 5
`,
      summary: "update liveness probe",
    },
    { name: "removes a probe", before: existing, probe: null, after: "", summary: "remove liveness probe" },
  ];
  it.each(cases)("$name", ({ before, probe, after, summary }) => {
    const plan = planDeploy(withProbe(before), "p", { livenessProbe: probe });
    expect(plan.changes["p/deployment.yaml"]?.split("          image: api:1\n")[1]).toBe(after);
    expect(plan.summary).toBe(summary);
  });

  it("removes a base probe from an overlay with null, and adds one there", () => {
    const repo = filesFromRecord(overlayRepo());
    const plan = planDeploy(repo, "k8s/overlays/development", {
      readinessProbe: null,
      livenessProbe: { type: "http", path: "/live", port: 8080 },
    });
    expect(plan.changes["k8s/overlays/development/deployment-patch.yaml"]).toContain(`          livenessProbe:
            httpGet:
              path: /live
              port: 8080
          readinessProbe: null
`);
    const after = currentDeployValues(filesWithChanges(repo, plan.changes), "k8s/overlays/development");
    expect(after.readinessProbe).toBeUndefined();
    expect(after.livenessProbe).toEqual({ type: "http", path: "/live", port: 8080 });
  });

  it("replaces a base probe of another kind from an overlay by clearing the old handler", () => {
    const repo = filesFromRecord(overlayRepo());
    const plan = planDeploy(repo, "k8s/overlays/development", { readinessProbe: { type: "tcp", port: "http" } });
    expect(plan.changes["k8s/overlays/development/deployment-patch.yaml"]).toContain(`          readinessProbe:
            httpGet: null
            tcpSocket:
              port: http
            periodSeconds: null
`);
    const after = currentDeployValues(filesWithChanges(repo, plan.changes), "k8s/overlays/development");
    expect(after.readinessProbe).toEqual({ type: "tcp", port: "http" });
  });
});

describe("choosing the workload and container", () => {
  const two = () =>
    filesFromRecord({
      "apps/api.yaml": handWritten.replace("name: web\n  annotations", "name: api\n  annotations"),
      "apps/web.yaml": handWritten,
    });

  it("asks which workload when there are several, naming them", () => {
    expectManifestError(
      () => planDeploy(two(), "apps", { replicas: 1 }),
      /^workload: apps has 2 workloads \(Deployment api, Deployment web\); choose one$/,
      "workload",
    );
  });

  it("edits the one named in the spec", () => {
    const plan = planDeploy(two(), "apps", { workload: "api", replicas: 1 });
    expect(Object.keys(plan.changes)).toEqual(["apps/api.yaml"]);
    expect(plan.summary).toBe("scale to 1 replica (Deployment api, container web)");
    expect([plan.kind, plan.workload, plan.container]).toEqual(["Deployment", "api", "web"]);
  });

  it("edits a StatefulSet or a DaemonSet, and refuses replicas for a DaemonSet", () => {
    const files = filesFromRecord({
      "apps/db.yaml": handWritten
        .replace("kind: Deployment", "kind: StatefulSet")
        .replace("name: web\n  annotations", "name: db\n  annotations"),
      "apps/agent.yaml": handWritten
        .replace("kind: Deployment", "kind: DaemonSet")
        .replace("name: web\n  annotations", "name: agent\n  annotations"),
    });
    const values = currentDeployValues(files, "apps", { kind: "DaemonSet" });
    expect(values.workload).toBe("agent");
    expect(values.replicas).toBeUndefined();
    expect(values.workloads.map((w) => `${w.kind}/${w.name}`)).toEqual(["DaemonSet/agent", "StatefulSet/db"]);
    const plan = planDeploy(files, "apps", { kind: "StatefulSet", container: "sidecar", image: "busybox:1.37" });
    expect(Object.keys(plan.changes)).toEqual(["apps/db.yaml"]);
    expect(plan.summary).toBe("update image to busybox:1.37 (StatefulSet db, container sidecar)");
    expect(plan.changes["apps/db.yaml"]).toContain("image: busybox:1.37\n");
    expect(plan.changes["apps/db.yaml"]).toContain("image: ghcr.io/org/web:1.0   # pinned\n");
    expectManifestError(
      () => planDeploy(files, "apps", { workload: "agent", replicas: 2 }),
      /^replicas: DaemonSet agent runs one pod per node; it has no replica count$/,
      "replicas",
    );
  });

  it.each([
    [
      { workload: "nope", replicas: 1 },
      /^workload: no nope under apps \(found: Deployment api, Deployment web\)$/,
      "workload",
    ],
    [
      { workload: "web", container: "db", replicas: 1 },
      /^container: Deployment web has no container "db" \(containers: web, sidecar\)$/,
      "container",
    ],
  ] as const)("names the choices when the spec names something that is not there (%j)", (spec, message, field) => {
    expectManifestError(() => planDeploy(two(), "apps", spec), message, field);
  });

  it("says so when the path has no Deployment", () => {
    const files = filesFromRecord({ "k8s/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n" });
    expectManifestError(
      () => planDeploy(files, "k8s", { replicas: 1 }),
      /^path: no Deployment, StatefulSet or DaemonSet \(apps\/v1\) found under k8s$/,
      "path",
    );
  });
});

describe("paths and broken repositories", () => {
  it.each(["../x", "/etc", "k8s/../../x", "a\\b", "k8s\u0000"])("refuses the environment path %j", (path) => {
    expectManifestError(() => planDeploy(plainRepo(), path, { replicas: 1 }), /^path: must be a relative path/, "path");
  });

  it("refuses a kustomization resource that climbs out of the repository", () => {
    const files = filesFromRecord({ "k8s/prod/kustomization.yaml": "resources:\n  - ../../../outside\n" });
    expectManifestError(
      () => planDeploy(files, "k8s/prod", { replicas: 1 }),
      /^k8s\/prod\/kustomization\.yaml: resource "\.\.\/\.\.\/\.\.\/outside" points outside the repository$/,
    );
  });

  it("refuses a patch that climbs out of the repository", () => {
    const repo = overlayRepo();
    repo["k8s/overlays/development/kustomization.yaml"] += "patches:\n  - path: ../../../../etc/passwd\n";
    expectManifestError(
      () => planDeploy(filesFromRecord(repo), "k8s/overlays/development", { replicas: 1 }),
      /points outside the repository/,
    );
  });

  it("detects kustomization cycles", () => {
    const files = filesFromRecord({
      "a/kustomization.yaml": "resources: [../b]\n",
      "b/kustomization.yaml": "resources: [../a]\n",
    });
    expectManifestError(() => planDeploy(files, "a", { replicas: 1 }), /makes a cycle \(a → b → a\)/);
  });

  it("reports a missing resource", () => {
    const files = filesFromRecord({ "a/kustomization.yaml": "resources: [deployment.yaml]\n" });
    expectManifestError(() => planDeploy(files, "a", { replicas: 1 }), /resource "deployment\.yaml" does not exist/);
  });

  it("names the file and line of a YAML syntax error", () => {
    const files = filesFromRecord({
      "k8s/base/deployment.yaml": baseWithError(),
      "k8s/base/kustomization.yaml": "resources: [deployment.yaml]\n",
      "k8s/prod/kustomization.yaml": "resources: [../base]\n",
    });
    const error = expectManifestError(
      () => planDeploy(files, "k8s/prod", { replicas: 1 }),
      /^k8s\/base\/deployment\.yaml: YAML syntax error at line 6, column 1: Flow map in block collection must be/,
    );
    expect(error.file).toBe("k8s/base/deployment.yaml");
    expect(error.line).toBe(6);
  });

  it("rejects an invalid spec before reading anything, naming every field", () => {
    const files: RepoFiles = {
      read: () => {
        throw new Error("must not read");
      },
      list: () => [],
    };
    const error = expectManifestError(
      () => planDeploy(files, "x", { image: "NOT AN IMAGE", replicas: -1 }),
      /^image: must be a valid image reference.*; replicas: must be an integer from 0 to 1000$/,
      "image",
    );
    expect(Object.keys(error.fieldErrors ?? {})).toEqual(["image", "replicas"]);
  });
});

function baseWithError(): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web
spec:
  replicas: 1
`;
}

it("every file a plan writes parses as YAML", () => {
  const repo = filesFromRecord(overlayRepo());
  const plan = planDeploy(repo, "k8s/overlays/development", {
    env: [{ name: "A", value: "yes" }],
    readinessProbe: { type: "exec", command: ["true"] },
  });
  for (const text of Object.values(plan.changes)) {
    const docs = parseAllDocuments(text);
    for (const doc of Array.isArray(docs) ? docs : []) expect(doc.errors).toEqual([]);
  }
});
