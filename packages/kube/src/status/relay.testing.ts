import net from "node:net";

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  frozen: boolean;
}

/**
 * A TCP relay in front of the simulator, to play network trouble: `cut()` drops every connection and
 * refuses new ones (an outage); `freeze()` makes the open connections silently stop carrying data in
 * either direction, ends included, while new ones work (a half-open connection after a NAT timeout);
 * `blackhole()` freezes the open connections and accepts new ones that never answer (a dead route).
 */
export async function startRelay(target: string) {
  const { hostname, port } = new URL(target);
  const pairs = new Set<Pair>();
  let down = false;
  let blackhole = false;
  const held = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    if (blackhole) {
      held.add(client);
      client.on("error", () => {}).on("close", () => held.delete(client));
      return;
    }
    const upstream = net.connect(Number(port), hostname);
    const pair: Pair = { client, upstream, frozen: false };
    pairs.add(pair);
    client.pipe(upstream).pipe(client);
    const end = () => {
      if (pair.frozen) return; // nobody tells the client
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address() as net.AddressInfo;
  const destroy = (p: Pair) => {
    p.client.destroy();
    p.upstream.destroy();
    pairs.delete(p);
  };
  return {
    url: `https://127.0.0.1:${address.port}`,
    /** Connections made through the relay so far that are still open. */
    get open() {
      return pairs.size;
    },
    cut() {
      down = true;
      for (const p of [...pairs]) destroy(p);
    },
    restore() {
      down = false;
      blackhole = false;
      for (const s of held) s.destroy();
    },
    blackhole() {
      blackhole = true;
      this.freeze();
    },
    freeze() {
      for (const p of pairs) {
        p.frozen = true;
        p.client.unpipe(p.upstream);
        p.upstream.unpipe(p.client);
        p.upstream.destroy();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const p of [...pairs]) destroy(p);
        for (const s of held) s.destroy();
        server.close(() => resolve());
      }),
  };
}
