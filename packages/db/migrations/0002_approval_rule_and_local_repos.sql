ALTER TYPE "public"."repository_auth" ADD VALUE 'none';--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "required_approvals" integer;