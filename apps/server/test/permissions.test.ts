import {
  deployments,
  environments,
  fluxOperations,
  oauthAccounts,
  organizationMembers,
  projectMembers,
  projects,
  projectTeamGrants,
  teamMembers,
} from "@juanie/db";
import { createInvitation, createOrganization, createProject, createTeam, gitopsNames } from "@juanie/domain";
import { type KubeSim, startKubeSim } from "@juanie/kube-sim";
import { type FakeGitHub, startFakeGitHub } from "@juanie/providers/testing";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitServer, startGitServer } from "../../../test/git-server.ts";
import { actorFor } from "../../../test/helpers.ts";
import { appRouter } from "../src/trpc/router.ts";
import type { Meta } from "../src/trpc/trpc.ts";
import { Session, startTestServer, type TestServer } from "./harness.ts";
import {
  auditSince,
  type Backdoor,
  createUser,
  failure,
  lastAuditId,
  openBackdoor,
  password,
  signIn,
  type TestUser,
  waitFor,
} from "./support.ts";

/**
 * THE PERMISSION MATRIX. Every mutation of the API, called through the real server by every kind of
 * user, against the outcome written down here. A new mutation fails this file until it is added to
 * `expected` (and to `calls`, which says how to call it).
 */

const roles = [
  "non-member",
  "org member",
  "org admin",
  "team maintainer",
  "project viewer",
  "project developer",
  "project maintainer",
  "project owner",
  "platform admin",
] as const;
type Role = (typeof roles)[number];

/**
 * "ok"; "403 <role>": FORBIDDEN naming the missing role; "404 <role>": answered NOT_FOUND because the
 * caller may not know the resource exists (the audit log still records a denial naming the role);
 * "409": CONFLICT.
 */
type Outcome = "ok" | "409" | `403 ${string}` | `404 ${string}`;

const everyone = (o: Outcome) => Object.fromEntries(roles.map((r) => [r, o])) as Record<Role, Outcome>;
/** Non-members get `outsider`, members of the organization get `member`, unless `overrides` says otherwise. */
const row = (outsider: Outcome, member: Outcome, overrides: Partial<Record<Role, Outcome>>): Record<Role, Outcome> => ({
  ...everyone(member),
  "non-member": outsider,
  ...overrides,
});

const orgAdmins = row("404 organization admin", "403 organization admin", {
  "org admin": "ok",
  "platform admin": "ok",
});
const teamMaintainers = row("404 team maintainer", "403 team maintainer", {
  "org admin": "ok",
  "team maintainer": "ok",
  "platform admin": "ok",
});
const projectMaintainers = row("404 project maintainer", "403 project maintainer", {
  "org admin": "ok",
  "project maintainer": "ok",
  "project owner": "ok",
  "platform admin": "ok",
});
const projectOwners = row("404 project owner", "403 project owner", {
  "org admin": "ok",
  "project owner": "ok",
  "platform admin": "ok",
});
const someoneElsesInvitation = everyone("403 the invited account");
/**
 * Deploying, approving, cancelling, rolling back, recording manual deployments: the environment's deploy
 * permission. On an environment without explicit grants developers have it, viewers only read; organization
 * admins and project maintainers administer every environment. Outsiders are told the project is missing.
 */
/**
 * Retrying a deployment stuck after a crash: administrators of the environment only (org admins, project
 * maintainers and owners); a developer may deploy but not retry.
 */
const environmentAdmins = row("404 environment deploy permission", "403 environment deploy permission", {
  "project developer": "403 environment admin permission",
  "org admin": "ok",
  "project maintainer": "ok",
  "project owner": "ok",
  "platform admin": "ok",
});
const environmentDeployers = row("404 environment deploy permission", "403 environment deploy permission", {
  "org admin": "ok",
  "project developer": "ok",
  "project maintainer": "ok",
  "project owner": "ok",
  "platform admin": "ok",
});

/** In the order the calls are made for each role: destructive ones last. */
const expected: Record<string, Record<Role, Outcome>> = {
  // Your own account: every signed-in user, whatever their roles.
  "auth.setup": everyone("409"), // first-run setup is over, for the platform admin too
  "users.updateProfile": everyone("ok"),
  "users.changePassword": everyone("ok"),
  "users.unlinkProvider": everyone("ok"),
  "auth.signUp": everyone("ok"), // public: whoever holds an invitation link
  // Organizations.
  "orgs.create": everyone("ok"),
  "orgs.update": orgAdmins,
  "orgs.changeMemberRole": orgAdmins,
  "orgs.removeMember": orgAdmins,
  "invitations.create": orgAdmins,
  "invitations.revoke": orgAdmins,
  // Nobody may answer someone else's invitation, not even an administrator.
  "invitations.accept": someoneElsesInvitation,
  "invitations.acceptByToken": someoneElsesInvitation,
  "invitations.decline": someoneElsesInvitation,
  // Teams.
  "teams.create": orgAdmins,
  "teams.update": teamMaintainers,
  "teams.addMember": teamMaintainers,
  "teams.changeMemberRole": teamMaintainers,
  "teams.removeMember": teamMaintainers,
  // Projects. The project is `internal`: members of the organization see it, outsiders do not.
  "projects.create": row("404 organization member", "ok", {}),
  "projects.update": projectMaintainers,
  "projects.addMember": projectMaintainers,
  "projects.changeMemberRole": projectMaintainers,
  "projects.removeMember": projectMaintainers,
  "projects.grantTeam": projectMaintainers,
  "projects.revokeTeam": projectMaintainers,
  // Repositories and environments: project maintainers and up.
  "repositories.connect": projectMaintainers,
  "repositories.create": projectMaintainers,
  "repositories.initializeLayout": projectMaintainers,
  "repositories.updateCredential": projectMaintainers,
  "repositories.revealWebhookSecret": projectMaintainers,
  "repositories.regenerateWebhookSecret": projectMaintainers,
  "environments.create": projectMaintainers,
  "environments.createSuggested": projectMaintainers,
  "environments.createSuggestedBranch": projectMaintainers,
  "environments.update": projectMaintainers,
  "environments.setGrants": projectMaintainers,
  "environments.reorder": projectMaintainers,
  "environments.acknowledgeBypass": projectMaintainers,
  // Clusters and their Flux: organization admins only (members see clusters, to bind environments).
  "clusters.register": orgAdmins,
  "clusters.update": orgAdmins,
  "clusters.check": orgAdmins,
  "clusters.installFlux": orgAdmins,
  "clusters.restoreFlux": orgAdmins,
  "clusters.adoptFlux": orgAdmins,
  // Sync / suspend / resume an environment's Kustomization: the environment's deploy permission.
  "environments.fluxAction": environmentDeployers,
  // Deployments: the environment's deploy permission. Approving is never for the requester (tested below):
  // here someone else requested.
  "deployments.request": environmentDeployers,
  "deployments.requestAgain": environmentDeployers,
  "deployments.approve": environmentDeployers,
  // Break glass: organization admins only (platform administrators too), on someone else's request.
  "deployments.breakGlass": row("404 environment deploy permission", "403 environment deploy permission", {
    "org admin": "ok",
    "platform admin": "ok",
    "project developer": "403 organization admin",
    "project maintainer": "403 organization admin",
    "project owner": "403 organization admin",
  }),
  "deployments.reject": environmentDeployers,
  "deployments.cancel": environmentDeployers, // the caller's own deployment
  "deployments.retry": environmentAdmins,
  "deployments.rollback": environmentDeployers,
  "deployments.createManual": environmentDeployers,
  "deployments.reportManual": environmentDeployers,
  "environments.delete": projectMaintainers,
  "repositories.disconnect": projectMaintainers,
  "projects.archive": projectOwners,
  "projects.restore": projectOwners,
  // Destructive, so last.
  "clusters.uninstallFlux": orgAdmins,
  "clusters.delete": orgAdmins,
  "teams.delete": row("404 team owner", "403 team owner", { "org admin": "ok", "platform admin": "ok" }),
  "orgs.delete": orgAdmins,
  "auth.signIn": everyone("ok"),
  "auth.signOut": everyone("ok"),
};

