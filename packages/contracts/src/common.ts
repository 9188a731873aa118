import { z } from "zod";

/** A DNS-1123 label: what Kubernetes accepts as a namespace or object name. */
export const slugSchema = z
  .string()
  .trim()
  .min(2, { message: "must be at least 2 characters" })
  .max(63, { message: "must be at most 63 characters" })
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
    message: "must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit",
  });

export const nameSchema = z.string().trim().min(1, { message: "is required" }).max(100, {
  message: "must be at most 100 characters",
});
export const descriptionSchema = z.string().trim().max(2000, { message: "must be at most 2000 characters" });
export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, { message: "must be at most 254 characters" })
  .pipe(z.email({ message: "must be a valid e-mail address" }));
export const usernameSchema = z
  .string()
  .trim()
  .min(2, { message: "must be at least 2 characters" })
  .max(39, { message: "must be at most 39 characters" })
  .regex(/^[a-zA-Z0-9]([a-zA-Z0-9-_.]*[a-zA-Z0-9])?$/, {
    message: "may contain letters, digits, '-', '_' and '.', and must start and end with a letter or digit",
  });
export const passwordSchema = z
  .string()
  .min(10, { message: "must be at least 10 characters" })
  .max(256, { message: "must be at most 256 characters" });
export const uuidSchema = z.uuid({ message: "must be a UUID" });
export const cursorSchema = z.string().max(200).nullish();
export const limitSchema = z.number().int().min(1).max(200).default(50);

export const isoDate = z.string();

export function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export const okSchema = z.object({ ok: z.literal(true) });
