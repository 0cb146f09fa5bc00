// Seal an IPv4 packet with ESP (transport mode, AES-GCM) and open it again.
import { SecurityAssociation, opensslBackendProblem } from 'vtepkit';

const key = '0x' + '11'.repeat(20); // 16-byte AES key + 4-byte salt, as `ip xfrm state … aead 'rfc4106(gcm(aes))'`
const sender = new SecurityAssociation({ spi: 0x1001, algorithm: 'rfc4106(gcm(aes))', key });
const receiver = new SecurityAssociation({ spi: 0x1001, algorithm: 'rfc4106(gcm(aes))', key });

// An IPv4 packet: a 20-byte header (protocol 17, UDP; header checksum 0xf6cc) and an 8-byte UDP header.
const packet = Uint8Array.from([0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0xf6, 0xcc, 192, 0, 2, 1, 192, 0, 2, 2, 0x30, 0x39, 0x00, 0x09, 0, 8, 0, 0]);
const sealed = sender.seal(packet); // IPv4 (protocol 50) + ESP header + IV + ciphertext + ICV
const opened = receiver.open(sealed);
console.log(sender.backend, sealed.length, sealed[9], opened.every((b, i) => b === packet[i]) && opened.length === packet.length); // openssl 64 50 true
console.log(sender.backend === 'openssl' ? 'the cipher addon is built' : `node:crypto fallback: ${opensslBackendProblem()}`);