/** Mutations deliberately not audited, each with the reason. */
const unaudited: Record<string, string> = {
  "notifications.markRead": "changes only the caller's own, unshared state",
  "notifications.markAllRead": "changes only the caller's own, unshared state",
  // Muting needs read access to the project (checked); it changes only which notifications the caller gets.
  "notifications.muteProject": "changes only the caller's own notification preferences",
  // A dry run (a mutation only because it takes a deploy form): renders the diff, changes and records nothing.
  // It still reads the environment's repository, so it takes the deploy permission: see `guardedUnaudited`.
  "deployments.preview": "dry run, changes nothing",
};

/** Unaudited mutations that are still permission-checked: outcomes as in `expected`, but no audit entry ever. */
const guardedUnaudited: Record<string, Record<Role, Outcome>> = {
  "deployments.preview": environmentDeployers,
};

// ---------------------------------------------------------------------------------------------

let server: TestServer;
let back: Backdoor;
let root: TestUser;
let boss: TestUser;
/** Accounts the mutations act on (members to promote, remove, add…), shared by every world. */
let targets: Record<"promote" | "remove" | "teamAdd" | "teamPromote" | "teamRemove" | "projectAdd", TestUser>;
let projectTargets: Record<"change" | "remove", TestUser>;
let guest: TestUser;
let bossSession: Session;
const worlds = new Map<Role, World>();
const TOKEN = "perm-matrix-token-5f0c2a";
let git: GitServer;
let github: FakeGitHub;
/** A simulated cluster without Flux, shared by every world (register, update, check, install, restore, delete). */
let plainSim: KubeSim;
/** Per world: a simulated cluster where Flux runs (adopt, uninstall, an environment's Kustomization). */
const fluxSims: KubeSim[] = [];

beforeAll(async () => {
  git = await startGitServer({ token: TOKEN });
  github = await startFakeGitHub({
    users: [{ token: TOKEN, login: "bot" }],
    orgs: [{ login: "acme", admins: ["bot"] }],
    cloneUrl: (fullName) => `${git.url}/${fullName}.git`,
    onCreateRepository: async (fullName) => {
      await git.createRepo(fullName);
    },
  });
  plainSim = await startKubeSim();
  server = await startTestServer({ JUANIE_ALLOW_LOCAL_REPOSITORIES: "true" });
  back = openBackdoor(server);
  const first = new Session(server.url);
  const me = await first.api.auth.setup.mutate({
    email: "root@example.com",
    username: "root",
    displayName: "Root",
    password,
  });
  root = { id: me.id, username: me.username, email: me.email, isPlatformAdmin: true };
  boss = await createUser(back, "boss");
  guest = await createUser(back, "guest");
  targets = {
    promote: await createUser(back, "t-promote"),
    remove: await createUser(back, "t-remove"),
    teamAdd: await createUser(back, "t-team-add"),
    teamPromote: await createUser(back, "t-team-promote"),
    teamRemove: await createUser(back, "t-team-remove"),
    projectAdd: await createUser(back, "t-project-add"),
  };
  projectTargets = {
    change: await createUser(back, "t-project-change"),
    remove: await createUser(back, "t-project-remove"),
  };
  bossSession = await signIn(server, boss);
  // Every role's world at once (each has its own organization, project and repositories): much faster.
  const built = await Promise.all(
    roles.map(async (role, i) => {
      const tag = `r${i}`;
      const user = role === "platform admin" ? root : await createUser(back, `user-${tag}`);
      return buildWorld(role, user, tag);
    }),
  );
  // Then their clusters (once the worlds' commit jobs are done, not to slow them down).
  await Promise.all(
    roles.map(async (role, i) => {
      const w = built[i]!;
      worlds.set(role, { ...w, clusters: await buildClusters(w.org.id, w.project, w.gitops.repo) });
    }),
  );
}, 300_000);

afterAll(async () => {
  await back?.close();
  await server?.close();
  await Promise.all([plainSim, ...fluxSims].map((sim) => sim?.close()));
  await github?.close();
  await git?.close();
}, 120_000);

interface World {
  tag: string;
  user: TestUser;
  session: Session;
  org: { id: string; slug: string };
  team: string;
  doomedTeam: string;
  grantedLater: string;
  alreadyGranted: string;
  project: string;
  pendingInvitation: string;
  guestInvitation: { id: string; token: string };
  signup: { email: string; token: string };
  gitops: GitopsFixtures;
  clusters: ClusterFixtures;
}

