CREATE TABLE "worker_instances" (
	"id" uuid PRIMARY KEY NOT NULL,
	"host_key" text NOT NULL,
	"pid" integer NOT NULL,
	"worker_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "push_shas" text[] DEFAULT '{}'::text[] NOT NULL;