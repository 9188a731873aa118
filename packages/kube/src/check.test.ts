import net from "node:net";
import { type KubeSim, SIMULATOR_MARKER as SIM_MARKER, startKubeSim } from "@juanie/kube-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkCluster, SIMULATOR_MARKER } from "./check.ts";
import { ClusterError, KubeCluster } from "./client.ts";

let sim: KubeSim;
let other: KubeSim;

beforeAll(async () => {
  [sim, other] = await Promise.all([
    startKubeSim({
      workloads: false,
      users: {
        "no-nodes-token": { user: "limited", forbidden: ["nodes"] },
        "expired-token": { user: "old", expiresAt: new Date(Date.now() - 1000) },
      },
    }),
    startKubeSim({ workloads: false }),
  ]);
});
afterAll(async () => {
  await Promise.all([sim?.close(), other?.close()]);
});

function cluster(kubeconfig: string, requestTimeoutMs?: number) {
  return new KubeCluster({ kind: "kubeconfig", kubeconfig }, requestTimeoutMs ? { requestTimeoutMs } : {});
}

async function failure(p: Promise<unknown>): Promise<ClusterError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ClusterError);
    return e as ClusterError;
  }
  throw new Error("expected the check to fail");
}

describe("KubeCluster", () => {
  it("refuses in-cluster access outside a pod, without touching the filesystem", () => {
    const saved = process.env.KUBERNETES_SERVICE_HOST;
    delete process.env.KUBERNETES_SERVICE_HOST;
    try {
      expect(() => new KubeCluster({ kind: "in-cluster" })).toThrow(/needs the platform to run in a Kubernetes pod/);
    } finally {
      if (saved !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved;
    }
  });

  it("checks the kubeconfig before loading it (an exec plugin is refused)", () => {
    const withExec = sim
      .kubeconfig()
      .replace(/token: .*/, "exec:\n        command: /bin/sh\n        apiVersion: client.authentication.k8s.io/v1");
    expect(() => new KubeCluster({ kind: "kubeconfig", kubeconfig: withExec })).toThrow(
      /exec credential plugin \(\/bin\/sh\)/,
    );
  });
});

describe("checkCluster", () => {
  it("reads version, nodes and namespaces and recognises the simulator", async () => {
    const r = await checkCluster(cluster(sim.kubeconfig()));
    expect(r.gitVersion).toBe("v1.35.0+juanie-simulator");
    expect(r.major).toBe("1");
    expect(r.minor).toBe("35");
    expect(r.simulated).toBe(true);
    expect(r.nodes).toEqual({ total: 1, ready: 1 });
    expect(r.namespaces).toBe(4);
    expect(SIMULATOR_MARKER).toEqual(SIM_MARKER);
  });

  it("says a closed port is unreachable (connection refused)", async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const kubeconfig = sim.kubeconfig().replace(sim.url, `https://127.0.0.1:${port}`);
    const e = await failure(checkCluster(cluster(kubeconfig)));
    expect(e.reason).toBe("unreachable");
    expect(e.message).toBe(`cannot reach https://127.0.0.1:${port}: connection refused`);
  });

  it("says the certificate is not trusted when the kubeconfig's CA is another cluster's", async () => {
    const wrongCa = sim
      .kubeconfig()
      .replace(Buffer.from(sim.certificate).toString("base64"), Buffer.from(other.certificate).toString("base64"));
    expect(wrongCa).not.toBe(sim.kubeconfig());
    const e = await failure(checkCluster(cluster(wrongCa)));
    expect(e.reason).toBe("tls");
    expect(e.message).toMatch(/^the cluster's certificate is not trusted by the kubeconfig's CA \([A-Z_]+\)$/);
  });

  it("says the credentials are rejected for a wrong token, without echoing it", async () => {
    const e = await failure(checkCluster(cluster(sim.kubeconfig({ token: "not-a-valid-token" }))));
    expect(e.reason).toBe("unauthorized");
    expect(e.status).toBe(401);
    expect(e.message).toBe("the cluster rejected the credentials (401 Unauthorized)");
    expect(JSON.stringify({ ...e, m: e.message })).not.toContain("not-a-valid-token");
  });

  it("treats an expired token as rejected credentials", async () => {
    const e = await failure(checkCluster(cluster(sim.kubeconfig({ token: "expired-token" }))));
    expect(e.reason).toBe("unauthorized");
  });

  it("reports forbidden with the cluster's message when the user may not list nodes", async () => {
    const e = await failure(checkCluster(cluster(sim.kubeconfig({ token: "no-nodes-token" }))));
    expect(e.reason).toBe("forbidden");
    expect(e.status).toBe(403);
    expect(e.message).toMatch(/^forbidden: .*nodes/);
  });

  it("gives up after the request timeout when the server never answers", async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const kubeconfig = sim.kubeconfig().replace(sim.url, `https://127.0.0.1:${port}`);
      const e = await failure(checkCluster(cluster(kubeconfig, 300)));
      expect(e.reason).toBe("timeout");
      expect(e.message).toBe(`the cluster at https://127.0.0.1:${port} did not answer within 0.3 s`);
      const raw = await failure(cluster(kubeconfig, 300).request({ method: "GET", path: "/api/v1/namespaces" }));
      expect(raw.reason).toBe("timeout");
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});
