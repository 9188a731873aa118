import { repositories } from "@juanie/db";
import { eq } from "drizzle-orm";
import type { Actor, GitOpsDeps } from "../shared/deps.ts";
import { NotFoundError } from "../shared/errors.ts";
import { randomToken } from "../shared/ids.ts";
import { mutate } from "../shared/mutation.ts";
import { authorizeRepository, providerFailure, webhookUrl } from "./service.ts";

export interface WebhookSecret {
  /** Where the Git host sends push events … */
  webhookUrl: string;
  /** … signed with this (GitHub: HMAC `X-Hub-Signature-256`; GitLab: sent as `X-Gitlab-Token`). */
  secret: string;
}

/**
 * The webhook secret in clear, for a maintainer adding the webhook at the Git host by hand. Only to those
 * who may manage the repository, and audited: whoever holds it can trigger syncs.
 */
export async function revealWebhookSecret(
  deps: GitOpsDeps,
  actor: Actor,
  repositoryId: string,
): Promise<WebhookSecret> {
  return mutate(
    deps,
    { actor },
    { action: "repository.reveal_webhook_secret", resourceType: "repository" },
    async (tx, audit) => {
      const { repo } = await authorizeRepository(tx, actor, repositoryId, audit);
      return { webhookUrl: webhookUrl(deps.config.publicUrl, repo), secret: deps.secrets.decrypt(repo.webhookSecret) };
    },
  );
}

/**
 * A new webhook secret; the old one stops working at once. A webhook the platform registered is updated on
 * the provider first (with the repository's token), so it keeps working; one added by hand must be given
 * the new secret at the Git host.
 */
export async function regenerateWebhookSecret(
  deps: GitOpsDeps,
  actor: Actor,
  repositoryId: string,
): Promise<WebhookSecret> {
  const secret = randomToken(24);
  return mutate(
    deps,
    { actor },
    { action: "repository.regenerate_webhook_secret", resourceType: "repository" },
    async (tx, audit) => {
      const { repo } = await authorizeRepository(tx, actor, repositoryId, audit);
      const url = webhookUrl(deps.config.publicUrl, repo);
      // The row is locked while the provider is told: a concurrent regeneration waits for this one.
      await tx.select({ id: repositories.id }).from(repositories).where(eq(repositories.id, repo.id)).for("update");
      const registered =
        repo.webhookId && repo.provider !== "git" && repo.apiUrl && repo.fullName && repo.authType === "token";
      if (registered) {
        await deps
          .providers({
            kind: repo.provider as "github" | "gitlab",
            apiUrl: repo.apiUrl!,
            token: deps.secrets.decrypt(repo.credential),
            timeoutMs: 10_000,
          })
          .updateWebhook(repo.fullName!, repo.webhookId!, { url, secret })
          .catch((err: unknown) => {
            throw providerFailure(err);
          });
      }
      const [row] = await tx
        .update(repositories)
        .set({ webhookSecret: deps.secrets.encrypt(secret), updatedAt: deps.clock.now() })
        .where(eq(repositories.id, repo.id))
        .returning({ id: repositories.id });
      if (!row) throw new NotFoundError("Repository");
      audit.changes = { after: { webhookSecret: "regenerated", providerUpdated: !!registered } };
      return { webhookUrl: url, secret };
    },
  );
}
