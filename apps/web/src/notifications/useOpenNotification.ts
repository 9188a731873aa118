import type { Notification } from "@juanie/contracts";
import { useRouter } from "vue-router";
import { useMarkRead } from "./useNotifications.ts";

/** Opening a notification marks it read and follows its in-app link. */
export function useOpenNotification() {
  const router = useRouter();
  const markRead = useMarkRead();
  return async (notification: Notification) => {
    if (notification.readAt === null) await markRead.run({ ids: [notification.id] });
    if (notification.link?.startsWith("/")) await router.push(notification.link);
  };
}