interface ClusterFixtures {
  /** On the plain simulator: to update and check. */
  main: string;
  /** On the plain simulator, no Flux operation ever: to install Flux on. */
  install: string;
  /** On the plain simulator, with an earlier successful install (kept manifest) to go back to. */
  restore: { clusterId: string; operationId: string };
  /** On the plain simulator, bound to no environment: to delete. */
  doomed: string;
  /** On the world's own simulator, where Flux runs (not installed by the platform): to adopt and uninstall. */
  flux: { id: string; name: string };
  /** Bound to `flux`; its Kustomization exists in that simulator. */
  fluxEnv: string;
}

interface GitopsFixtures {
  /** Connected, with the layout; environments "dev" and "prod" deploy from it. */
  repo: string;
  /** Connected, empty, used by no environment: to initialise, re-credential and disconnect. */
  spare: string;
  /** On the Git server, not connected yet. */
  freshUrl: string;
  dev: string;
  prod: string;
  editMe: string;
  doomed: string;
  /** Awaiting approval, requested by someone else. */
  toApprove: string;
  toReject: string;
  /** Awaiting approval, requested by the world's user. */
  toCancel: string;
  /** Awaiting approval, requested by someone else: approved break glass. */
  toBreakGlass: string;
  /** Cancelled: requested again. */
  toRequestAgain: string;
  /** A committed deployment of "dev" that is not what "dev" runs now. */
  rollbackTarget: string;
  /** A manual deployment, pending. */
  manual: string;
}

/**
 * A deployment left in committing a minute ago (its server died), with its commit job waiting an hour (so
 * the scheduler's safety net leaves it alone). Made when the call is made: a fixture made minutes earlier,
 * while the worlds are built, may be handled by background work by the time the matrix reaches it.
 */
async function insertStuckDeployment(projectId: string, environmentId: string, repositoryId: string): Promise<string> {
  const [stuck] = await back.handle.db
    .insert(deployments)
    .values({
      projectId,
      environmentId,
      repositoryId,
      method: "gitops-ui",
      status: "committing",
      branch: "main",
      path: "k8s/overlays/production",
      pushShas: ["0".repeat(40)],
      updatedAt: new Date(Date.now() - 60_000),
    })
    .returning();
  // Its job waits for a retry an hour from now (so the scheduler's safety net leaves it alone).
  await back.handle.db.execute(sql`select graphile_worker.add_job('deployment.commit',
    json_build_object('deploymentId', ${stuck!.id}::text), queue_name => ${`repo:${repositoryId}`},
    run_at => now() + interval '1 hour', job_key => ${`deployment.commit:${stuck!.id}`}, max_attempts => 3)`);
  return stuck!.id;
}

/** Repositories, environments and deployments of a world, made by its organization admin (boss) through the API. */
async function buildGitops(projectId: string, user: TestUser, tag: string): Promise<GitopsFixtures> {
  const b = bossSession.api;
  const connect = async (name: string) =>
    b.repositories.connect.mutate({
      projectId,
      provider: "git",
      url: await git.createRepo(name),
      credential: { type: "token", token: TOKEN },
      registerWebhook: false,
    });
  const [repo, spare, freshUrl] = await Promise.all([
    connect(`${tag}/app`),
    connect(`${tag}/spare`),
    git.createRepo(`${tag}/fresh`),
  ]);
  const { commitSha } = await b.repositories.initializeLayout.mutate({
    repositoryId: repo.id,
    image: "ghcr.io/acme/app:1.0.0",
    port: 8080,
  });
  const gitops = (branch: string, overlay: string) => ({
    enabled: true,
    repositoryId: repo.id,
    branch,
    path: `k8s/overlays/${overlay}`,
    syncInterval: "10m",
    autoSync: true,
  });
  const off = { enabled: false, repositoryId: null, branch: null, path: null, syncInterval: "5m", autoSync: false };
  const env = (name: string, g: typeof off | ReturnType<typeof gitops>, approval = false) =>
    b.environments.create.mutate({
      projectId,
      name,
      type: approval ? "production" : "development",
      approvalRequired: approval,
      minApprovals: 1,
      gitops: g,
    });
  const [dev, prod, editMe, doomed] = await Promise.all([
    env("dev", gitops("dev", "development")),
    env("prod", gitops("main", "production"), true),
    env("edit-me", off),
    env("doomed", off),
  ]);
  // "dev" ran the layout's first commit (recorded as seen from Git), then a UI deployment changed it.
  const [first] = await back.handle.db
    .insert(deployments)
    .values({
      projectId,
      environmentId: dev.id,
      repositoryId: repo.id,
      method: "gitops-git",
      status: "committed",
      branch: "main",
      path: "k8s/overlays/development",
      commitSha,
      commitMessage: "initial layout",
    })
    .returning();
  const request = (replicas: number) =>
    b.deployments.request.mutate({ environmentId: prod.id, spec: { replicas } }).then((d) => d.id);
  const [changed, toApprove, toReject, toCancel, toBreakGlass, toRequestAgain, manual] = await Promise.all([
    b.deployments.request.mutate({ environmentId: dev.id, spec: { replicas: 3 } }),
    request(4),
    request(5),
    request(6),
    request(7),
    request(8).then(async (id) => (await b.deployments.cancel.mutate({ deploymentId: id })).id),
    b.deployments.createManual.mutate({ environmentId: dev.id, version: "0.9.0" }),
  ]);
  await back.handle.db.update(deployments).set({ requestedById: user.id }).where(eq(deployments.id, toCancel));
  const committed = await waitFor(
    () => b.deployments.get.query({ deploymentId: changed.id }),
    (d) => d.status === "committed" || d.status === "failed",
    60_000, // nine worlds' commit jobs share the queue
  );
  expect(committed.status).toBe("committed");
  return {
    repo: repo.id,
    spare: spare.id,
    freshUrl,
    dev: dev.id,
    prod: prod.id,
    editMe: editMe.id,
    doomed: doomed.id,
    toApprove,
    toReject,
    toCancel,
    toBreakGlass,
    toRequestAgain,
    rollbackTarget: first!.id,
    manual: manual.id,
  };
}

/** A tiny manifest to install from an upload: the install job applies it to the plain simulator. */
const uploadedManifest = JSON.stringify({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "perm-matrix-upload", namespace: "default" },
  data: { note: "uploaded by the permission matrix" },
});

