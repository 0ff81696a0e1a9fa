/**
 * The repeated strings of LogEvent batches sent to or from a worker thread (session,
 * exchange, conn), by number: each crosses once, in the first batch that uses it (that
 * batch's `fresh`), and the receiving side appends them to a table with the same numbering.
 * Kinds cross as their index in LOG_KINDS. Shared by the reader thread's wire
 * (replayer/read-wire.ts) and the import writer thread's (src/importers/row-wire.ts).
 */
import { LOG_KINDS, type LogKind } from './event.ts';

/** A LogKind's byte on the wire: its index in LOG_KINDS. */
export const KIND_CODE = new Map<LogKind, number>(LOG_KINDS.map((k, i) => [k, i]));

/** The sending side: numbers strings, first come first numbered. */
export class StringNumbers {
  private readonly table = new Map<string, number>();

  /** The number of `s`; a string not seen before gets the next one and is appended to `fresh`. */
  of(s: string, fresh: string[]): number {
    let i = this.table.get(s);
    if (i === undefined) {
      i = this.table.size;
      this.table.set(s, i);
      fresh.push(s);
    }
    return i;
  }
}

/** The receiving side: the strings by number, grown by each batch's `fresh`. */
export class StringTable {
  private readonly table: string[] = [];

  /** Appends a batch's new strings; returns the table to look its numbers up in. */
  add(fresh: readonly string[]): readonly string[] {
    for (const s of fresh) this.table.push(s);
    return this.table;
  }
}
