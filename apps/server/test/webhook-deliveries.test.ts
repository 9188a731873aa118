import { createHmac, randomUUID } from "node:crypto";
import { pruneWebhookDeliveries } from "@juanie/domain";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  branchHead,
  type GitopsWorld,
  PROD,
  pushByHand,
  pushPayload,
  signedPush,
  startGitopsWorld,
} from "./gitops-world.ts";
import { waitFor } from "./support.ts";

/**
 * The webhook endpoint takes what GitHub and GitLab really send — JSON, or GitHub's form with a `payload`
 * field — and nothing else; a ref must be a Git branch name; a delivery is handled once; and the table that
 * remembers deliveries does not grow forever.
 */

let w: GitopsWorld;
let secret: string;

beforeAll(async () => {
  w = await startGitopsWorld();
  secret = (await w.s.alice.api.repositories.revealWebhookSecret.mutate({ repositoryId: w.repoId })).secret;
});

afterAll(async () => {
  await w?.close();
});

const sign = (body: string | Uint8Array) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

async function deliver(kind: string, body: string | Uint8Array, headers: Record<string, string>) {
  const res = await fetch(`${w.server.url}/api/webhooks/${kind}/${w.repoId}`, { method: "POST", headers, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const deliveries = (id: string) => w.back.count(sql`select 1 from webhook_deliveries where delivery_id = ${id}`);

describe("content types", () => {
  it("GitHub's form encoding (a `payload` field) is taken, signed over the raw form body", async () => {
    const head = (await branchHead(w, "main"))!;
    const form = `payload=${encodeURIComponent(JSON.stringify(pushPayload("main", head, head)))}`;
    const res = await deliver("github", form, {
      "content-type": "application/x-www-form-urlencoded",
      "x-github-event": "push",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": sign(form),
    });
    expect(res).toEqual({ status: 202, body: { result: "accepted", environments: 1 } });
  });

  it("JSON with a charset parameter is JSON", async () => {
    const head = (await branchHead(w, "main"))!;
    const res = await signedPush(w, pushPayload("main", head, head), {
      secret,
      contentType: "application/json; charset=utf-8",
    });
    expect(res.status).toBe(202);
  });

  it.each([
    ["text/plain", "github"],
    ["application/xml", "generic"],
    ["multipart/form-data; boundary=x", "github"],
    ["application/x-www-form-urlencoded", "gitlab"],
  ])("answers 415 with a code to %s on the %s endpoint, before any processing", async (contentType, kind) => {
    const head = (await branchHead(w, "main"))!;
    const body = JSON.stringify(pushPayload("main", head, head));
    const delivery = randomUUID();
    const res = await deliver(kind, body, {
      "content-type": contentType,
      "x-github-event": "push",
      "x-gitlab-event": "Push Hook",
      "x-gitlab-token": secret,
      "x-github-delivery": delivery,
      "x-hub-signature-256": sign(body),
    });
    expect(res.status).toBe(415);
    expect(res.body.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    expect(await deliveries(delivery)).toBe(0);
  });

  it("answers 415 to a body without a content type", async () => {
    const body = new TextEncoder().encode("{}");
    const res = await deliver("github", body, { "x-github-event": "push", "x-hub-signature-256": sign(body) });
    expect(res.status).toBe(415);
    expect(res.body.code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });

  it("GitLab's JSON with its token is taken", async () => {
    const head = (await branchHead(w, "main"))!;
    const body = JSON.stringify({
      object_kind: "push",
      ...pushPayload("main", head, head),
      project: { path_with_namespace: "acme/shop" },
    });
    const res = await deliver("gitlab", body, {
      "content-type": "application/json",
      "x-gitlab-event": "Push Hook",
      "x-gitlab-token": secret,
      "x-gitlab-event-uuid": randomUUID(),
    });
    expect(res).toEqual({ status: 202, body: { result: "accepted", environments: 1 } });
  });
});

describe("refs", () => {
  it.each(["main..evil", "-main", "ma\\in", "main.lock", "a//b", "main@{1}"])(
    "refuses the ref refs/heads/%s as not a branch name, and records no delivery",
    async (branch) => {
      const head = (await branchHead(w, "main"))!;
      const delivery = randomUUID();
      const res = await signedPush(w, pushPayload(branch, head, head), { secret, delivery });
      expect(res).toEqual({ status: 400, body: { result: "ref is not a valid Git branch name" } });
      expect(await deliveries(delivery)).toBe(0);
    },
  );
});

describe("a delivery sent twice", () => {
  it("is acknowledged the second time without being handled again", async () => {
    const before = (await branchHead(w, "main"))!;
    const sha = await pushByHand(w, "main", PROD, (t) => t.replace(/count: \d+/, "count: 4"), "ops: four replicas");
    const polledAt = async () =>
      (
        await w.back.handle.db.execute<{ t: string | null }>(
          sql`select last_polled_at::text as t from environments where id = ${w.env.production}`,
        )
      ).rows[0]?.t ?? null;
    const recorded = () =>
      w.back.count(sql`select 1 from deployments where commit_sha = ${sha} and method = 'gitops-git'`);
    const delivery = randomUUID();
    const first = await signedPush(w, pushPayload("main", before, sha), { secret, delivery });
    expect(first).toEqual({ status: 202, body: { result: "accepted", environments: 1 } });
    expect(await waitFor(recorded, (n) => n === 1)).toBe(1);
    await waitFor(
      () => w.back.count(sql`select 1 from graphile_worker.jobs where task_identifier = 'environment.sync'`),
      (n) => n === 0,
    );
    const polled = await polledAt();
    expect(polled).not.toBeNull();

    const again = await signedPush(w, pushPayload("main", before, sha), { secret, delivery });
    expect(again).toEqual({ status: 200, body: { result: "duplicate delivery" } });
    await new Promise((r) => setTimeout(r, 700));
    // Not handled again: no sync ran (it would have stamped the environment), no second deployment.
    expect(await polledAt()).toBe(polled);
    expect(await recorded()).toBe(1);
    expect(await deliveries(delivery)).toBe(1);
  });
});

describe("the deliveries table", () => {
  it("forgets deliveries older than a week, and keeps the recent ones", async () => {
    const old = `old-${randomUUID()}`;
    const recent = `recent-${randomUUID()}`;
    await w.back.handle.db.execute(sql`insert into webhook_deliveries (provider, delivery_id, repository_id, result, received_at)
      values ('github', ${old}, ${w.repoId}, 'accepted', now() - interval '8 days'),
             ('github', ${recent}, ${w.repoId}, 'accepted', now() - interval '6 days')`);
    expect(await pruneWebhookDeliveries(w.back.deps)).toBeGreaterThanOrEqual(1);
    expect(await deliveries(old)).toBe(0);
    expect(await deliveries(recent)).toBe(1);
  });
});