/**
 * Clusters of a world, registered by its organization admin (boss) through the API: every cluster
 * mutation can succeed for whoever is allowed to make it.
 */
async function buildClusters(
  organizationId: string,
  projectId: string,
  repositoryId: string,
): Promise<ClusterFixtures> {
  const b = bossSession.api;
  const fluxSim = await startKubeSim();
  fluxSims.push(fluxSim);
  fluxSim.installFlux(); // as `flux install` would, outside the platform: CRDs and the controllers in flux-system
  const register = (name: string, sim: KubeSim) =>
    b.clusters.register
      .mutate({ organizationId, name, connection: { type: "kubeconfig", kubeconfig: sim.kubeconfig() } })
      .then((c) => c.id);
  const [main, install, restore, doomed, flux] = await Promise.all([
    register("main", plainSim),
    register("install", plainSim),
    register("restore", plainSim),
    register("doomed", plainSim),
    register("flux", fluxSim),
  ]);
  const [kept] = await back.handle.db
    .insert(fluxOperations)
    .values({
      clusterId: restore,
      action: "install",
      source: "upload",
      status: "succeeded",
      manifest: uploadedManifest,
      finishedAt: new Date(),
    })
    .returning();

  // An environment running in the Flux cluster. Its Flux objects are applied by a job; the sync only
  // needs the Kustomization to exist there, so it is made here if the job did not make it.
  const env = await b.environments.create.mutate({
    projectId,
    name: "fluxed",
    type: "development",
    gitops: {
      enabled: true,
      repositoryId,
      branch: "main",
      path: "k8s/overlays/development",
      syncInterval: "10m",
      autoSync: true,
      clusterId: flux,
    },
  });
  const state = async () =>
    (
      await back.handle.db.select({ s: environments.gitopsState }).from(environments).where(eq(environments.id, env.id))
    )[0]?.s;
  await waitFor(state, (s) => s !== "applying", 30_000);
  const { fluxName } = gitopsNames("app", { name: "fluxed", namespace: null, fluxName: null });
  const kustomizations = fluxSim.type("kustomize.toolkit.fluxcd.io/v1", "Kustomization");
  if (!fluxSim.store.tryGet(kustomizations, "flux-system", fluxName)) {
    fluxSim.store.create(
      kustomizations,
      "flux-system",
      {
        apiVersion: "kustomize.toolkit.fluxcd.io/v1",
        kind: "Kustomization",
        metadata: { name: fluxName, namespace: "flux-system" },
        spec: {
          interval: "10m",
          path: "./k8s/overlays/development",
          prune: true,
          sourceRef: { kind: "GitRepository", name: fluxName },
        },
      },
      { manager: "kubectl" },
    );
  }
  expect(fluxSim.store.tryGet(kustomizations, "flux-system", fluxName)).toBeDefined();
  return {
    main,
    install,
    restore: { clusterId: restore, operationId: kept!.id },
    doomed,
    flux: { id: flux, name: "flux" },
    fluxEnv: env.id,
  };
}

/**
 * Waits until a Flux operation's job has ended (so that it does not run into the destructive calls that
 * follow) and checks it did its work in the simulated cluster.
 */
async function flushFluxOperation(operationId: string): Promise<void> {
  const op = async () =>
    (
      await back.handle.db
        .select({ status: fluxOperations.status, error: fluxOperations.error })
        .from(fluxOperations)
        .where(eq(fluxOperations.id, operationId))
    )[0];
  const ended = await waitFor(op, (o) => o?.status === "succeeded" || o?.status === "failed", 20_000);
  expect(ended).toEqual({ status: "succeeded", error: null });
}

const tokenOf = (acceptUrl: string) => acceptUrl.split("/invitations/")[1]!;

/** A fresh organization with a team, an internal project and pending invitations, where `user` holds `role`. */
async function buildWorld(role: Role, user: TestUser, tag: string): Promise<Omit<World, "clusters">> {
  const { deps, handle } = back;
  const db = handle.db;
  const b = actorFor(boss);
  const org = await createOrganization(deps, b, { name: `World ${tag}`, slug: `world-${tag}` });
  const inOrg = role !== "non-member" && role !== "platform admin";
  await db.insert(organizationMembers).values([
    ...[...Object.values(targets), ...Object.values(projectTargets)].map((t) => ({
      organizationId: org.id,
      userId: t.id,
      role: "member" as const,
    })),
    ...(inOrg ? [{ organizationId: org.id, userId: user.id, role: role === "org admin" ? "admin" : "member" }] : []),
  ] as (typeof organizationMembers.$inferInsert)[]);

  const team = (slug: string) =>
    createTeam(deps, b, { organizationId: org.id, name: slug, slug, description: "" }).then((t) => t.id);
  const [core, doomed, grantedLater, alreadyGranted] = [
    await team("core"),
    await team("doomed"),
    await team("granted-later"),
    await team("already-granted"),
  ];
  await db.insert(teamMembers).values([
    { teamId: core, userId: targets.teamPromote.id, role: "member" },
    { teamId: core, userId: targets.teamRemove.id, role: "member" },
    ...(role === "team maintainer"
      ? [
          { teamId: core, userId: user.id, role: "maintainer" as const },
          { teamId: doomed, userId: user.id, role: "maintainer" as const },
        ]
      : []),
  ]);

  const project = await createProject(deps, b, {
    organizationId: org.id,
    name: "App",
    slug: "app",
    description: "",
    visibility: "internal",
  });
  const projectRole = role.startsWith("project ") ? role.slice("project ".length) : null;
  await db
    .insert(projectMembers)
    .values([
      { projectId: project.id, userId: projectTargets.change.id, role: "developer" },
      { projectId: project.id, userId: projectTargets.remove.id, role: "viewer" },
      ...(projectRole ? [{ projectId: project.id, userId: user.id, role: projectRole }] : []),
    ] as (typeof projectMembers.$inferInsert)[]);
  await db.insert(projectTeamGrants).values({ projectId: project.id, teamId: alreadyGranted, role: "viewer" });
  await db
    .insert(oauthAccounts)
    .values({ userId: user.id, provider: "github", providerAccountId: `gh-${tag}`, providerLogin: user.username });

  const invite = (invitee: string) =>
    createInvitation(deps, b, { organizationId: org.id, invitee, role: "member", expiresInDays: 7 });
  const pending = await invite(`pending-${tag}@example.com`);
  const forGuest = await invite(guest.username);
  const signup = await invite(`join-${tag}@example.com`);

  // Archiving needs an active project: the initialisation job (enqueued with the project) activates it.
  const status = await waitFor(
    async () => (await db.select({ s: projects.status }).from(projects).where(eq(projects.id, project.id)))[0]?.s,
    (s) => s === "active",
  );
  expect(status).toBe("active");

  const gitops = await buildGitops(project.id, user, tag);

  return {
    tag,
    user,
    gitops,
    session: await signIn(server, user),
    org: { id: org.id, slug: org.slug },
    team: core,
    doomedTeam: doomed,
    grantedLater,
    alreadyGranted,
    project: project.id,
    pendingInvitation: pending.invitation.id,
    guestInvitation: { id: forGuest.invitation.id, token: tokenOf(forGuest.acceptUrl) },
    signup: { email: `join-${tag}@example.com`, token: tokenOf(signup.acceptUrl) },
  };
}

