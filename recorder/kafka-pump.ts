/**
 * Kafka delivery beside recording, never holding it up: every 100 ms, unless a round is
 * still running or the last one failed less than a second ago, a commit (so the spool holds
 * what was logged) and a round of this session's events, then of what earlier recorders
 * left (the backlog) once this session's are out. At the stop, `finish` delivers what it
 * can of each within 15 s; what is left stays in the spools.
 */
import type { KafkaBacklog } from './kafka-backlog.ts';
import type { KafkaForwarder } from './kafka-forwarder.ts';

const EVERY_MS = 100;
const RETRY_MS = 1_000;
const FINISH_MS = 15_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class KafkaPump {
  private pumping = false;
  private nextPumpMs = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly session: KafkaForwarder,
    private readonly backlog: KafkaBacklog | undefined,
    private readonly o: { readonly commit: () => void; readonly onPending: (events: number) => void },
  ) {}

  start(): void {
    this.timer = setInterval(() => this.round(), EVERY_MS);
  }

  /** No more rounds (a round under way finishes on its own). */
  stop(): void {
    clearInterval(this.timer);
  }

  pending(): number {
    return this.session.pending() + (this.backlog?.pending() ?? 0);
  }

  private round(): void {
    if (this.pumping || Date.now() < this.nextPumpMs) return;
    this.pumping = true;
    this.o.commit();
    void this.session.pump().then(async (ok) => {
      if (ok && this.backlog && this.session.pending() === 0) ok = await this.backlog.pump();
      this.pumping = false;
      if (!ok) this.nextPumpMs = Date.now() + RETRY_MS;
      this.o.onPending(this.pending());
    });
  }

  /** Stops the rounds and delivers what is left of this session's events, within FINISH_MS; then `between`, then the backlog's within what is left of it. */
  async finish(between: () => Promise<void>): Promise<void> {
    this.stop();
    while (this.pumping) await sleep(20);
    const deadline = Date.now() + FINISH_MS;
    while (this.session.pending() > 0 && Date.now() < deadline) {
      if (!(await this.session.pump(50))) await sleep(500);
    }
    await this.session.pump();
    await between();
    while (this.backlog && this.backlog.pending() > 0 && Date.now() < deadline) {
      if (!(await this.backlog.pump(50))) await sleep(500);
    }
  }
}
