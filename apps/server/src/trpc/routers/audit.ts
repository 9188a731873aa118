import * as c from "@juanie/contracts";
import { listAuditEntries } from "@juanie/domain";
import { authedProcedure, router } from "../trpc.ts";

export const auditRouter = router({
  list: authedProcedure
    .input(c.listAuditInput)
    .output(c.auditPage)
    .query(({ ctx, input }) => listAuditEntries(ctx.deps, ctx.actor, input)),
});
