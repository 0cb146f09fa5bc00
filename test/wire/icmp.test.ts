import { expect } from 'chai';
import fc from 'fast-check';
import { TOO_BIG_MAX_FRAME, writeTooBig } from '../../src/wire/icmp.js';
import { runScapy, scapyMissing } from '../helpers/judges.js';

interface Judged {
  src: string;
  dst: string;
  ethSrc: string;
  ethDst: string;
  type: number;
  code: number;
  mtu: number;
  goodChecksums: boolean;
  length: number;
}

/** Scapy builds the offending frames (an independent encoder) and judges our answers. */
const BUILD = `
frames = [
  Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP(src='10.200.0.1', dst='10.200.0.2', flags='DF')/ICMP()/Raw(b'x' * 1472),
  Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP(src='10.200.0.1', dst='10.200.0.2', flags='DF')/UDP(sport=1000, dport=2000)/Raw(b'y' * 100),
  Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IPv6(src='fd00::1', dst='fd00::2')/ICMPv6EchoRequest(data=b'z' * 1452),
  Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IPv6(src='fd00::1', dst='fd00::2')/UDP(sport=1000, dport=2000)/Raw(b'w' * 3000),
  # Not to be answered: no DF; a fragment; an ICMP error; multicast source MAC; an ICMPv6 error; ARP.
  Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP(src='10.200.0.1', dst='10.200.0.2')/UDP()/Raw(b'n' * 1472),
  Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP(src='10.200.0.1', dst='10.200.0.2', flags='DF', frag=100)/Raw(b'n' * 1472),
  Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP(src='10.200.0.1', dst='10.200.0.2', flags='DF')/ICMP(type=3, code=1)/Raw(b'n' * 1472),
  Ether(src='03:00:00:00:00:01', dst='02:00:00:00:00:02')/IP(src='10.200.0.1', dst='10.200.0.2', flags='DF')/UDP()/Raw(b'n' * 1472),
  Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IPv6(src='fd00::1', dst='fd00::2')/ICMPv6DestUnreach()/Raw(b'n' * 1452),
  Ether(src='02:00:00:00:00:01', dst='ff:ff:ff:ff:ff:ff')/ARP(),
]
print(json.dumps([bytes(f).hex() for f in frames]))
`;

const JUDGE = `
out = []
for b in INPUT:
    e = Ether(b)
    if IP in e:
        ip = e[IP]
        fresh = Ether(bytes(e))
        del fresh[IP].chksum
        del fresh[ICMP].chksum
        rebuilt = Ether(bytes(fresh))
        good = rebuilt[IP].chksum == ip.chksum and rebuilt[ICMP].chksum == e[ICMP].chksum
        out.append(dict(src=ip.src, dst=ip.dst, ethSrc=e.src, ethDst=e.dst, type=e[ICMP].type, code=e[ICMP].code,
                        mtu=e[ICMP].nexthopmtu, goodChecksums=bool(good), length=ip.len))
    else:
        ip = e[IPv6]
        ptb = e[ICMPv6PacketTooBig]
        fresh = Ether(bytes(e))
        del fresh[ICMPv6PacketTooBig].cksum
        rebuilt = Ether(bytes(fresh))
        out.append(dict(src=ip.src, dst=ip.dst, ethSrc=e.src, ethDst=e.dst, type=ptb.type, code=ptb.code, mtu=ptb.mtu,
                        goodChecksums=bool(rebuilt[ICMPv6PacketTooBig].cksum == ptb.cksum), length=40 + ip.plen))
print(json.dumps(out))
`;

function hexBytes(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

describe('wire/icmp (too-big answers)', () => {
  let frames: Uint8Array[] = [];
  before(function () {
    if (scapyMissing()) this.skip();
    frames = runScapy<string[]>(BUILD).map(hexBytes);
  });

  it('answers IPv4 DF and IPv6 frames, judged by scapy: addresses swapped, type/code, MTU, checksums, length limits', () => {
    const answers: Uint8Array[] = [];
    const mtus = [1450, 1400, 1400, 1280];
    for (let i = 0; i < 4; i++) {
      const out = new Uint8Array(TOO_BIG_MAX_FRAME + 10);
      const n = writeTooBig(frames[i]!, 0, frames[i]!.length, mtus[i]!, out, 10);
      expect(n, `frame ${i}`).to.be.greaterThan(0);
      answers.push(out.subarray(10, 10 + n));
    }
    const judged = runScapy<Judged[]>(JUDGE, answers);
    expect(judged[0]).to.include({ src: '10.200.0.2', dst: '10.200.0.1', ethSrc: '02:00:00:00:00:02', ethDst: '02:00:00:00:00:01', type: 3, code: 4, mtu: 1450, goodChecksums: true, length: 576 });
    // A small offending packet is quoted whole: 20 + 8 + its 128 bytes.
    expect(judged[1]).to.include({ type: 3, code: 4, mtu: 1400, goodChecksums: true, length: 20 + 8 + 128 });
    expect(judged[2]).to.include({ src: 'fd00::2', dst: 'fd00::1', type: 2, code: 0, mtu: 1400, goodChecksums: true, length: 1280 });
    expect(judged[3]).to.include({ type: 2, mtu: 1280, goodChecksums: true, length: 1280 });
    // The quoted bytes are the start of the original IP packet.
    expect(Buffer.from(answers[0]!.subarray(14 + 28)).equals(Buffer.from(frames[0]!.subarray(14, 14 + 548)))).to.equal(true);
    expect(Buffer.from(answers[2]!.subarray(14 + 48)).equals(Buffer.from(frames[2]!.subarray(14, 14 + 1232)))).to.equal(true);
  });

  it('does not answer: IPv4 without DF, a non-first fragment, an ICMP error, a group source MAC, an ICMPv6 error, non-IP', () => {
    const out = new Uint8Array(TOO_BIG_MAX_FRAME);
    for (let i = 4; i < frames.length; i++) {
      expect(writeTooBig(frames[i]!, 0, frames[i]!.length, 1400, out, 0), `frame ${i}`).to.equal(0);
    }
  });

  it('does not answer truncated frames (a length field beyond the bytes) and has no room → 0', () => {
    const out = new Uint8Array(TOO_BIG_MAX_FRAME);
    const frame = frames[0]!;
    for (const length of [0, 13, 14, 33, 100, frame.length - 1]) {
      expect(writeTooBig(frame, 0, length, 1400, out, 0), `length ${length}`).to.equal(0);
    }
    expect(writeTooBig(frame, 0, frame.length, 1400, new Uint8Array(TOO_BIG_MAX_FRAME - 1), 0)).to.equal(0);
  });

  it('never throws and never writes past TOO_BIG_MAX_FRAME on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1600 }), fc.integer({ min: 0, max: 70000 }), (bytes, mtu) => {
        const out = new Uint8Array(TOO_BIG_MAX_FRAME + 4).fill(0xee);
        const n = writeTooBig(bytes, 0, bytes.length, mtu, out, 0);
        return n >= 0 && n <= TOO_BIG_MAX_FRAME && out[TOO_BIG_MAX_FRAME] === 0xee;
      }),
      { numRuns: 2000 },
    );
  });
});
