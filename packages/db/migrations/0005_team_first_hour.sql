CREATE TABLE "notification_mutes" (
	"user_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notification_mutes_user_id_project_id_pk" PRIMARY KEY("user_id","project_id")
);
--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "number" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "promoted_from_id" uuid;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "bypassed_approval" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "position" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "deployment_seq" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "notification_mutes" ADD CONSTRAINT "notification_mutes_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_mutes" ADD CONSTRAINT "notification_mutes_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Existing deployments are numbered in the order they were made, per project.
UPDATE "deployments" d SET "number" = n.rn
  FROM (SELECT "id", row_number() OVER (PARTITION BY "project_id" ORDER BY "created_at", "id") AS rn FROM "deployments") n
  WHERE d."id" = n."id";--> statement-breakpoint
UPDATE "projects" p SET "deployment_seq" = coalesce((SELECT max("number") FROM "deployments" d WHERE d."project_id" = p."id"), 0);--> statement-breakpoint
-- Existing environments take the default promotion order: development, testing, staging, production, then by age.
UPDATE "environments" e SET "position" = o.rn
  FROM (SELECT "id", row_number() OVER (PARTITION BY "project_id" ORDER BY
          CASE "type" WHEN 'development' THEN 0 WHEN 'testing' THEN 1 WHEN 'staging' THEN 2 ELSE 3 END, "created_at", "id") - 1 AS rn
        FROM "environments") o
  WHERE e."id" = o."id";--> statement-breakpoint
-- A deployment's number comes from its project's counter; the row lock on the project serialises concurrent inserts.
CREATE FUNCTION "deployments_assign_number"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "projects" SET "deployment_seq" = "deployment_seq" + 1 WHERE "id" = NEW."project_id" RETURNING "deployment_seq" INTO NEW."number";
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER "deployments_number" BEFORE INSERT ON "deployments" FOR EACH ROW EXECUTE FUNCTION "deployments_assign_number"();--> statement-breakpoint
CREATE UNIQUE INDEX "deployments_project_number_key" ON "deployments" USING btree ("project_id","number");