/** How to call each mutation with valid input in a world. `s` is a copy of the role's session. */
const calls: Record<string, (s: Session, w: World) => Promise<unknown>> = {
  "auth.setup": (s, w) =>
    s.api.auth.setup.mutate({
      email: `setup-${w.tag}@example.com`,
      username: `setup-${w.tag}`,
      displayName: "S",
      password,
    }),
  "users.updateProfile": (s) => s.api.users.updateProfile.mutate({ displayName: "Renamed", locale: "zh-CN" }),
  "users.changePassword": (s) =>
    s.api.users.changePassword.mutate({ currentPassword: password, newPassword: password }),
  "users.unlinkProvider": (s) => s.api.users.unlinkProvider.mutate({ provider: "github" }),
  "auth.signUp": (s, w) =>
    s.api.auth.signUp.mutate({
      invitationToken: w.signup.token,
      email: w.signup.email,
      username: `joiner-${w.tag}`,
      displayName: "Joiner",
      password,
    }),
  "orgs.create": (s, w) => s.api.orgs.create.mutate({ name: "Fresh", slug: `fresh-${w.tag}` }),
  "orgs.update": (s, w) => s.api.orgs.update.mutate({ organizationId: w.org.id, name: "Renamed" }),
  "orgs.changeMemberRole": (s, w) =>
    s.api.orgs.changeMemberRole.mutate({ organizationId: w.org.id, userId: targets.promote.id, role: "admin" }),
  "orgs.removeMember": (s, w) =>
    s.api.orgs.removeMember.mutate({ organizationId: w.org.id, userId: targets.remove.id }),
  "invitations.create": (s, w) =>
    s.api.invitations.create.mutate({ organizationId: w.org.id, invitee: `new-${w.tag}@example.com`, role: "member" }),
  "invitations.revoke": (s, w) => s.api.invitations.revoke.mutate({ invitationId: w.pendingInvitation }),
  "invitations.accept": (s, w) => s.api.invitations.accept.mutate({ invitationId: w.guestInvitation.id }),
  "invitations.acceptByToken": (s, w) => s.api.invitations.acceptByToken.mutate({ token: w.guestInvitation.token }),
  "invitations.decline": (s, w) => s.api.invitations.decline.mutate({ invitationId: w.guestInvitation.id }),
  "teams.create": (s, w) => s.api.teams.create.mutate({ organizationId: w.org.id, name: "New", slug: "new-team" }),
  "teams.update": (s, w) => s.api.teams.update.mutate({ teamId: w.team, name: "Renamed", description: "new" }),
  "teams.addMember": (s, w) =>
    s.api.teams.addMember.mutate({ teamId: w.team, userId: targets.teamAdd.id, role: "member" }),
  "teams.changeMemberRole": (s, w) =>
    s.api.teams.changeMemberRole.mutate({ teamId: w.team, userId: targets.teamPromote.id, role: "maintainer" }),
  "teams.removeMember": (s, w) => s.api.teams.removeMember.mutate({ teamId: w.team, userId: targets.teamRemove.id }),
  "projects.create": (s, w) =>
    s.api.projects.create.mutate({ organizationId: w.org.id, name: "New", slug: `new-${w.tag}` }),
  "projects.update": (s, w) =>
    s.api.projects.update.mutate({ projectId: w.project, name: "Renamed", description: "d", visibility: "internal" }),
  "projects.addMember": (s, w) =>
    s.api.projects.addMember.mutate({ projectId: w.project, userId: targets.projectAdd.id, role: "developer" }),
  "projects.changeMemberRole": (s, w) =>
    s.api.projects.changeMemberRole.mutate({ projectId: w.project, userId: projectTargets.change.id, role: "viewer" }),
  "projects.removeMember": (s, w) =>
    s.api.projects.removeMember.mutate({ projectId: w.project, userId: projectTargets.remove.id }),
  "projects.grantTeam": (s, w) =>
    s.api.projects.grantTeam.mutate({ projectId: w.project, teamId: w.grantedLater, role: "developer" }),
  "projects.revokeTeam": (s, w) => s.api.projects.revokeTeam.mutate({ projectId: w.project, teamId: w.alreadyGranted }),
  "repositories.connect": (s, w) =>
    s.api.repositories.connect.mutate({
      projectId: w.project,
      provider: "git",
      url: w.gitops.freshUrl,
      credential: { type: "token", token: TOKEN },
      registerWebhook: false,
    }),
  "repositories.create": (s, w) =>
    s.api.repositories.create.mutate({
      projectId: w.project,
      provider: "github",
      apiUrl: github.apiUrl,
      token: TOKEN,
      namespace: "acme",
      name: `created-${w.tag}`,
      private: true,
      image: "ghcr.io/acme/app:1.0.0",
      port: 8080,
    }),
  "repositories.initializeLayout": (s, w) =>
    s.api.repositories.initializeLayout.mutate({ repositoryId: w.gitops.spare, image: "ghcr.io/acme/app:2", port: 80 }),
  "repositories.updateCredential": (s, w) =>
    s.api.repositories.updateCredential.mutate({
      repositoryId: w.gitops.spare,
      credential: { type: "token", token: TOKEN },
    }),
  "repositories.revealWebhookSecret": (s, w) =>
    s.api.repositories.revealWebhookSecret.mutate({ repositoryId: w.gitops.spare }),
  "repositories.regenerateWebhookSecret": (s, w) =>
    s.api.repositories.regenerateWebhookSecret.mutate({ repositoryId: w.gitops.spare }),
  "repositories.disconnect": (s, w) => s.api.repositories.disconnect.mutate({ repositoryId: w.gitops.spare }),
  "environments.create": (s, w) =>
    s.api.environments.create.mutate({
      projectId: w.project,
      name: "qa",
      type: "testing",
      gitops: { enabled: false, repositoryId: null, branch: null, path: null, syncInterval: "5m", autoSync: false },
    }),
  "environments.createSuggested": (s, w) =>
    s.api.environments.createSuggested.mutate({ projectId: w.project, repositoryId: w.gitops.repo }),
  "environments.createSuggestedBranch": (s, w) =>
    s.api.environments.createSuggestedBranch.mutate({
      projectId: w.project,
      repositoryId: w.gitops.repo,
      name: "development",
    }),
  "environments.update": (s, w) =>
    s.api.environments.update.mutate({
      environmentId: w.gitops.editMe,
      name: "edited",
      type: "staging",
      gitops: { enabled: false, repositoryId: null, branch: null, path: null, syncInterval: "1h", autoSync: false },
    }),
  "environments.setGrants": (s, w) =>
    s.api.environments.setGrants.mutate({
      environmentId: w.gitops.editMe,
      grants: [{ subjectType: "user", subjectId: projectTargets.change.id, permission: "deploy" }],
    }),
  "environments.reorder": async (s, w) => {
    // The project's environments as they are at the call (others create and delete some), last first.
    const rows = await back.handle.db
      .select({ id: environments.id })
      .from(environments)
      .where(eq(environments.projectId, w.project))
      .orderBy(environments.position);
    return s.api.environments.reorder.mutate({ projectId: w.project, order: rows.map((r) => r.id).reverse() });
  },
  "environments.acknowledgeBypass": (s, w) =>
    s.api.environments.acknowledgeBypass.mutate({ environmentId: w.gitops.prod }),
  "environments.delete": (s, w) => s.api.environments.delete.mutate({ environmentId: w.gitops.doomed }),
  "clusters.register": (s, w) =>
    s.api.clusters.register.mutate({
      organizationId: w.org.id,
      name: `registered-${w.tag}`,
      connection: { type: "kubeconfig", kubeconfig: plainSim.kubeconfig() },
    }),
  "clusters.update": (s, w) =>
    s.api.clusters.update.mutate({ clusterId: w.clusters.main, description: `changed by ${w.tag}` }),
  "clusters.check": async (s, w) => {
    const c = await s.api.clusters.check.mutate({ clusterId: w.clusters.main });
    expect(c.status).toBe("connected");
  },
  "clusters.installFlux": async (s, w) => {
    const op = await s.api.clusters.installFlux.mutate({
      clusterId: w.clusters.install,
      source: "upload",
      manifest: uploadedManifest,
    });
    expect(op).toMatchObject({ action: "install", source: "upload" });
    await flushFluxOperation(op.id);
    // The uploaded manifest was applied to the cluster.
    expect(plainSim.store.tryGet(plainSim.type("v1", "ConfigMap"), "default", "perm-matrix-upload")).toBeDefined();
  },
  "clusters.restoreFlux": async (s, w) => {
    const op = await s.api.clusters.restoreFlux.mutate(w.clusters.restore);
    expect(op).toMatchObject({ action: "upgrade", source: "previous" });
    await flushFluxOperation(op.id);
  },
  "clusters.adoptFlux": async (s, w) => {
    const op = await s.api.clusters.adoptFlux.mutate({ clusterId: w.clusters.flux.id });
    expect(op).toMatchObject({ action: "adopt", status: "succeeded" });
  },
  "environments.fluxAction": async (s, w) => {
    const r = await s.api.environments.fluxAction.mutate({ environmentId: w.clusters.fluxEnv, action: "sync" });
    expect(r.token).toBeTruthy();
  },
  "clusters.uninstallFlux": async (s, w) => {
    const op = await s.api.clusters.uninstallFlux.mutate({
      clusterId: w.clusters.flux.id,
      confirmName: w.clusters.flux.name,
    });
    expect(op.action).toBe("uninstall");
    await flushFluxOperation(op.id);
  },
  "clusters.delete": async (s, w) => {
    await s.api.clusters.delete.mutate({ clusterId: w.clusters.doomed });
    expect((await bossSession.api.clusters.list.query({ organizationId: w.org.id })).map((c) => c.id)).not.toContain(
      w.clusters.doomed,
    );
  },
  "deployments.request": (s, w) =>
    s.api.deployments.request.mutate({ environmentId: w.gitops.dev, spec: { replicas: 5 }, message: w.tag }),
  "deployments.approve": (s, w) => s.api.deployments.approve.mutate({ deploymentId: w.gitops.toApprove }),
  "deployments.reject": (s, w) =>
    s.api.deployments.reject.mutate({ deploymentId: w.gitops.toReject, comment: "not today" }),
  "deployments.cancel": (s, w) => s.api.deployments.cancel.mutate({ deploymentId: w.gitops.toCancel }),
  "deployments.breakGlass": (s, w) =>
    s.api.deployments.breakGlass.mutate({ deploymentId: w.gitops.toBreakGlass, reason: "incident" }),
  "deployments.requestAgain": (s, w) =>
    s.api.deployments.requestAgain.mutate({ deploymentId: w.gitops.toRequestAgain }),
  // The retried commit job runs now: let it finish before the destructive calls that follow delete its rows.
  "deployments.retry": async (s, w) => {
    const stuck = await insertStuckDeployment(w.project, w.gitops.prod, w.gitops.repo);
    await s.api.deployments.retry.mutate({ deploymentId: stuck });
    await waitFor(
      () => back.count(sql`select 1 from graphile_worker.jobs where key = ${`deployment.commit:${stuck}`}`),
      (n) => n === 0,
    );
  },
  "deployments.rollback": (s, w) => s.api.deployments.rollback.mutate({ deploymentId: w.gitops.rollbackTarget }),
  "deployments.createManual": (s, w) =>
    s.api.deployments.createManual.mutate({ environmentId: w.gitops.dev, version: "1.0.0", strategy: "rolling" }),
  "deployments.reportManual": (s, w) =>
    s.api.deployments.reportManual.mutate({ deploymentId: w.gitops.manual, event: "start" }),
  "projects.archive": (s, w) => s.api.projects.archive.mutate({ projectId: w.project }),
  "projects.restore": (s, w) => s.api.projects.restore.mutate({ projectId: w.project }),
  "teams.delete": (s, w) => s.api.teams.delete.mutate({ teamId: w.doomedTeam }),
  "orgs.delete": (s, w) => s.api.orgs.delete.mutate({ organizationId: w.org.id, confirmSlug: w.org.slug }),
  "auth.signIn": (s, w) => s.api.auth.signIn.mutate({ login: w.user.username, password }),
  // Signs out a second session of the same user (the role's own session is still needed).
  "auth.signOut": async (_s, w) => {
    const other = await signIn(server, w.user);
    await other.api.auth.signOut.mutate();
    expect(await other.api.auth.me.query()).toBeNull();
  },
};

