"""Traffic generator and counting sink of the end-to-end bench (bench/e2e.bench.ts).

Run with Debian's /usr/bin/python3; standard library only, nothing compiled.
The flood batches its sends with sendmmsg(2) and the sink its receives with
recvmmsg(2), both called through ctypes, so one system call moves up to a few
hundred packets and Python's per-packet cost drops out of the measurement.

The generator writes whole 60-byte Ethernet frames (64 on a wire with the
FCS: 14 Ethernet + 20 IPv4 + 8 UDP + 18 payload) into the device in front of
it through a packet socket (AF_PACKET, qdisc bypassed): the overlay device
(a vtepkit TAP, a kernel vxlan device) or, for the plain-veth baseline, the
veth itself. The sender's IP and UDP layers are the same work in every mode,
so leaving them out makes the generator faster without favouring any mode.
With "method": "udp" it sends from a connected UDP socket instead (the
sender's whole stack included).

UDP payload, 18 bytes:

    byte 0      kind: b'F' flood, b'L' probe sent during the flood, b'P' probe
    byte 1      zero
    bytes 2-9   sequence number, big-endian
    bytes 10-17 time.monotonic_ns() just before the send, big-endian (0 in flood packets)

CLOCK_MONOTONIC is one clock for every network namespace of a host, so the
sink subtracts the generator's stamp from its own reading to get the one-way
latency, from the generator's send call to the return of the sink's receive.

    traffic.py flood JSON   {"seconds", "batch", "stampIntervalUs", "rate", + target}
        Flood frames for `seconds`, as fast as the kernel takes them or, with
        a rate > 0, at that many frames per second (bursts of at most a
        millisecond's worth); every stampIntervalUs microseconds (0: never)
        one 'L' probe. Prints "go", then one JSON line with what it
        did: offered (frames handed to the kernel), sent (accepted), rejected
        (refused by the first device: its queue was full), probes, seconds,
        cpuSeconds.
    traffic.py probe JSON   {"count", "rate", + target}
        Sends `count` 'P' probes at `rate` per second. Prints one JSON line.
    traffic.py sink JSON    {"address", "port", "probePort"}
        Counts flood packets arriving at address:port and timestamps probes
        arriving at address:probePort. Prints "ready"; then for every
        "report" line on stdin, one JSON line with what arrived since the
        previous report; exits at "stop" or at the end of its input.
    traffic.py check
        Prints "ok" when ctypes finds sendmmsg and recvmmsg.

Target fields: method ("packet" or "udp"), dev, srcMac, dstMac, src, dst,
port, probePort.
"""
import ctypes
import errno
import json
import resource
import select
import socket
import struct
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)


class IoVec(ctypes.Structure):
    _fields_ = [('base', ctypes.c_void_p), ('length', ctypes.c_size_t)]


class MsgHdr(ctypes.Structure):
    _fields_ = [
        ('name', ctypes.c_void_p),
        ('namelen', ctypes.c_uint32),
        ('iov', ctypes.POINTER(IoVec)),
        ('iovlen', ctypes.c_size_t),
        ('control', ctypes.c_void_p),
        ('controllen', ctypes.c_size_t),
        ('flags', ctypes.c_int),
    ]


class MMsgHdr(ctypes.Structure):
    _fields_ = [('hdr', MsgHdr), ('length', ctypes.c_uint)]


libc.sendmmsg.argtypes = [ctypes.c_int, ctypes.POINTER(MMsgHdr), ctypes.c_uint, ctypes.c_int]
libc.sendmmsg.restype = ctypes.c_int
libc.recvmmsg.argtypes = [ctypes.c_int, ctypes.POINTER(MMsgHdr), ctypes.c_uint, ctypes.c_int, ctypes.c_void_p]
libc.recvmmsg.restype = ctypes.c_int

