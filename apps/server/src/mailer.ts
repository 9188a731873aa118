import type { Mailer } from "@juanie/domain";

/** E-mail through the configured SMTP server (nodemailer), or a mailer that reports it is not configured. */
export async function createMailer(smtpUrl: string | undefined, from: string): Promise<Mailer> {
  if (!smtpUrl) {
    return {
      configured: false,
      send: async () => {
        throw new Error("no SMTP server configured (JUANIE_SMTP_URL)");
      },
    };
  }
  const nodemailer = await import("nodemailer");
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    configured: true,
    async send(msg) {
      await transport.sendMail({ from, to: msg.to, subject: msg.subject, text: msg.text });
    },
  };
}