/** How to call the permission-checked unaudited mutations. */
const guardedCalls: Record<string, (s: Session, w: World) => Promise<unknown>> = {
  "deployments.preview": (s, w) =>
    s.api.deployments.preview.mutate({ environmentId: w.gitops.dev, spec: { image: "ghcr.io/acme/app:7.0.0" } }),
};

interface ProcedureDef {
  type: "query" | "mutation" | "subscription";
  meta?: Meta;
}
// At runtime `_def.procedures` is flat (dotted path → procedure); its static type is the nested router.
const flat = appRouter._def.procedures as unknown as Record<string, { _def: ProcedureDef }>;
const procedures = Object.entries(flat).map(([path, p]) => ({ path, type: p._def.type, action: p._def.meta?.action }));
const mutations = procedures.filter((p) => p.type === "mutation");
const actionOf = (path: string) => mutations.find((m) => m.path === path)?.action;

describe("every mutation is accounted for", () => {
  it("finds the API's procedures", () => {
    // Guards the walk itself: an empty or partial list would make every check below pass vacuously.
    expect(mutations.length).toBeGreaterThanOrEqual(Object.keys(expected).length);
    expect(procedures.some((p) => p.type === "query")).toBe(true);
  });

  it("names the audited action it performs, or is allowlisted as unaudited with a reason", () => {
    const unexplained = mutations.filter((m) => !m.action && !(m.path in unaudited)).map((m) => m.path);
    expect(unexplained, "mutations without meta.action and not allowlisted").toEqual([]);
    for (const path of Object.keys(unaudited)) {
      expect(actionOf(path), `${path} is allowlisted as unaudited`).toBeUndefined();
      expect(mutations.map((m) => m.path)).toContain(path);
    }
    for (const path of Object.keys(guardedUnaudited)) expect(unaudited).toHaveProperty([path]);
    expect(Object.keys(guardedCalls).sort()).toEqual(Object.keys(guardedUnaudited).sort());
  });

  it("has a row in the permission table and a way to be called", () => {
    const audited = mutations.filter((m) => m.action).map((m) => m.path);
    expect(
      audited.filter((p) => !(p in expected)),
      "missing from `expected`",
    ).toEqual([]);
    expect(
      Object.keys(expected).filter((p) => !audited.includes(p)),
      "in `expected` but not an audited mutation",
    ).toEqual([]);
    expect(Object.keys(calls).sort()).toEqual(Object.keys(expected).sort());
  });
});

