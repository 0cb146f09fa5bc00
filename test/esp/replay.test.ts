/**
 * Anti-replay (RFC 4303 3.4.3, RFC 6479) and ESN inference (RFC 4303 Appendix A).
 * The window is checked against a model that is obviously right (a Set of what was accepted
 * and the highest number so far): not one replay accepted, not one in-window packet lost.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { EspStatus } from '../../src/esp/errors.js';
import { REPLAY_WINDOW_MAX, ReplayWindow } from '../../src/esp/replay.js';
import { SecurityAssociation } from '../../src/esp/sa.js';
import { ALGORITHM_CASES, inBuffer, ipv4Udp, keysOf } from './fixtures.js';

const split = (seq: bigint): [number, number] => [Number(seq >> 32n), Number(seq & 0xffffffffn)];

/** The model: accept iff not 0, never accepted before, and not W or more below the highest accepted. */
class ModelWindow {
  private readonly seen = new Set<bigint>();
  private top: bigint;
  constructor(private readonly size: number, top = 0n) {
    this.top = top;
    // A restored window has seen everything up to its top.
    for (let s = top; s > 0n && s > top - BigInt(size) - 64n; s--) this.seen.add(s);
  }
  accept(seq: bigint): number {
    if (seq === 0n) return EspStatus.TOO_OLD;
    if (seq <= this.top - BigInt(this.size)) return EspStatus.TOO_OLD;
    if (this.seen.has(seq)) return EspStatus.REPLAY;
    this.seen.add(seq);
    if (seq > this.top) this.top = seq;
    return EspStatus.OK;
  }
}

