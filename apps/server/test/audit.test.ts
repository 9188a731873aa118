import { type AuditEntry, auditEntry } from "@juanie/contracts";
import { auditLogs, organizationMembers } from "@juanie/db";
import { recordAudit } from "@juanie/domain";
import { desc, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session, startTestServer, type TestServer } from "./harness.ts";
import { type Backdoor, createUser, failure, openBackdoor, password, signIn, type TestUser } from "./support.ts";

let server: TestServer;
let back: Backdoor;
let ada: TestUser; // admin of acme
let bob: TestUser; // member of acme
let dave: TestUser; // admin of beta
let rootS: Session;
let adaS: Session;
let bobS: Session;
let daveS: Session;
let acme: string;
let beta: string;
let invitationToken: string;
const newPassword = "an entirely new passphrase";

/** Ground truth, straight from the table: an organization's entries, newest first. */
async function orgEntries(organizationId: string) {
  return back.handle.db
    .select()
    .from(auditLogs)
    .where(eq(auditLogs.organizationId, organizationId))
    .orderBy(desc(auditLogs.id));
}

/** Every page of a listing, following nextCursor to the end. */
async function allPages(s: Session, input: Parameters<Session["api"]["audit"]["list"]["query"]>[0]) {
  const pages: AuditEntry[][] = [];
  let cursor: string | null = null;
  do {
    const page = await s.api.audit.list.query({ ...input, cursor });
    pages.push(page.items);
    cursor = page.nextCursor;
    if (pages.length > 100) throw new Error("pagination does not end");
  } while (cursor);
  return pages;
}

