// Bulk data for the API benchmark, written in SQL with generate_series straight into the server's database.
import type pg from "pg";

/** Audited actions with their resource type, what they touch, and a weight (per mille). */
const actions: [action: string, resourceType: string, scope: "auth" | "user" | "org" | "project", weight: number][] = [
  ["auth.sign_in", "session", "auth", 200],
  ["auth.sign_out", "session", "auth", 50],
  ["user.update_profile", "user", "user", 10],
  ["user.change_password", "user", "user", 10],
  ["project.update", "project", "project", 150],
  ["project.create", "project", "project", 40],
  ["project.archive", "project", "project", 10],
  ["project.restore", "project", "project", 5],
  ["project.member.add", "project", "project", 90],
  ["project.member.change_role", "project", "project", 50],
  ["project.member.remove", "project", "project", 25],
  ["project.team.grant", "project", "project", 40],
  ["project.team.revoke", "project", "project", 10],
  ["team.create", "team", "org", 15],
  ["team.update", "team", "org", 10],
  ["team.delete", "team", "org", 5],
  ["team.member.add", "team", "org", 80],
  ["team.member.change_role", "team", "org", 15],
  ["team.member.remove", "team", "org", 20],
  ["org.create", "organization", "org", 5],
  ["org.update", "organization", "org", 10],
  ["org.member.change_role", "organization", "org", 15],
  ["org.member.remove", "organization", "org", 10],
  ["invitation.create", "invitation", "org", 60],
  ["invitation.accept", "invitation", "org", 50],
  ["invitation.revoke", "invitation", "org", 10],
  ["invitation.decline", "invitation", "org", 5],
];

export const rareAction = "project.archive";

export async function seed(db: pg.Client, orgId: string, adminId: string, projects: number, auditRows: number) {
  await db.query("select setseed(0.42)");
  await db.query("begin");
  // 19 more people in the organization, so audit rows have varied actors.
  await db.query(
    `insert into users (email, username, display_name)
     select 'bench-user-' || g || '@example.test', 'bench-user-' || g, 'Bench User ' || g from generate_series(1, 19) g`,
  );
  await db.query(
    `insert into organization_members (organization_id, user_id, role)
     select $1, id, 'member' from users where username like 'bench-user-%'`,
    [orgId],
  );
  await db.query(
    `insert into projects (organization_id, slug, name, description, visibility, status, created_by_id, created_at, updated_at)
     select $1, 'project-' || lpad(g::text, 4, '0'), 'Project ' || g, 'Benchmark project number ' || g,
       (array['private', 'internal', 'public'])[1 + g % 3]::project_visibility,
       (case when g % 50 = 0 then 'archived' when g % 97 = 0 then 'suspended' else 'active' end)::project_status,
       $2, t, t
     from generate_series(1, $3::int) g, lateral (select now() - interval '90 days' + g * (interval '90 days' / $3::int)) c(t)`,
    [orgId, adminId, projects],
  );
  await db.query(
    `insert into project_members (project_id, user_id, role)
     select p.id, $2, 'owner' from projects p where p.organization_id = $1
     union all
     select p.id, u.id, (array['maintainer', 'developer', 'viewer'])[1 + abs(hashtext(p.slug || u.username)) % 3]::project_role
     from projects p cross join users u
     where p.organization_id = $1 and u.username like 'bench-user-%' and abs(hashtext(p.slug || u.username)) % 5 = 0`,
    [orgId, adminId],
  );
  // Oldest first so ids grow with created_at, as they do in a live log; ~78 s apart over 90 days.
  await db.query(
    `with a as (
       select action, resource_type, scope, sum(w) over (order by action) - w as lo, sum(w) over (order by action) as hi
       from jsonb_to_recordset($4::jsonb) as v(action text, resource_type text, scope text, w int)
     ),
     u as (select array_agg(id order by username) ids, array_agg(username order by username) names from users),
     p as (select array_agg(id order by slug) ids from projects where organization_id = $1::uuid),
     s as (
       select g, random() r1, 1 + floor(random() * (select cardinality(ids) from u))::int ui, random() * 1000 ra,
         random() rr, 1 + floor(random() * $2::int)::int pi
       from generate_series(1, $3::int) g
     )
     insert into audit_logs (created_at, actor_id, actor_label, action, resource_type, resource_id, organization_id,
       project_id, changes, ip, user_agent, result, reason)
     select
       now() - interval '90 days' + s.g * (interval '90 days' / $3::int) + s.r1 * interval '60 seconds',
       case when a.action = 'auth.sign_in' and s.rr >= 0.94 then null else u.ids[s.ui] end,
       case when a.action = 'auth.sign_in' and s.rr >= 0.94 then 'unknown-' || s.g % 7 else u.names[s.ui] end,
       a.action, a.resource_type,
       case a.scope when 'project' then p.ids[s.pi]::text when 'org' then $1::uuid::text else u.ids[s.ui]::text end,
       case when a.scope in ('project', 'org') then $1::uuid end,
       case when a.scope = 'project' then p.ids[s.pi] end,
       case
         when a.action like '%.update' then jsonb_build_object(
           'before', jsonb_build_object('description', 'Description v' || s.g % 10),
           'after', jsonb_build_object('description', 'Description v' || (s.g % 10 + 1)))
         when a.action like '%.create' then jsonb_build_object(
           'after', jsonb_build_object('name', 'Item ' || s.g, 'slug', 'item-' || s.g, 'visibility', 'private'))
         when a.action like '%member%' then jsonb_build_object(
           'after', jsonb_build_object('userId', u.ids[1 + s.g % cardinality(u.ids)], 'role', 'developer'))
         when a.scope = 'project' then jsonb_build_object(
           'before', jsonb_build_object('status', 'active'), 'after', jsonb_build_object('status', 'archived'))
       end,
       ('10.0.' || s.ui || '.' || (1 + s.g % 250))::inet,
       (array['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0',
              'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Chrome/126.0 Safari/537.36', 'juanie-cli/0.1'])[1 + s.g % 3],
       (case when s.rr < 0.94 then 'success' when s.rr < 0.985 then 'denied' else 'failed' end)::audit_result,
       case when s.rr >= 0.985 then 'Internal error' when s.rr >= 0.94 then 'Requires a higher role' end
     from s cross join u cross join p join a on s.ra >= a.lo and s.ra < a.hi
     order by s.g`,
    [
      orgId,
      projects,
      auditRows,
      JSON.stringify(actions.map(([action, resource_type, scope, w]) => ({ action, resource_type, scope, w }))),
    ],
  );
  await db.query("commit");
  // What autovacuum would do shortly after a bulk load; without it the planner guesses from empty tables.
  await db.query("analyze");
}
