import { QueryClient, VueQueryPlugin } from "@tanstack/vue-query";
import { TRPCClientError } from "@trpc/client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createApp, effectScope, nextTick, ref } from "vue";
import type { DeploymentChange } from "./useDeploymentChanges.ts";
import { type DeploymentFilter, useDeployment, useDeploymentPages } from "./useDeployments.ts";

interface Stream {
  input: unknown;
  opts: {
    onStarted(): void;
    onConnectionStateChange(state: { state: string }): void;
    onData(change: DeploymentChange): void;
    onError(error: unknown): void;
    onComplete(): void;
  };
  unsubscribe: ReturnType<typeof vi.fn>;
}

// TanStack Query never polls where there is no `window` (it takes that for a server): a bare one,
// set before the library loads, lets the intervals run here.
vi.hoisted(() => {
  Object.assign(globalThis, { window: globalThis.window ?? {} });
});

const api = vi.hoisted(() => ({
  streams: [] as Stream[],
  envStreams: [] as { input: unknown; opts: { onStarted(): void; onData(e: { environmentId: string }): void } }[],
  get: vi.fn(),
  list: vi.fn(),
}));

vi.mock("../api/trpc.ts", () => ({
  trpc: {
    deployments: {
      get: { query: api.get },
      list: { query: api.list },
      onChange: {
        subscribe: (input: unknown, opts: Stream["opts"]) => {
          const stream = { input, opts, unsubscribe: vi.fn() };
          api.streams.push(stream);
          return stream;
        },
      },
    },
    environments: {
      onChange: {
        subscribe: (input: unknown, opts: (typeof api.envStreams)[number]["opts"]) => {
          api.envStreams.push({ input, opts });
          return { unsubscribe: vi.fn() };
        },
      },
    },
  },
}));

const a = "00000000-0000-4000-8000-00000000000a";
const b = "00000000-0000-4000-8000-00000000000b";
const project = "00000000-0000-4000-8000-0000000000aa";
const env = "00000000-0000-4000-8000-0000000000e1";

function connect(stream: Stream) {
  stream.opts.onConnectionStateChange({ state: "pending" });
  stream.opts.onStarted();
}

function inScope<T>(fn: () => T) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: 15_000 } } });
  const app = createApp({}).use(VueQueryPlugin, { queryClient });
  const scope = effectScope();
  const result = app.runWithContext(() => scope.run(fn)) as T;
  return { result, scope, queryClient };
}

