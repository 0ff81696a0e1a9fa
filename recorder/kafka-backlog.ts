/**
 * Kafka's share of spools that earlier recorders left: recovery puts every event in the
 * archive but keeps the spool while Kafka lacks some (the `kafka` cursor holds them back),
 * and a recorder running with --kafka delivers them beside its own events, to the topic the
 * crashed run wrote to, then removes the spool. Whatever is still undelivered when the
 * recorder stops stays in the spool for the next run, and is said aloud.
 */
import type { KeptSpool } from './archiver.ts';
import { removeSpool } from './archiver.ts';
import { KafkaForwarder, type KafkaForwarderOptions } from './kafka-forwarder.ts';

interface Item {
  readonly kept: KeptSpool;
  readonly forwarders: KafkaForwarder[];
}

export class KafkaBacklog {
  private readonly items: Item[];
  private abandoned = false;

  constructor(kept: readonly KeptSpool[], private readonly o: KafkaForwarderOptions) {
    this.items = kept.map((k) => ({
      kept: k,
      forwarders: k.undelivered.filter((u) => u.consumers.includes('kafka')).map((u) =>
        new KafkaForwarder(k.spool, u.session, { ...o, prefix: k.spool.meta('kafka.prefix') ?? o.prefix })),
    }));
  }

  pending(): number {
    return this.items.reduce((n, it) => n + it.forwarders.reduce((m, f) => m + f.pending(), 0), 0);
  }

  /** Events delivered so far, of every kept spool. */
  delivered(): number {
    return this.items.reduce((n, it) => n + it.forwarders.reduce((m, f) => m + f.delivered, 0), 0);
  }

  /** The stop gives up on the deliveries under way (see KafkaForwarder.abandon). */
  abandon(): void {
    this.abandoned = true;
    for (const it of this.items) for (const f of it.forwarders) f.abandon();
  }


  /** One round of delivery for every kept spool; false when the broker could not be reached. */
  async pump(maxBatches = 20): Promise<boolean> {
    let ok = true;
    for (const it of [...this.items]) {
      for (const f of it.forwarders) {
        if (f.pending() > 0 && !(await f.pump(maxBatches))) ok = false;
        // The stop gave up on this round and may have closed the spools.
        if (this.abandoned) return false;
      }
      if (it.forwarders.every((f) => f.pending() === 0)) await this.done(it);
    }
    return ok;
  }

  private async done(it: Item): Promise<void> {
    const { spool } = it.kept;
    for (const f of it.forwarders) {
      this.o.say(`kafka: delivered ${f.delivered} events of session ${f.session} left by an earlier recorder to ${f.rawTopic}`);
      await f.close();
    }
    let left = 0;
    for (const session of spool.sessions()) left = spool.prune(session, ['archive']);
    spool.close();
    if (left === 0) removeSpool(spool.file);
    this.items.splice(this.items.indexOf(it), 1);
  }

  /** At stop: closes what is left, saying what Kafka still lacks and where it is kept. */
  async close(): Promise<void> {
    for (const it of this.items) {
      for (const f of it.forwarders) {
        const n = f.pending();
        if (n > 0) this.o.say(`warning: ${n} events of session ${f.session} still never reached Kafka; they are in the archive and kept in the spool ${it.kept.spool.file} for the next record run with --kafka`);
        await f.close();
      }
      it.kept.spool.close();
    }
    this.items.length = 0;
  }
}
