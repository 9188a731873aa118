// Preloaded (`node --import`) into the platform that `npm run demo` starts in its own process group: when the
// demo's process ends in any way — even `kill -9`, which runs no handler — the pipe on the platform's stdin
// closes, and the platform stops as on SIGTERM (in order, its embedded PostgreSQL last) instead of living on.
process.stdin.on("end", () => process.kill(process.pid, "SIGTERM"));
process.stdin.on("error", () => process.kill(process.pid, "SIGTERM"));
process.stdin.resume();
