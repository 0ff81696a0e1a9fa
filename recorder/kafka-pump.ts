/**
 * Kafka delivery beside recording, never holding it up: every 100 ms, unless a round is
 * still running or the last one failed less than a second ago, a commit (so the spool holds
 * what was logged) and a round of this session's events, then of what earlier recorders
 * left (the backlog) once this session's are out. At the stop, `finish` delivers what it
 * can of each while Kafka takes it (StopWait: up to 15 s, but no more than 3 s without a
 * delivery, and not at all after a second Ctrl-C); what is left stays in the spools.
 */
import { STALL_MS, StopWait } from '../src/storage/stop-wait.ts';
import type { KafkaBacklog } from './kafka-backlog.ts';
import type { KafkaForwarder } from './kafka-forwarder.ts';

const EVERY_MS = 100;
const RETRY_MS = 1_000;
/** The longest a stop delivers while Kafka takes what it is sent (a backlog after an outage). */
const FINISH_MS = 15_000;

export class KafkaPump {
  private round_: Promise<void> | undefined;
  private finishing = false;
  private nextPumpMs = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly session: KafkaForwarder,
    private readonly backlog: KafkaBacklog | undefined,
    private readonly o: { readonly commit: () => void; readonly onPending: (events: number) => void; readonly say: (line: string) => void },
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
    if (this.round_ !== undefined || Date.now() < this.nextPumpMs) return;
    this.o.commit();
    this.round_ = this.session.pump().then(async (ok) => {
      if (ok && this.backlog && !this.finishing && this.session.pending() === 0) ok = await this.backlog.pump();
      this.round_ = undefined;
      if (!ok) this.nextPumpMs = Date.now() + RETRY_MS;
      // A stop that gave up on this round may have closed the spools.
      if (!this.finishing) this.o.onPending(this.pending());
    });
  }

  /**
   * Stops the rounds and delivers what is left of this session's events, then `between`,
   * then the backlog's, while the stop waits (see STALL_MS, FINISH_MS; `hurry` ends it at
   * once). Says why it stopped waiting when it gave up with events left, else undefined.
   */
  async finish(between: () => Promise<void>, hurry?: AbortSignal): Promise<string | undefined> {
    this.stop();
    this.finishing = true;
    const pending = this.pending();
    if (pending > 0) this.o.say(`stopping: delivering ${pending} events to Kafka (up to ${FINISH_MS / 1000} s while it takes them, ${STALL_MS / 1000} s if it takes none; Ctrl-C to stop waiting: they stay in the spool)`);
    const wait = new StopWait(() => this.session.delivered + (this.backlog?.delivered() ?? 0), { maxMs: FINISH_MS, stallMs: STALL_MS, ...(hurry ? { hurry } : {}) });
    const delivered = await this.deliver(wait, this.round_, () => this.session.pending() > 0, (n) => this.session.pump(n));
    // Given up on the round under way too, which may be delivering the backlog's events.
    if (!delivered) {
      this.session.abandon();
      this.backlog?.abandon();
    }
    const why = this.session.pending() > 0 ? wait.why() : undefined;
    await between();
    const backlog = this.backlog;
    if (backlog && !(await this.deliver(wait, undefined, () => backlog.pending() > 0, (n) => backlog.pump(n)))) backlog.abandon();
    return why;
  }

  /**
   * Pumps while `pending()` and the stop waits (after the round under way, `first`); false
   * when it gave up on a pump under way (which must then be abandoned). The pump after the
   * last event also sends the live output rows queued behind the events.
   */
  private async deliver(wait: StopWait, first: Promise<unknown> | undefined, pending: () => boolean, pump: (batches?: number) => Promise<boolean>): Promise<boolean> {
    if (first !== undefined && (await wait.wait(first)) === undefined) return false;
    let last = !pending();
    while (wait.left() > 0) {
      const r = await wait.wait(pump(last ? undefined : 50));
      if (r === undefined) return false;
      if (last && r.value) return true;
      if (!r.value) await wait.sleep(500);
      last = !pending();
    }
    return true;
  }
}
