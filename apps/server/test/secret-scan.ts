import { readdir, readFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import type { Database } from "@juanie/db";
import { sql } from "drizzle-orm";

/** Every row of every table (ours and the job queue's), as text: what a database dump would hand out. */
export async function dumpDatabase(db: Database): Promise<string> {
  const tables = await db.execute<{ s: string; t: string }>(
    sql`select table_schema as s, table_name as t from information_schema.tables
        where table_schema in ('public', 'graphile_worker', 'drizzle') and table_type = 'BASE TABLE'`,
  );
  const out: string[] = [];
  for (const { s, t } of tables.rows) {
    const rows = await db.execute<{ r: string }>(
      sql`select x::text as r from ${sql.identifier(s)}.${sql.identifier(t)} x`,
    );
    out.push(`${s}.${t}`, ...rows.rows.map((r) => r.r));
  }
  return out.join("\n");
}

/** Files under `dir` whose bytes contain `needle` (relative paths). */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  const want = Buffer.from(needle);
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else if (entry.isFile() && (await readFile(p).catch(() => Buffer.alloc(0))).includes(want)) {
        found.push(path.relative(dir, p));
      }
    }
  };
  await walk(dir);
  return found;
}

/** All files under `dir` (relative paths). */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  await walk(dir);
  return out;
}

export interface SmtpSink {
  url: string;
  /** Messages received (headers and body as sent, quoted-printable soft breaks undone). */
  messages: string[];
  /** While set, the answer to a message's DATA waits for `release()`. */
  hold(): void;
  release(): void;
  /** Resolves when a message's data has arrived (before it is answered, when held). */
  arrived(): Promise<void>;
  close(): Promise<void>;
}

/** A minimal SMTP server on loopback (no TLS, no auth): enough for nodemailer to deliver to. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: string[] = [];
  let gate: Promise<void> | null = null;
  let open: (() => void) | null = null;
  let onArrival: (() => void)[] = [];
  const server = net.createServer((socket) => {
    let buffer = "";
    let inData = false;
    socket.write("220 sink ESMTP\r\n");
    socket.on("data", async (chunk) => {
      buffer += chunk.toString("utf8");
      for (;;) {
        if (inData) {
          const end = buffer.indexOf("\r\n.\r\n");
          if (end < 0) return;
          const raw = buffer.slice(0, end);
          buffer = buffer.slice(end + 5);
          inData = false;
          messages.push(
            raw
              .replace(/=\r\n/g, "")
              .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
          );
          for (const fn of onArrival) fn();
          onArrival = [];
          if (gate) await gate;
          socket.write("250 queued\r\n");
          continue;
        }
        const nl = buffer.indexOf("\r\n");
        if (nl < 0) return;
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO" || verb === "HELO") socket.write("250-sink\r\n250 8BITMIME\r\n");
        else if (verb === "DATA") {
          inData = true;
          socket.write("354 go ahead\r\n");
        } else if (verb === "QUIT") socket.end("221 bye\r\n");
        else socket.write("250 ok\r\n");
      }
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    hold() {
      gate = new Promise((r) => {
        open = r;
      });
    },
    release() {
      open?.();
      gate = null;
    },
    arrived: () => new Promise((r) => onArrival.push(r)),
    close: () => new Promise((r) => server.close(() => r())),
  };
}
