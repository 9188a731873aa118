CREATE TABLE "clusters" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"connection" text NOT NULL,
	"kubeconfig" text,
	"context" text,
	"server" text,
	"status" text DEFAULT 'unknown' NOT NULL,
	"status_reason" text,
	"status_message" text,
	"server_version" text,
	"nodes_total" integer,
	"nodes_ready" integer,
	"simulated" boolean DEFAULT false NOT NULL,
	"last_checked_at" timestamp with time zone,
	"flux_namespace" text DEFAULT 'flux-system' NOT NULL,
	"flux_mirror_url" text,
	"watch_state" text DEFAULT 'stopped' NOT NULL,
	"watch_error" text,
	"flux_health" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "flux_operations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"cluster_id" uuid NOT NULL,
	"action" text NOT NULL,
	"version" text,
	"source" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"progress" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"manifest" text,
	"error" text,
	"requested_by_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "gitops_resources" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"cluster_id" uuid NOT NULL,
	"environment_id" uuid,
	"api_version" text NOT NULL,
	"kind" text NOT NULL,
	"namespace" text NOT NULL,
	"name" text NOT NULL,
	"uid" text,
	"state" text NOT NULL,
	"reason" text,
	"message" text,
	"artifact_revision" text,
	"applied_revision" text,
	"attempted_revision" text,
	"requested_at" text,
	"last_handled_reconcile_at" text,
	"last_reconcile_at" timestamp with time zone,
	"suspended" boolean DEFAULT false NOT NULL,
	"generation" integer,
	"observed_generation" integer,
	"history" jsonb,
	"inventory_count" integer,
	"workloads" jsonb,
	"snapshot" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "fetched_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "applied_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "healthy_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "rollout_reason" text;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "rollout_message" text;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "workloads" jsonb;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "cluster_id" uuid;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "namespace" text;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "flux_name" text;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "prune" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "reconcile_timeout" text DEFAULT '5m' NOT NULL;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "wait_for_health" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "gitops_state" text DEFAULT 'off' NOT NULL;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "gitops_error" text;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "gitops_applied_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "clusters" ADD CONSTRAINT "clusters_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "flux_operations" ADD CONSTRAINT "flux_operations_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "flux_operations" ADD CONSTRAINT "flux_operations_requested_by_id_users_id_fk" FOREIGN KEY ("requested_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gitops_resources" ADD CONSTRAINT "gitops_resources_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gitops_resources" ADD CONSTRAINT "gitops_resources_environment_id_environments_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."environments"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "clusters_org_name_key" ON "clusters" USING btree ("organization_id","name");--> statement-breakpoint
CREATE INDEX "flux_operations_cluster_idx" ON "flux_operations" USING btree ("cluster_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "gitops_resources_object_key" ON "gitops_resources" USING btree ("cluster_id","kind","namespace","name");--> statement-breakpoint
CREATE INDEX "gitops_resources_environment_idx" ON "gitops_resources" USING btree ("environment_id");--> statement-breakpoint
ALTER TABLE "environments" ADD CONSTRAINT "environments_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE set null ON UPDATE no action;