describe.each(roles.map((role, i) => ({ role, tag: `r${i}` })))("as $role", ({ role, tag }) => {
  let world: World;
  beforeAll(() => {
    world = worlds.get(role)!;
  });

  it.each(Object.entries(guardedUnaudited).map(([path, byRole]) => ({ path, want: byRole[role] })))(
    "$path → $want, and is never audited",
    async ({ path, want }) => {
      const before = await lastAuditId(back);
      const refs = () => git.git(`${tag}/app`, ["for-each-ref", "--format=%(refname) %(objectname)"]);
      const heads = await refs();
      const call = guardedCalls[path]!(world.session, world);
      if (want === "ok") {
        await call;
      } else {
        const err = await failure(call);
        const [status, ...words] = want.split(" ");
        expect(err.httpStatus).toBe(Number(status));
        if (status === "403") expect(err.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: words.join(" ") });
        else expect(err.juanie.code).toBe("NOT_FOUND");
      }
      expect(await refs()).toBe(heads); // a dry run: nothing pushed
      // Commit jobs of earlier calls may write their own entries meanwhile: none may be the caller's.
      expect((await auditSince(back, before)).filter((e) => e.actorId === world.user.id)).toEqual([]);
    },
  );

  it.each(Object.entries(expected).map(([path, byRole]) => ({ path, want: byRole[role] })))(
    "$path → $want",
    async ({ path, want }) => {
      const action = actionOf(path)!;
      const before = await lastAuditId(back);
      // A copy of the session: sign-in and sign-up replace the cookie, the role's own session must stay.
      const s = new Session(server.url);
      s.cookie = world.session.cookie;
      const call = calls[path]!(s, world);
      // Some mutations audit a sub-action, named by their input: environment.flux → environment.flux.sync.
      const entries = async () =>
        (await auditSince(back, before)).filter((e) => e.action === action || e.action.startsWith(`${action}.`));

      if (want === "ok") {
        await call;
        expect((await entries()).map((e) => e.result)).toContain("success");
        return;
      }
      const err = await failure(call);
      if (want === "409") {
        expect(err.juanie.code).toBe("CONFLICT");
        expect(err.httpStatus).toBe(409);
        expect((await entries()).map((e) => e.result)).toEqual(["failed"]);
        return;
      }
      const [status, ...words] = want.split(" ");
      const required = words.join(" ");
      if (status === "403") {
        expect(err.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: required });
        expect(err.httpStatus).toBe(403);
        expect(err.message).toContain(required);
      } else {
        // Hidden: nothing in the answer tells an outsider that the resource exists or what it takes.
        expect(err.juanie.code).toBe("NOT_FOUND");
        expect(err.httpStatus).toBe(404);
        expect(err.juanie.requiredRole).toBeUndefined();
        expect(err.message).toMatch(/^(Organization|Team|Project) not found$/);
      }
      const denied = await entries();
      expect(denied).toHaveLength(1);
      expect(denied[0]).toMatchObject({ result: "denied", actorId: world.user.id });
      expect(denied[0]!.reason).toContain(`requires ${required}`);
    },
  );
});