PAYLOAD = struct.Struct('!cxQQ')
assert PAYLOAD.size == 18
HEADERS = 14 + 20 + 8
FRAME_LENGTH = HEADERS + PAYLOAD.size  # 60, 64 on a wire with the FCS
MSG_DONTWAIT = 0x40
SOL_PACKET = 263
PACKET_QDISC_BYPASS = 20
SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33
# Errors that mean "dropped here", not "broken": a full queue, a peer not listening yet.
TRANSIENT = (errno.ENOBUFS, errno.EAGAIN, errno.EINTR, errno.ECONNREFUSED)


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def message_vector(count, buffer_size, shared):
    """count mmsghdr entries, each with one buffer; shared: the same buffer for all of them."""
    messages = (MMsgHdr * count)()
    vectors = (IoVec * count)()
    first = ctypes.create_string_buffer(buffer_size)
    buffers = [first] if shared else [first] + [ctypes.create_string_buffer(buffer_size) for _ in range(count - 1)]
    for i in range(count):
        buffer = buffers[0 if shared else i]
        vectors[i].base = ctypes.addressof(buffer)
        vectors[i].length = buffer_size
        messages[i].hdr.iov = ctypes.pointer(vectors[i])
        messages[i].hdr.iovlen = 1
    return messages, vectors, buffers


