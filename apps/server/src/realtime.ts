import { EventEmitter, on } from "node:events";
import { parseRealtimeEvent, type RealtimeEvent, realtimeChannel } from "@juanie/domain";
import pg from "pg";

/**
 * Fans Postgres NOTIFY events out to this process's subscribers (SSE streams).
 * Every replica listens, so an event published by any replica reaches every browser.
 */
export class Realtime {
  private readonly emitter = new EventEmitter();
  private client: pg.Client | null = null;
  private stopped = false;
  private readonly closing = new AbortController();

  constructor(
    private readonly connectionString: string,
    private readonly onError: (err: unknown) => void,
  ) {
    this.emitter.setMaxListeners(0);
  }

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on("notification", (msg) => {
      const event = parseRealtimeEvent(msg.payload);
      if (event) this.emitter.emit("event", event);
    });
    client.on("error", (err) => {
      this.client = null;
      // Stopping: the connection ending is expected, not an error.
      if (this.stopped) return;
      this.onError(err);
      setTimeout(() => void this.start().catch(this.onError), 1000);
    });
    await client.connect();
    await client.query(`LISTEN ${realtimeChannel}`);
    this.client = client;
  }

  /**
   * Events from the moment of the call (not of the first read), so a caller can subscribe, then read
   * state. Ends quietly when `signal` aborts (the client left) or when the streams are ended.
   */
  events(signal: AbortSignal | undefined): AsyncGenerator<RealtimeEvent> {
    const stop = signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal;
    const incoming = on(this.emitter, "event", { signal: stop });
    return (async function* () {
      try {
        for await (const [event] of incoming) yield event as RealtimeEvent;
      } catch (err) {
        if (!stop.aborted) throw err;
      }
    })();
  }

  /** Ends every live stream, so that shutting down does not wait for browsers to hang up. */
  endStreams(): void {
    this.closing.abort();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => {});
    this.client = null;
  }
}