describe("roles cannot be stretched", () => {
  it("the requester can neither approve nor reject their own deployment, not even as organization admin", async () => {
    // In the outsider's world nothing was approved: boss's requests still wait.
    const w = worlds.get("non-member")!;
    const before = await lastAuditId(back);
    const approve = await failure(bossSession.api.deployments.approve.mutate({ deploymentId: w.gitops.toApprove }));
    expect(approve.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: "another eligible approver" });
    const reject = await failure(
      bossSession.api.deployments.reject.mutate({ deploymentId: w.gitops.toReject, comment: "mine" }),
    );
    expect(reject.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: "another eligible approver" });
    // A developer may deploy, approve and cancel their own, but not cancel someone else's.
    const developer = await signIn(server, projectTargets.change);
    const cancel = await failure(developer.api.deployments.cancel.mutate({ deploymentId: w.gitops.toApprove }));
    expect(cancel.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: "environment admin permission" });
    // (Commit jobs of other worlds, whose organizations were deleted meanwhile, may log as the system.)
    const entries = (await auditSince(back, before)).filter((e) => e.action.startsWith("deployment.") && e.actorId);
    expect(entries.map((e) => [e.action, e.result, e.actorId])).toEqual([
      ["deployment.approve", "denied", boss.id],
      ["deployment.reject", "denied", boss.id],
      ["deployment.cancel", "denied", projectTargets.change.id],
    ]);
    const d = await bossSession.api.deployments.get.query({ deploymentId: w.gitops.toApprove });
    expect(d).toMatchObject({ status: "awaiting_approval", approvals: [], canApprove: false });
  });

  it("explicit grants lock an environment down: only granted users deploy, a granted viewer too", async () => {
    const w = worlds.get("non-member")!;
    const developer = await signIn(server, projectTargets.change);
    const viewer = await signIn(server, projectTargets.remove);
    const manual = (s: Session) => s.api.deployments.createManual.mutate({ environmentId: w.gitops.dev, version: "9" });
    expect((await failure(manual(viewer))).juanie.requiredRole).toBe("environment deploy permission");
    await manual(developer);
    await bossSession.api.environments.setGrants.mutate({
      environmentId: w.gitops.dev,
      grants: [{ subjectType: "user", subjectId: projectTargets.remove.id, permission: "deploy" }],
    });
    await manual(viewer);
    const denied = await failure(manual(developer));
    expect(denied.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: "environment deploy permission" });
    expect(denied.message).toContain("you have environment read permission");
    const envs = await developer.api.environments.list.query({ projectId: w.project });
    expect(envs.find((e) => e.id === w.gitops.dev)?.myPermission).toBe("read");
  });

  it("an organization member who is removed loses access to the organization's projects", async () => {
    const org = await createOrganization(back.deps, actorFor(boss), { name: "Leavers", slug: "leavers" });
    const leaver = await createUser(back, "leaver");
    await back.handle.db
      .insert(organizationMembers)
      .values({ organizationId: org.id, userId: leaver.id, role: "member" });
    const project = await createProject(back.deps, actorFor(boss), {
      organizationId: org.id,
      name: "Secret",
      slug: "secret",
      description: "",
      visibility: "private",
    });
    const bossSession = await signIn(server, boss);
    await bossSession.api.projects.addMember.mutate({ projectId: project.id, userId: leaver.id, role: "maintainer" });
    const s = await signIn(server, leaver);
    const ref = { organizationSlug: "leavers", slug: "secret" };
    expect(await s.api.projects.bySlug.query(ref)).toMatchObject({ myRole: "maintainer" });

    await bossSession.api.orgs.removeMember.mutate({ organizationId: org.id, userId: leaver.id });

    expect((await failure(s.api.projects.bySlug.query(ref))).juanie.code).toBe("NOT_FOUND");
    const update = s.api.projects.update.mutate({
      projectId: project.id,
      name: "Mine now",
      description: "",
      visibility: "public",
    });
    expect((await failure(update)).juanie.code).toBe("NOT_FOUND");
    expect((await s.api.projects.list.query({})).items).toEqual([]);
    const access = await bossSession.api.projects.access.query({ projectId: project.id });
    expect(access.members.map((m) => m.user.username)).toEqual(["boss"]);
  });

  it("a team maintainer manages members but cannot hand out the owner role, not even to themselves", async () => {
    const org = await createOrganization(back.deps, actorFor(boss), { name: "Teams", slug: "owners" });
    const maintainer = await createUser(back, "maint");
    const other = await createUser(back, "other");
    await back.handle.db.insert(organizationMembers).values([
      { organizationId: org.id, userId: maintainer.id, role: "member" },
      { organizationId: org.id, userId: other.id, role: "member" },
    ]);
    const team = await createTeam(back.deps, actorFor(boss), {
      organizationId: org.id,
      name: "Ops",
      slug: "ops",
      description: "",
    });
    await back.handle.db.insert(teamMembers).values({ teamId: team.id, userId: maintainer.id, role: "maintainer" });
    const s = await signIn(server, maintainer);

    await s.api.teams.addMember.mutate({ teamId: team.id, userId: other.id, role: "maintainer" });
    const promoteSelf = await failure(
      s.api.teams.changeMemberRole.mutate({ teamId: team.id, userId: maintainer.id, role: "owner" }),
    );
    expect(promoteSelf.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: "team owner" });
    const promoteOther = await failure(
      s.api.teams.changeMemberRole.mutate({ teamId: team.id, userId: other.id, role: "owner" }),
    );
    expect(promoteOther.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: "team owner" });
    expect((await failure(s.api.teams.delete.mutate({ teamId: team.id }))).juanie.requiredRole).toBe("team owner");
    const members = await s.api.teams.members.query({ teamId: team.id });
    expect(members.map((m) => [m.user.username, m.role])).toEqual([
      ["maint", "maintainer"],
      ["other", "maintainer"],
    ]);

    // An organization admin may make owners, and then the new owner may delete the team.
    const bossSession = await signIn(server, boss);
    await bossSession.api.teams.changeMemberRole.mutate({ teamId: team.id, userId: maintainer.id, role: "owner" });
    await s.api.teams.delete.mutate({ teamId: team.id });
    expect((await s.api.teams.list.query({ organizationId: org.id })).map((t) => t.slug)).toEqual([]);
  });
});