def ipv4_checksum(header):
    total = sum(struct.unpack('!%dH' % (len(header) // 2), header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class Target:
    """Where the generator's packets go, and how: header bytes in front of each payload."""

    def __init__(self, config, port_key):
        self.method = config.get('method', 'packet')
        port = config[port_key]
        if self.method == 'packet':
            self.socket = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # protocol 0: send only
            self.socket.setsockopt(SOL_PACKET, PACKET_QDISC_BYPASS, 1)
            self.socket.bind((config['dev'], 0))
            ip = bytearray(struct.pack(
                '!BBHHHBBH4s4s', 0x45, 0, 20 + 8 + PAYLOAD.size, 0, 0x4000, 64, socket.IPPROTO_UDP, 0,
                socket.inet_aton(config['src']), socket.inet_aton(config['dst'])))
            struct.pack_into('!H', ip, 10, ipv4_checksum(bytes(ip)))
            source_port = 40000 if port_key == 'port' else 40001
            # UDP checksum 0: none, as IPv4 allows (RFC 768).
            udp = struct.pack('!HHHH', source_port, port, 8 + PAYLOAD.size, 0)
            mac = lambda text: bytes.fromhex(text.replace(':', ''))
            self.headers = mac(config['dstMac']) + mac(config['srcMac']) + b'\x08\x00' + bytes(ip) + udp
        else:
            self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.socket.connect((config['dst'], port))
            self.headers = b''
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, 4 << 20)
        except OSError:
            pass
        self.length = len(self.headers) + PAYLOAD.size
        self.packet = bytearray(self.length)
        self.packet[:len(self.headers)] = self.headers

    def send_stamped(self, kind, seq):
        """One probe; True when the first device took it."""
        PAYLOAD.pack_into(self.packet, len(self.headers), kind, seq, time.monotonic_ns())
        try:
            self.socket.send(self.packet)
            return True
        except OSError as error:
            if error.errno not in TRANSIENT:
                raise
            return False


def flood(config):
    target = Target(config, 'port')
    probe = Target(config, 'probePort')
    batch = int(config['batch'])
    rate = float(config.get('rate', 0))
    if rate > 0:
        batch = max(1, min(batch, int(rate / 1000)))
    stamp_interval = int(config.get('stampIntervalUs', 0)) * 1000
    messages, _vectors, buffers = message_vector(batch, target.length, True)
    ctypes.memmove(buffers[0], target.headers + PAYLOAD.pack(b'F', 0, 0), target.length)
    fd = target.socket.fileno()
    send = libc.sendmmsg
    clock = time.monotonic_ns
    offered = sent = rejected = probes = probes_offered = 0
    print('go', flush=True)
    cpu_before = cpu_seconds()
    started = clock()
    end = started + int(float(config['seconds']) * 1e9)
    next_stamp = started + stamp_interval
    now = started
    while now < end:
        if rate > 0:
            due = started + int(offered * 1e9 / rate)
            if due > now:
                time.sleep((due - now) / 1e9)
        n = send(fd, messages, batch, 0)
        if n == batch:
            offered += n
            sent += n
        else:
            # sendmmsg stops at the first frame refused (and reports it only
            # when it is the first): frames 0..n-1 went, frame n was dropped.
            if n < 0:
                code = ctypes.get_errno()
                if code not in TRANSIENT:
                    raise OSError(code, 'sendmmsg: ' + errno.errorcode.get(code, str(code)))
                n = 0
            offered += n + 1
            sent += n
            rejected += 1
        now = clock()
        if stamp_interval and now >= next_stamp:
            probes_offered += 1
            if probe.send_stamped(b'L', probes_offered - 1):
                probes += 1
            next_stamp += stamp_interval
            if next_stamp < now:
                next_stamp = now + stamp_interval
    elapsed = (clock() - started) / 1e9
    print(json.dumps({
        'offered': offered, 'sent': sent, 'rejected': rejected,
        'probesOffered': probes_offered, 'probes': probes,
        'seconds': elapsed, 'cpuSeconds': cpu_seconds() - cpu_before,
    }), flush=True)


def probe(config):
    target = Target(config, 'probePort')
    count = int(config['count'])
    interval = int(1e9 / float(config['rate']))
    clock = time.monotonic_ns
    started = clock()
    sent = 0
    for seq in range(count):
        due = started + seq * interval
        # Sleep most of the wait and spin the last 200 us: time.sleep overshoots.
        while True:
            left = due - clock()
            if left <= 0:
                break
            if left > 300_000:
                time.sleep((left - 200_000) / 1e9)
        if target.send_stamped(b'P', seq):
            sent += 1
    print(json.dumps({'offered': count, 'sent': sent, 'seconds': (clock() - started) / 1e9}), flush=True)


def sink(config):
    def bound(port):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        s.bind((config['address'], port))
        s.setblocking(False)
        return s

    flood_socket = bound(int(config['port']))
    probe_socket = bound(int(config['probePort']))
    batch = 1024
    messages, _vectors, _buffers = message_vector(batch, 32, False)
    receive = libc.recvmmsg
    clock = time.monotonic_ns
    flood_fd = flood_socket.fileno()
    probe_fd = probe_socket.fileno()
    stdin_fd = sys.stdin.fileno()
    poller = select.poll()
    poller.register(probe_fd, select.POLLIN)
    poller.register(flood_fd, select.POLLIN)
    poller.register(stdin_fd, select.POLLIN)

    def fresh():
        return {'received': 0, 'firstNs': 0, 'lastNs': 0, 'probes': [], 'loadedProbes': [], 'cpu': cpu_seconds(), 'since': clock()}

    window = fresh()
    print('ready', flush=True)
    while True:
        events = poller.poll(1000)
        # Probes first: their latency should not include draining a batch of flood.
        events.sort(key=lambda event: event[0] != probe_fd)
        for fd, _event in events:
            if fd == probe_fd:
                while True:
                    try:
                        data = probe_socket.recv(64)
                    except BlockingIOError:
                        break
                    now = clock()
                    if len(data) != PAYLOAD.size:
                        continue
                    kind, seq, sent_at = PAYLOAD.unpack(data)
                    if kind == b'P':
                        window['probes'].append([seq, now - sent_at])
                    elif kind == b'L':
                        window['loadedProbes'].append([seq, now - sent_at])
            elif fd == flood_fd:
                while True:
                    n = receive(flood_fd, messages, batch, MSG_DONTWAIT, None)
                    if n <= 0:
                        break
                    if window['received'] == 0:
                        window['firstNs'] = clock()
                    window['received'] += n
                    if n < batch:
                        break
                window['lastNs'] = clock()
            else:
                line = sys.stdin.readline()
                command = line.strip()
                if command == 'report':
                    now = clock()
                    window['seconds'] = (now - window.pop('since')) / 1e9
                    window['cpuSeconds'] = cpu_seconds() - window.pop('cpu')
                    print(json.dumps(window), flush=True)
                    window = fresh()
                elif line == '' or command == 'stop':
                    return


def main(argv):
    command = argv[1] if len(argv) > 1 else ''
    config = json.loads(argv[2]) if len(argv) > 2 else {}
    if command == 'flood':
        flood(config)
    elif command == 'probe':
        probe(config)
    elif command == 'sink':
        sink(config)
    elif command == 'check':
        print('ok', flush=True)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:
        sys.exit(130)
