/** The engine's counters are keyed by names from the archive: no name can collide with Object.prototype. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/engine/config.ts';
import { Engine } from '../../src/engine/engine.ts';
import { TableCollector } from '../../src/engine/rows.ts';

describe('engine stats', () => {
  it('counts frames of exchanges named like Object.prototype members as undecoded, without crashing', () => {
    const engine = new Engine(DEFAULT_CONFIG, new TableCollector());
    let seq = 0;
    for (const exchange of ['toString', '__proto__', 'constructor', 'toString']) {
      engine.onLog({ session: 's', ingestSeq: seq++, recvNs: 1_723_161_600_000_000_000n, exchange, conn: 'c', kind: 'frame', payload: '{}', meta: '' });
    }
    engine.finish();
    expect(Object.entries(engine.stats.undecoded).sort(), 'each name is a plain counter').toEqual([['__proto__', 1], ['constructor', 1], ['toString', 2]]);
    expect(JSON.stringify(engine.stats.undecoded), 'and goes into the manifest as such').toBe('{"toString":2,"__proto__":1,"constructor":1}');
    expect(JSON.stringify(engine.stats.undecodedFrames), 'frames, the count the replay warning says').toBe('{"toString":2,"__proto__":1,"constructor":1}');
  });
});