beforeEach(() => {
  vi.useFakeTimers();
  api.streams.length = 0;
  api.envStreams.length = 0;
  api.get.mockReset();
  api.list.mockReset();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("useDeployment", () => {
  it("refetches when the streamed status differs from the one shown, not when it matches", async () => {
    let status = "queued";
    api.get.mockImplementation(async ({ deploymentId }: { deploymentId: string }) => ({ id: deploymentId, status }));
    const { result, scope } = inScope(() => useDeployment(a));
    await vi.advanceTimersByTimeAsync(0);
    expect(result.data.value?.status).toBe("queued");
    expect(api.streams).toHaveLength(1);
    const [stream] = api.streams as [Stream];
    expect(stream.input).toEqual({ deploymentId: a });
    connect(stream);

    stream.opts.onData({ deploymentId: a, environmentId: env, status: "queued" });
    await vi.advanceTimersByTimeAsync(0);
    expect(api.get).toHaveBeenCalledTimes(1);

    status = "committed";
    stream.opts.onData({ deploymentId: a, environmentId: env, status: "committed" });
    await vi.advanceTimersByTimeAsync(0);
    expect(api.get).toHaveBeenCalledTimes(2);
    expect(result.data.value?.status).toBe("committed");

    scope.stop();
    expect(stream.unsubscribe).toHaveBeenCalled();
  });

  it("compares a status streamed before the first fetch landed once it lands", async () => {
    let answer: (value: unknown) => void = () => {};
    api.get.mockImplementationOnce(() => new Promise((resolve) => (answer = resolve)));
    api.get.mockImplementation(async () => ({ id: a, status: "committed" }));
    const { result } = inScope(() => useDeployment(a));
    const [stream] = api.streams as [Stream];
    connect(stream);
    stream.opts.onData({ deploymentId: a, environmentId: env, status: "committed" });
    answer({ id: a, status: "queued" });
    await vi.advanceTimersByTimeAsync(0);
    expect(api.get).toHaveBeenCalledTimes(2);
    expect(result.data.value?.status).toBe("committed");
  });

  it("polls slowly while streaming, every 2 s without a stream, and not at all once final", async () => {
    api.get.mockImplementation(async () => ({ id: a, status: "queued" }));
    inScope(() => useDeployment(a));
    await vi.advanceTimersByTimeAsync(0);
    const [stream] = api.streams as [Stream];
    connect(stream);
    await vi.advanceTimersByTimeAsync(14_000);
    expect(api.get).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(api.get).toHaveBeenCalledTimes(2);

    // No access to the stream: quietly back to polling, without subscribing again.
    stream.opts.onError(
      TRPCClientError.from({ error: { code: -32003, message: "Forbidden", data: { code: "FORBIDDEN" } } }),
    );
    await vi.advanceTimersByTimeAsync(4_100);
    expect(api.get).toHaveBeenCalledTimes(4);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(api.streams).toHaveLength(1);

    api.get.mockImplementation(async () => ({ id: a, status: "committed" }));
    await vi.advanceTimersByTimeAsync(2_000);
    const calls = api.get.mock.calls.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(api.get).toHaveBeenCalledTimes(calls);
  });

  it("keeps following a deployment on a cluster after its commit, until it is healthy", async () => {
    const rollout = { cluster: { id: "c1", name: "dev", simulated: true }, namespace: "shop-dev", workloads: [] };
    const detail = { id: a, projectId: project, environment: { id: env }, rollout };
    api.get.mockImplementation(async () => ({ ...detail, status: "applied" }));
    inScope(() => useDeployment(a));
    await vi.advanceTimersByTimeAsync(0);
    // Pods becoming ready arrive as environment changes of the project: the detail is read again.
    const [envStream] = api.envStreams;
    expect(envStream?.input).toEqual({ projectId: project });
    envStream?.opts.onData({ environmentId: env });
    await vi.advanceTimersByTimeAsync(0);
    expect(api.get).toHaveBeenCalledTimes(2);
    envStream?.opts.onData({ environmentId: "another" });
    await vi.advanceTimersByTimeAsync(0);
    expect(api.get).toHaveBeenCalledTimes(2);
    // Without a stream: every 2 s while Flux still applies and checks health.
    await vi.advanceTimersByTimeAsync(4_100);
    expect(api.get).toHaveBeenCalledTimes(4);
    api.get.mockImplementation(async () => ({ ...detail, status: "healthy" }));
    await vi.advanceTimersByTimeAsync(2_000);
    const calls = api.get.mock.calls.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(api.get).toHaveBeenCalledTimes(calls);
  });

  it("subscribes again after a transient failure, and for another deployment", async () => {
    api.get.mockImplementation(async ({ deploymentId }: { deploymentId: string }) => ({
      id: deploymentId,
      status: "queued",
    }));
    const id = ref(a);
    const { scope } = inScope(() => useDeployment(id));
    await vi.advanceTimersByTimeAsync(0);
    api.streams[0]!.opts.onError(new TRPCClientError("network down"));
    await vi.advanceTimersByTimeAsync(1_900);
    expect(api.streams).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(api.streams).toHaveLength(2);
    expect(api.streams[1]!.input).toEqual({ deploymentId: a });

    id.value = b;
    await nextTick();
    expect(api.streams[1]!.unsubscribe).toHaveBeenCalled();
    expect(api.streams).toHaveLength(3);
    expect(api.streams[2]!.input).toEqual({ deploymentId: b });
    // A late event of the stream left behind changes nothing.
    await vi.advanceTimersByTimeAsync(0);
    const calls = api.get.mock.calls.length;
    api.streams[1]!.opts.onData({ deploymentId: a, environmentId: env, status: "failed" });
    await vi.advanceTimersByTimeAsync(0);
    expect(api.get).toHaveBeenCalledTimes(calls);

    scope.stop();
    expect(api.streams[2]!.unsubscribe).toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(api.streams).toHaveLength(3);
  });
});

describe("useDeploymentPages", () => {
  const row = (id: string, status: string) => ({ id, status, environmentId: env });

  it("follows the project's changes with one refetch for events arriving together", async () => {
    api.list.mockImplementation(async () => ({ items: [row(a, "queued")], nextCursor: null }));
    const filter = ref<DeploymentFilter>({ projectId: project });
    const { scope } = inScope(() => useDeploymentPages(filter));
    await vi.advanceTimersByTimeAsync(0);
    const [stream] = api.streams as [Stream];
    expect(stream.input).toEqual({ projectId: project });
    connect(stream);
    // Connected after the first page landed: read again once, in case something changed in between.
    await vi.advanceTimersByTimeAsync(300);
    expect(api.list).toHaveBeenCalledTimes(2);

    stream.opts.onData({ deploymentId: a, environmentId: env, status: "queued" });
    await vi.advanceTimersByTimeAsync(300);
    expect(api.list).toHaveBeenCalledTimes(2);

    stream.opts.onData({ deploymentId: a, environmentId: env, status: "committing" });
    stream.opts.onData({ deploymentId: a, environmentId: env, status: "committed" });
    stream.opts.onData({ deploymentId: b, environmentId: env, status: "queued" });
    await vi.advanceTimersByTimeAsync(300);
    expect(api.list).toHaveBeenCalledTimes(3);

    // Another filter of the same project keeps the stream.
    filter.value = { projectId: project, status: "failed" };
    await nextTick();
    expect(api.streams).toHaveLength(1);

    scope.stop();
    expect(stream.unsubscribe).toHaveBeenCalled();
  });

  it("keeps polling every 5 s without a project", async () => {
    api.list.mockImplementation(async () => ({ items: [row(a, "queued")], nextCursor: null }));
    inScope(() => useDeploymentPages(ref<DeploymentFilter>({})));
    await vi.advanceTimersByTimeAsync(5_100);
    expect(api.streams).toHaveLength(0);
    expect(api.list).toHaveBeenCalledTimes(2);
  });
});