describe('esp/replay', () => {
  describe('ReplayWindow', () => {
    it('accepts 1, 2, 3 in order and refuses each twice; refuses 0', () => {
      const w = new ReplayWindow(64);
      expect(w.accept(0, 0)).to.equal(EspStatus.TOO_OLD);
      for (let s = 1; s <= 3; s++) expect(w.accept(0, s)).to.equal(EspStatus.OK);
      for (let s = 1; s <= 3; s++) expect(w.accept(0, s)).to.equal(EspStatus.REPLAY);
      expect(w.top).to.equal(3n);
    });

    it('keeps exactly W numbers: top - W + 1 is in, top - W is out', () => {
      for (const size of [1, 31, 32, 33, 64, 100, 1024, 4096, REPLAY_WINDOW_MAX]) {
        const w = new ReplayWindow(size);
        const top = 100000;
        expect(w.accept(0, top)).to.equal(EspStatus.OK);
        expect(w.check(0, top - size + 1), `W=${size}`).to.equal(size === 1 ? EspStatus.REPLAY : EspStatus.OK);
        expect(w.check(0, top - size), `W=${size}`).to.equal(EspStatus.TOO_OLD);
      }
    });

    it('check() changes nothing; update() after the ICV does', () => {
      const w = new ReplayWindow(64);
      expect(w.check(0, 10)).to.equal(EspStatus.OK);
      expect(w.check(0, 10)).to.equal(EspStatus.OK);
      expect(w.top).to.equal(0n);
      w.update(0, 10);
      expect(w.check(0, 10)).to.equal(EspStatus.REPLAY);
    });

    it('a jump of more than the ring clears it; bits of old blocks never come back as replays', () => {
      const w = new ReplayWindow(64);
      for (let s = 1; s <= 200; s++) w.accept(0, s);
      expect(w.accept(0, 1_000_000)).to.equal(EspStatus.OK);
      // 1_000_000 - 63 .. 999_999 were never received: all accepted once.
      for (let s = 1_000_000 - 63; s < 1_000_000; s++) expect(w.accept(0, s), `${s}`).to.equal(EspStatus.OK);
      for (let s = 1_000_000 - 63; s <= 1_000_000; s++) expect(w.accept(0, s)).to.equal(EspStatus.REPLAY);
    });

    it('a restored window (inboundSeq) treats everything up to its top as seen, nothing above', () => {
      const w = new ReplayWindow(64, 0, 1000);
      expect(w.accept(0, 1000)).to.equal(EspStatus.REPLAY);
      expect(w.accept(0, 990)).to.equal(EspStatus.REPLAY);
      expect(w.accept(0, 936)).to.equal(EspStatus.TOO_OLD);
      expect(w.accept(0, 1003)).to.equal(EspStatus.OK);
      expect(w.accept(0, 1001)).to.equal(EspStatus.OK);
      expect(w.accept(0, 1002)).to.equal(EspStatus.OK);
      expect(w.accept(0, 1001)).to.equal(EspStatus.REPLAY);
      const atBlockEnd = new ReplayWindow(64, 0, 1023); // top is the last bit of its block
      expect(atBlockEnd.accept(0, 1023)).to.equal(EspStatus.REPLAY);
      expect(atBlockEnd.accept(0, 1024)).to.equal(EspStatus.OK);
    });

    it('window 0 turns anti-replay off (but never accepts 0)', () => {
      const w = new ReplayWindow(0);
      expect(w.accept(0, 5)).to.equal(EspStatus.OK);
      expect(w.accept(0, 5)).to.equal(EspStatus.OK);
      expect(w.accept(0, 1)).to.equal(EspStatus.OK);
      expect(w.accept(0, 0)).to.equal(EspStatus.TOO_OLD);
    });

    it('works across the 2^32 boundary in 64-bit numbers', () => {
      const w = new ReplayWindow(64, 0, 0xffff_fff0);
      expect(w.accept(1, 3)).to.equal(EspStatus.OK);
      expect(w.top).to.equal(0x1_0000_0003n);
      expect(w.accept(0, 0xffff_ffe5)).to.equal(EspStatus.REPLAY); // restored: seen
      expect(w.accept(0, 0xffff_fff5)).to.equal(EspStatus.OK); // above the restored top: new
      expect(w.accept(0, 0xffff_fffe)).to.equal(EspStatus.OK);
      expect(w.accept(1, 0)).to.equal(EspStatus.OK);
      expect(w.accept(1, 0)).to.equal(EspStatus.REPLAY);
      expect(w.accept(0, 0xffff_ffc3)).to.equal(EspStatus.TOO_OLD); // 2^32 + 3 - 64
      expect(w.accept(0, 0xffff_ffc4)).to.equal(EspStatus.REPLAY);
    });

    describe('ESN inference, RFC 4303 Appendix A2.2', () => {
      it('case A (window inside one subspace): Seqh = Th, or Th + 1 below the window', () => {
        const w = new ReplayWindow(64, 5, 1000); // T = 5:1000, window 937..1000
        expect(w.inferHigh(1000)).to.equal(5);
        expect(w.inferHigh(937)).to.equal(5);
        expect(w.inferHigh(0xffff_ffff)).to.equal(5);
        expect(w.inferHigh(936)).to.equal(6);
        expect(w.inferHigh(0)).to.equal(6);
      });

      it('case B (window spans two subspaces): Seqh = Th - 1 at the top of the previous one, else Th', () => {
        const w = new ReplayWindow(64, 5, 10); // window 2^32-53 .. 10 (across)
        expect(w.inferHigh(10)).to.equal(5);
        expect(w.inferHigh(0)).to.equal(5);
        expect(w.inferHigh(0xffff_ffff)).to.equal(4);
        expect(w.inferHigh(0xffff_ffcb)).to.equal(4); // Tl - W + 1 mod 2^32
        expect(w.inferHigh(0xffff_ffca)).to.equal(5);
      });

      it('reports -1 outside the 64-bit space', () => {
        expect(new ReplayWindow(64, 0, 10).inferHigh(0xffff_ffff)).to.equal(-1);
        expect(new ReplayWindow(64, 0xffff_ffff, 1000).inferHigh(5)).to.equal(-1);
      });

      it('property: for any true number within [T - W + 1, T - W + 2^32], the inferred high half is the true one', () => {
        fc.assert(
          fc.property(fc.bigInt({ min: 1n, max: (1n << 63n) }), fc.integer({ min: 1, max: 4096 }), fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), (top, size, offset) => {
            const seq = top - BigInt(size) + 1n + offset;
            if (seq < 0n) return;
            const [th, tl] = split(top);
            const w = new ReplayWindow(size, th, tl);
            const [sh, sl] = split(seq);
            expect(w.inferHigh(sl)).to.equal(sh);
          }),
          { numRuns: 2000 },
        );
      });
    });

    describe('model test against a Set', () => {
      it('random streams of 32-bit numbers: same decision for every packet', () => {
        fc.assert(
          fc.property(
            fc.constantFrom(1, 2, 31, 32, 33, 64, 65, 100, 1024, 4096),
            fc.array(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 20000 }), fc.integer({ min: 0, max: 0xffffffff })), { maxLength: 300 }),
            (size, stream) => {
              const w = new ReplayWindow(size);
              const m = new ModelWindow(size);
              for (const s of stream) expect(w.accept(0, s), `W=${size} seq=${s}`).to.equal(m.accept(BigInt(s)));
            },
          ),
          { numRuns: 400 },
        );
      });

      it('streams that walk forward with reordering, jumps and duplicates, around 2^32 (64-bit numbers)', () => {
        fc.assert(
          fc.property(
            fc.constantFrom(1, 32, 64, 128, 4096),
            fc.bigInt({ min: 0n, max: (1n << 32n) + 10n }),
            fc.array(fc.oneof(fc.integer({ min: -70, max: 5 }), fc.integer({ min: -5000, max: 5000 }), fc.constant(0)), { minLength: 1, maxLength: 400 }),
            (size, start, moves) => {
              const [th, tl] = split(start);
              const w = new ReplayWindow(size, th, tl);
              const m = new ModelWindow(size, start);
              let cursor = start;
              for (const move of moves) {
                cursor += BigInt(move) + 1n;
                if (cursor < 0n) cursor = 0n;
                const [h, l] = split(cursor);
                expect(w.accept(h, l), `W=${size} seq=${cursor}`).to.equal(m.accept(cursor));
              }
            },
          ),
          { numRuns: 400 },
        );
      });
    });
  });

  describe('through a security association', () => {
    const gcm = ALGORITHM_CASES[0]!;

    function stream(count: number, config: { esn?: boolean; outboundSeq?: bigint } = {}): Uint8Array[] {
      const tx = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm), ...config });
      return Array.from({ length: count }, (_, i) => tx.seal(ipv4Udp(8, { id: i })));
    }

    function receiver(config: { esn?: boolean; inboundSeq?: bigint; replayWindow?: number } = {}): SecurityAssociation {
      return new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm), ...config });
    }

    const open = (sa: SecurityAssociation, packet: Uint8Array): number => sa.openBuffer(inBuffer(packet));

    it('every packet of a stream, replayed after delivery, is refused', () => {
      const packets = stream(300);
      const rx = receiver();
      for (const p of packets) expect(open(rx, p)).to.equal(EspStatus.OK);
      let replays = 0;
      let old = 0;
      for (const p of packets) {
        const status = open(rx, p);
        expect([EspStatus.REPLAY, EspStatus.TOO_OLD]).to.include(status);
        if (status === EspStatus.REPLAY) replays++;
        else old++;
      }
      expect([replays, old]).to.deep.equal([64, 236]);
      expect([rx.stats.replay, rx.stats.tooOld, rx.stats.opened]).to.deep.equal([64, 236, 300]);
    });

    it('reordering within the window loses nothing; beyond it, only what fell out is refused', () => {
      const packets = stream(256);
      const rx = receiver();
      // Reverse blocks of 64: every packet arrives within 63 of the highest.
      for (let block = 0; block < 256; block += 64) {
        for (let i = block + 63; i >= block; i--) expect(open(rx, packets[i]!), `packet ${i + 1}`).to.equal(EspStatus.OK);
      }
      const late = receiver();
      expect(open(late, packets[199]!)).to.equal(EspStatus.OK); // seq 200
      expect(open(late, packets[135]!)).to.equal(EspStatus.TOO_OLD); // seq 136 = 200 - 64
      expect(open(late, packets[136]!)).to.equal(EspStatus.OK); // seq 137 = 200 - 63
    });

    it('duplicates in flight: only the first copy passes', () => {
      const packets = stream(50);
      const rx = receiver();
      let ok = 0;
      for (const p of packets) for (let copy = 0; copy < 3; copy++) if (open(rx, p) === EspStatus.OK) ok++;
      expect(ok).to.equal(50);
      expect(rx.stats.replay).to.equal(100);
    });

    it('the window moves only after the ICV verified: a forged high number changes nothing', () => {
      const packets = stream(10);
      const rx = receiver();
      expect(open(rx, packets[0]!)).to.equal(EspStatus.OK);
      const forged = Uint8Array.from(packets[9]!);
      forged.set([0x7f, 0xff, 0xff, 0xff], 24); // sequence number 2^31 - 1
      expect(open(rx, forged)).to.equal(EspStatus.BAD_ICV);
      expect(rx.inboundSeq).to.equal(1n);
      for (let i = 1; i < 10; i++) expect(open(rx, packets[i]!)).to.equal(EspStatus.OK);
    });

    it('the replay check comes before the ICV check: a replay is REPLAY even when its ICV is broken', () => {
      const packets = stream(2);
      const rx = receiver();
      open(rx, packets[0]!);
      const broken = Uint8Array.from(packets[0]!);
      broken[broken.length - 1]! ^= 0x80;
      expect(open(rx, broken)).to.equal(EspStatus.REPLAY);
    });

    it('ESN across 2^32: reordered across the boundary, all delivered once, replays refused, window follows', () => {
      const start = 0xffff_ff00n;
      const packets = stream(512, { esn: true, outboundSeq: start });
      const rx = receiver({ esn: true, inboundSeq: start, replayWindow: 128 });
      // Deliver in blocks of 100 reversed: the boundary (packet 256) falls inside a reversed block.
      for (let block = 0; block < 512; block += 100) {
        for (let i = Math.min(block + 99, 511); i >= block; i--) expect(open(rx, packets[i]!), `packet ${i}`).to.equal(EspStatus.OK);
      }
      expect(rx.inboundSeq).to.equal(start + 512n);
      expect([rx.lastSeqHigh, rx.lastSeqLow]).to.deep.equal([1, 0xf5]); // packet 500, delivered last
      for (const p of packets.slice(-128)) expect(open(rx, p)).to.equal(EspStatus.REPLAY);
      for (const p of packets.slice(0, 384)) expect(open(rx, p)).to.not.equal(EspStatus.OK);
    });

    it('property: any delivery order with duplicates, against the model', () => {
      const packets = stream(60);
      fc.assert(
        fc.property(fc.constantFrom(4, 16, 32, 64), fc.array(fc.integer({ min: 0, max: 59 }), { maxLength: 150 }), (size, order) => {
          const rx = receiver({ replayWindow: size });
          const m = new ModelWindow(size);
          for (const index of order) expect(open(rx, packets[index]!)).to.equal(m.accept(BigInt(index + 1)));
        }),
        { numRuns: 150 },
      );
    });
  });
});
