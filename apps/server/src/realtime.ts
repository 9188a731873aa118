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
      this.onError(err);
      this.client = null;
      if (!this.stopped) setTimeout(() => void this.start().catch(this.onError), 1000);
    });
    await client.connect();
    await client.query(`LISTEN ${realtimeChannel}`);
    this.client = client;
  }

  async *events(signal: AbortSignal | undefined): AsyncGenerator<RealtimeEvent> {
    for await (const [event] of on(this.emitter, "event", { signal })) yield event as RealtimeEvent;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => {});
    this.client = null;
  }
}