/** RFC 4180: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell === "") quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += ch;
  }
  if (cell !== "" || row.length) throw new Error("CSV does not end with CRLF");
  return rows;
}

beforeAll(async () => {
  server = await startTestServer();
  back = openBackdoor(server);
  rootS = new Session(server.url);
  await rootS.api.auth.setup.mutate({ email: "root@example.com", username: "root", displayName: "Root", password });
  ada = await createUser(back, "ada");
  bob = await createUser(back, "bob");
  dave = await createUser(back, "dave");
  [adaS, bobS, daveS] = await Promise.all([signIn(server, ada), signIn(server, bob), signIn(server, dave)]);

  acme = (await adaS.api.orgs.create.mutate({ name: "Acme", slug: "acme" })).id;
  beta = (await daveS.api.orgs.create.mutate({ name: "Beta", slug: "beta" })).id;
  await back.handle.db.insert(organizationMembers).values({ organizationId: acme, userId: bob.id, role: "member" });

  // A history worth filtering: successes, failures and denials by several people in two organizations.
  for (let i = 1; i <= 6; i++) {
    await adaS.api.teams.create.mutate({ organizationId: acme, name: `Team ${i}`, slug: `team-${i}` });
  }
  await adaS.api.teams.create.mutate({ organizationId: acme, name: 'Ops, "Night" shift', slug: "night" });
  const shop = await bobS.api.projects.create.mutate({ organizationId: acme, name: "Shop", slug: "shop" });
  await bobS.api.projects.update.mutate({
    projectId: shop.id,
    name: "Shop 2",
    description: "",
    visibility: "internal",
  });
  await failure(bobS.api.teams.create.mutate({ organizationId: acme, name: "Nope", slug: "nope" }));
  await failure(bobS.api.orgs.update.mutate({ organizationId: acme, name: "Bob's" }));
  await failure(adaS.api.teams.create.mutate({ organizationId: acme, name: "Dup", slug: "team-1" }));
  const inv = await adaS.api.invitations.create.mutate({
    organizationId: acme,
    invitee: "erin@example.com",
    role: "member",
  });
  invitationToken = inv.acceptUrl.split("/invitations/")[1]!;
  await new Session(server.url).api.auth.signUp.mutate({
    invitationToken,
    email: "erin@example.com",
    username: "erin",
    displayName: "Erin",
    password: "erin's own password",
  });
  await daveS.api.teams.create.mutate({ organizationId: beta, name: "Beta team", slug: "beta-team" });
  await bobS.api.users.changePassword.mutate({ currentPassword: password, newPassword });
  // Spreadsheet formulas typed into the sign-in form and sent as the user agent.
  await failure(new Session(server.url).api.auth.signIn.mutate({ login: "=cmd|' /C calc'!A0", password: "x" }));
  await fetch(`${server.url}/trpc/auth.signIn`, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": "@SUM(1+1)*cmd|' /C calc'!A0" },
    body: JSON.stringify({ login: "-2+3", password: "x" }),
  });
});

afterAll(async () => {
  await back?.close();
  await server?.close();
});

describe("audit list filters", () => {
  it("without filters an admin gets the organization's whole history, newest first", async () => {
    const truth = await orgEntries(acme);
    const [page] = await allPages(adaS, { organizationId: acme, limit: 200 });
    expect(page!.map((e) => e.id)).toEqual(truth.map((e) => String(e.id)));
    expect(truth.length).toBeGreaterThan(12);
    expect(new Set(truth.map((e) => e.result))).toEqual(new Set(["success", "failed", "denied"]));
  });

  it.each([
    { by: "user", filter: () => ({ actorId: bob.id }), holds: (e: AuditEntry) => e.actor.id === bob.id },
    { by: "action", filter: () => ({ action: "team.create" }), holds: (e: AuditEntry) => e.action === "team.create" },
    {
      by: "resource type",
      filter: () => ({ resourceType: "project" }),
      holds: (e: AuditEntry) => e.resourceType === "project",
    },
    { by: "result", filter: () => ({ result: "denied" as const }), holds: (e: AuditEntry) => e.result === "denied" },
    {
      by: "user and result",
      filter: () => ({ actorId: ada.id, result: "failed" as const }),
      holds: (e: AuditEntry) => e.actor.id === ada.id && e.result === "failed",
    },
  ])("by $by: exactly the matching entries", async ({ filter, holds }) => {
    const everything = (await adaS.api.audit.list.query({ organizationId: acme, limit: 200 })).items;
    const wanted = everything.filter(holds);
    expect(wanted.length).toBeGreaterThan(0);
    expect(wanted.length).toBeLessThan(everything.length);
    const got = await adaS.api.audit.list.query({ organizationId: acme, ...filter(), limit: 200 });
    expect(got.items.map((e) => e.id)).toEqual(wanted.map((e) => e.id));
  });

  it("by time range, both ends included", async () => {
    // Three entries moved to known instants; everything else happened today.
    const [c, b, a] = (await orgEntries(acme)).slice(-3); // newest first: a is the oldest
    const at = (id: number, iso: string) =>
      back.handle.db.execute(sql`update audit_logs set created_at = ${iso}::timestamptz where id = ${id}`);
    await at(a!.id, "2024-01-01T12:00:00Z");
    await at(b!.id, "2024-01-02T12:00:00Z");
    await at(c!.id, "2024-01-03T12:00:00Z");
    const range = async (from?: string, to?: string) =>
      (await adaS.api.audit.list.query({ organizationId: acme, from, to, limit: 200 })).items.map((e) => e.id);

    expect(await range("2024-01-02T12:00:00Z", "2024-01-03T12:00:00Z")).toEqual([String(c!.id), String(b!.id)]);
    expect(await range("2024-01-02T00:00:00+08:00", "2024-01-02T23:59:59+08:00")).toEqual([String(b!.id)]);
    expect(await range(undefined, "2024-01-01T23:59:59Z")).toEqual([String(a!.id)]);
    const recent = await range("2024-01-03T12:00:00.001Z");
    expect(recent).not.toContain(String(c!.id));
    expect(recent).toHaveLength((await orgEntries(acme)).length - 3);

    const err = await failure(adaS.api.audit.list.query({ organizationId: acme, from: "yesterday" }));
    expect(err.juanie).toMatchObject({
      code: "INVALID_INPUT",
      fieldErrors: { from: ["must be an ISO 8601 date-time"] },
    });
  });
});

describe("cursor pagination", () => {
  it.each([1, 4, 7, 50])("pages of %i return every entry exactly once, in order", async (limit) => {
    const truth = (await orgEntries(acme)).map((e) => String(e.id));
    const pages = await allPages(adaS, { organizationId: acme, limit });
    expect(pages.flat().map((e) => e.id)).toEqual(truth);
    expect(pages.slice(0, -1).every((p) => p.length === limit)).toBe(true);
    expect(pages.length).toBe(Math.max(1, Math.ceil(truth.length / limit)));
  });

  it("with a filter, and across the whole platform for the platform admin", async () => {
    const successes = await allPages(adaS, { organizationId: acme, result: "success", limit: 3 });
    const truth = (await orgEntries(acme)).filter((e) => e.result === "success").map((e) => String(e.id));
    expect(successes.flat().map((e) => e.id)).toEqual(truth);

    const all = (await allPages(rootS, { limit: 5 })).flat().map((e) => Number(e.id));
    const everything = await back.handle.db.select({ id: auditLogs.id }).from(auditLogs).orderBy(desc(auditLogs.id));
    expect(all).toEqual(everything.map((e) => e.id));
  });

  it("a cursor that this list did not hand out is refused", async () => {
    const err = await failure(adaS.api.audit.list.query({ organizationId: acme, cursor: "not a cursor" }));
    expect(err.juanie).toMatchObject({
      code: "INVALID_INPUT",
      fieldErrors: { cursor: ["is not a cursor returned by this list"] },
    });
  });
});

describe("export", () => {
  it("CSV: a download with one row per entry, commas and quotes escaped", async () => {
    const res = await adaS.fetch(`/api/audit/export?format=csv&organizationId=${acme}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="juanie-audit-[0-9TZ-]+\.csv"$/);
    const rows = parseCsv(await res.text());
    const [header, ...records] = rows;
    expect(header).toEqual([
      "id",
      "createdAt",
      "actor",
      "action",
      "resourceType",
      "resourceId",
      "organizationId",
      "projectId",
      "result",
      "reason",
      "ip",
      "userAgent",
      "changes",
    ]);
    const truth = await orgEntries(acme);
    expect(records.map((r) => r[0])).toEqual(truth.map((e) => String(e.id)));
    expect(records.every((r) => r.length === header!.length)).toBe(true);

    const night = records.find((r) => r[3] === "team.create" && r[12]?.includes("Night"))!;
    expect(JSON.parse(night[12]!)).toEqual({ after: { name: 'Ops, "Night" shift', slug: "night", description: "" } });
    const denied = records.find((r) => r[3] === "org.update" && r[8] === "denied")!;
    expect(denied[9]).toBe(
      "Forbidden: changing organization settings requires organization admin (you have organization member)",
    );
  });

  it("CSV: cells that a spreadsheet would run as a formula are neutralised", async () => {
    const res = await rootS.fetch("/api/audit/export?format=csv&action=auth.sign_in&result=failed");
    const text = await res.text();
    const records = parseCsv(text).slice(1);
    const actors = records.map((r) => r[2]);
    expect(actors).toContain("'=cmd|' /C calc'!A0");
    expect(actors).toContain("'-2+3");
    expect(records.map((r) => r[11])).toContain("'@SUM(1+1)*cmd|' /C calc'!A0");
    // No cell in the whole file starts with a formula character.
    for (const cell of parseCsv(text).flat()) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
  });

  it("JSON: the same entries as the list, in the API's shape", async () => {
    const res = await adaS.fetch(`/api/audit/export?format=json&organizationId=${acme}&result=denied`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="juanie-audit-[0-9TZ-]+\.json"$/);
    const body: unknown = await res.json();
    const entries = auditEntry.array().parse(body);
    const listed = await adaS.api.audit.list.query({ organizationId: acme, result: "denied", limit: 200 });
    // The export keeps the plain entry (ids, no names resolved now), the list adds names.
    expect(entries).toEqual(auditEntry.array().parse(listed.items));
    expect(entries).toHaveLength(2);
  });

  it("JSONL: one entry per line, the same entries as the JSON export", async () => {
    const res = await adaS.fetch(`/api/audit/export?format=jsonl&organizationId=${acme}&result=denied`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="juanie-audit-[0-9TZ-]+\.jsonl"$/);
    const lines = (await res.text()).split("\n").filter((l) => l !== "");
    const json = await (await adaS.fetch(`/api/audit/export?format=json&organizationId=${acme}&result=denied`)).json();
    expect(lines.map((l) => JSON.parse(l))).toEqual(json);
    expect(lines).toHaveLength(2);
  });

  it("an export with nothing to export is still valid", async () => {
    const json = await adaS.fetch(`/api/audit/export?format=json&organizationId=${acme}&action=no.such.action`);
    expect(await json.json()).toEqual([]);
    const csv = await adaS.fetch(`/api/audit/export?organizationId=${acme}&action=no.such.action`);
    expect(parseCsv(await csv.text())).toHaveLength(1);
  });

  it("bad export parameters are refused naming the parameter", async () => {
    const res = await adaS.fetch(`/api/audit/export?format=xlsx&organizationId=${acme}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      code: "INVALID_INPUT",
      message: "Invalid input: format: must be csv, json or jsonl",
    });
  });
});

describe("secrets never reach the audit log", () => {
  it("no password, password hash, invitation token or session token in any entry", async () => {
    const change = await bobS.api.audit.list.query({ action: "user.change_password" });
    expect(change.items).toHaveLength(1);
    expect(change.items[0]).toMatchObject({ result: "success", changes: null });

    const dump = (await back.handle.db.execute<{ row: string }>(sql`select a::text as row from audit_logs a`)).rows
      .map((r) => r.row)
      .join("\n");
    const hashes = (await back.handle.db.execute<{ h: string }>(sql`select password_hash as h from users`)).rows;
    for (const secret of [
      password,
      newPassword,
      "erin's own password",
      invitationToken,
      ...[adaS, bobS, daveS, rootS].map((s) => s.cookie!.split("=")[1]!),
      ...hashes.map((h) => h.h),
      "$argon2",
    ]) {
      expect(dump).not.toContain(secret);
    }
  });

  it("secret-looking fields in changes are redacted", async () => {
    await recordAudit(back.handle.db, {
      actorId: ada.id,
      actorLabel: "ada",
      action: "test.secret",
      resourceType: "test",
      organizationId: acme,
      changes: {
        before: { apiToken: "t0k3n", name: "a" },
        after: { clientSecret: "s3cr3t", password: "p", name: "b" },
      },
      result: "success",
    });
    const [entry] = (await adaS.api.audit.list.query({ organizationId: acme, action: "test.secret" })).items;
    expect(entry!.changes).toEqual({
      before: { apiToken: "[redacted]", name: "a" },
      after: { clientSecret: "[redacted]", password: "[redacted]", name: "b" },
    });
  });
});

describe("who sees which entries", () => {
  it("an organization admin sees their organization's entries and nobody else's", async () => {
    const mine = await adaS.api.audit.list.query({ organizationId: acme, limit: 200 });
    expect(mine.items.every((e) => e.organizationId === acme)).toBe(true);
    expect(mine.items.some((e) => e.actor.id === bob.id)).toBe(true);

    const other = await failure(adaS.api.audit.list.query({ organizationId: beta }));
    expect(other.juanie.code).toBe("NOT_FOUND");
    const exported = await adaS.fetch(`/api/audit/export?format=json&organizationId=${beta}`);
    expect(exported.status).toBe(404);

    // Without an organization: only their own actions, whichever organization they were in.
    const own = await daveS.api.audit.list.query({ limit: 200 });
    expect(own.items.length).toBeGreaterThan(0);
    expect(own.items.every((e) => e.actor.id === dave.id)).toBe(true);
    const ownExport = auditEntry.array().parse(await (await daveS.fetch("/api/audit/export?format=json")).json());
    expect(ownExport.map((e) => e.id)).toEqual(own.items.map((e) => e.id));
  });

  it("a plain member asking for the organization's log is denied, in the list and in the export", async () => {
    const err = await failure(bobS.api.audit.list.query({ organizationId: acme }));
    expect(err.httpStatus).toBe(403);
    expect(err.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: "organization admin" });
    expect(err.message).toContain("reading the organization's audit log requires organization admin");

    const res = await bobS.fetch(`/api/audit/export?format=csv&organizationId=${acme}`);
    expect(res.status).toBe(403);
    expect(res.headers.get("content-disposition")).toBeNull();
    expect(await res.json()).toMatchObject({ code: "FORBIDDEN" });
  });

  it("the platform admin sees every organization's entries", async () => {
    const acmeLog = await rootS.api.audit.list.query({ organizationId: acme, limit: 200 });
    expect(acmeLog.items.map((e) => e.id)).toEqual((await orgEntries(acme)).map((e) => String(e.id)));
    const betaLog = await rootS.api.audit.list.query({ organizationId: beta, limit: 200 });
    expect(betaLog.items.map((e) => e.action)).toEqual(["team.create", "org.create"]);
  });
});
