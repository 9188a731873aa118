// `npm run kube-sim`: a simulated Kubernetes cluster on its own (test tooling and demo aid).
// Prints its API URL, the admin bearer token and the path of a kubeconfig for it; Ctrl-C stops it.
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startKubeSim } from "./cluster.ts";
import { DEFAULT_FLUX_VERSION, FLUX_RELEASES } from "./flux/versions.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "6443" },
    host: { type: "string", default: "127.0.0.1" },
    kubeconfig: { type: "string" },
    flux: { type: "boolean", default: false },
    "flux-version": { type: "string", default: DEFAULT_FLUX_VERSION },
    "flux-absent": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  process.stdout.write(
    "Usage: npm run kube-sim -- [--port 6443] [--host 127.0.0.1] [--kubeconfig FILE] [--flux [--flux-version 2.7.3] | --flux-absent]\n" +
      "Starts the Kubernetes API simulator (not a real cluster) and writes a kubeconfig for kubectl.\n" +
      "--flux also starts the Flux simulator with Flux preinstalled in flux-system (test tooling, not real Flux).\n" +
      "--flux-absent starts the Flux simulator without installing Flux: apply an install manifest to see it start.\n",
  );
  process.exit(0);
}
const fluxVersion = (values["flux-version"] ?? DEFAULT_FLUX_VERSION).replace(/^v/, "");
if (values.flux && values["flux-absent"]) {
  process.stderr.write("kube-sim: --flux (Flux preinstalled) and --flux-absent (not installed) exclude each other\n");
  process.exit(2);
}
if (values.flux && !FLUX_RELEASES[fluxVersion]) {
  process.stderr.write(
    `kube-sim: --flux-version must be a Flux release the simulator knows (${Object.keys(FLUX_RELEASES).join(", ")}), got "${values["flux-version"]}"\n`,
  );
  process.exit(2);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`kube-sim: --port must be a port number (0-65535), got "${values.port}"\n`);
  process.exit(2);
}
const sim = await startKubeSim({
  host: values.host,
  port,
  ...(values.flux ? { flux: { preinstalled: true, version: fluxVersion } } : {}),
  ...(values["flux-absent"] ? { flux: { preinstalled: false } } : {}),
});
const file = values.kubeconfig ?? path.join(os.tmpdir(), `juanie-kube-sim-${new URL(sim.url).port}.kubeconfig`);
await sim.writeKubeconfig(path.resolve(file));
process.stdout.write(
  [
    "Simulated Kubernetes cluster (juanie-simulator, test tooling — not a real cluster)",
    `  API URL:     ${sim.url}`,
    `  token:       ${sim.token}`,
    `  kubeconfig:  ${path.resolve(file)}`,
    ...(values["flux-absent"]
      ? ["  flux:        not installed; the Flux simulator starts its controllers once an install manifest is applied"]
      : []),
    ...(values.flux
      ? [
          `  flux:        v${fluxVersion} preinstalled in flux-system (simulated controllers: GitRepository over http(s) Git, Kustomization via kustomize ${sim.flux?.kustomizeBinary})`,
        ]
      : []),
    "",
    values.flux
      ? `Try: kubectl --kubeconfig ${path.resolve(file)} get deployments -n flux-system`
      : `Try: kubectl --kubeconfig ${path.resolve(file)} get nodes`,
    "",
  ].join("\n"),
);
const stop = async () => {
  await sim.close();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
