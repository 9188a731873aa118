import { type ChildProcess, execFile, spawn } from "node:child_process";
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const SSHD = "/usr/sbin/sshd";

export interface SshTestServer {
  port: number;
  user: string;
  /** A key that may fetch and push. */
  privateKey: string;
  /** A key that may only fetch (rejected like a read-only GitHub deploy key). */
  readOnlyKey: string;
  /** A key the server does not know. */
  strangerKey: string;
  /** `[127.0.0.1]:port ssh-ed25519 ...`, a known_hosts line for this server. */
  knownHosts: string;
  close(): Promise<void>;
}

/** Whether this machine can run the fixture (OpenSSH server installed, e.g. `apt-get install openssh-server`). */
export async function canRunSshd(): Promise<boolean> {
  return access(SSHD).then(
    () => true,
    () => false,
  );
}

/**
 * A real OpenSSH server on a loopback port, for tests only: its own host key and authorized_keys,
 * each key restricted to running git-upload-pack / git-receive-pack.
 */
export async function startSshTestServer(): Promise<SshTestServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "juanie-sshd-"));
  const keygen = (name: string) =>
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path.join(dir, name)]);
  await Promise.all(["host", "writer", "reader", "stranger"].map(keygen));
  const gate = async (name: string, allowed: string) => {
    const script = path.join(dir, name);
    await writeFile(
      script,
      [
        "#!/bin/sh",
        'case "$SSH_ORIGINAL_COMMAND" in',
        `  ${allowed}) exec sh -c "$SSH_ORIGINAL_COMMAND" ;;`,
        '  "git-receive-pack "*) echo "ERROR: The key you are authenticating with has been marked as read only." >&2; exit 1 ;;',
        '  *) echo "ERROR: only git commands" >&2; exit 1 ;;',
        "esac",
        "",
      ].join("\n"),
    );
    await chmod(script, 0o755);
    return script;
  };
  const writerGate = await gate("writer-gate.sh", '"git-upload-pack "*|"git-receive-pack "*');
  const readerGate = await gate("reader-gate.sh", '"git-upload-pack "*');
  const pub = (name: string) => readFile(path.join(dir, `${name}.pub`), "utf8").then((s) => s.trim());
  await writeFile(
    path.join(dir, "authorized_keys"),
    `restrict,command="${writerGate}" ${await pub("writer")}\nrestrict,command="${readerGate}" ${await pub("reader")}\n`,
  );
  const port = await freePort();
  const user = os.userInfo().username;
  await writeFile(
    path.join(dir, "sshd_config"),
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${path.join(dir, "host")}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      `AllowUsers ${user}`,
      "StrictModes no",
      "UsePAM no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "PermitRootLogin prohibit-password",
      "LogLevel ERROR",
      "",
    ].join("\n"),
  );
  // As root, sshd wants its privilege separation directory (normally made by the service unit).
  if (process.getuid?.() === 0) await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const sshd: ChildProcess = spawn(SSHD, ["-D", "-e", "-f", path.join(dir, "sshd_config")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  sshd.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  await waitForPort(port, () => log);
  const hostKey = await pub("host");
  return {
    port,
    user,
    privateKey: await readFile(path.join(dir, "writer"), "utf8"),
    readOnlyKey: await readFile(path.join(dir, "reader"), "utf8"),
    strangerKey: await readFile(path.join(dir, "stranger"), "utf8"),
    knownHosts: `[127.0.0.1]:${port} ${hostKey.split(" ").slice(0, 2).join(" ")}`,
    async close() {
      sshd.kill("SIGTERM");
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address ? address.port : 0;
}

async function waitForPort(port: number, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sshd did not start: ${log()}`);
}
