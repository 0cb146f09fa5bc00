/**
 * vtepkit: the public API. Re-exports only; see docs/ for each capability.
 */

// Wire codecs (docs/wire.md)
export * from './wire/errors.js';
export * from './wire/checksum.js';
export * from './wire/ethernet.js';
export * from './wire/ipv4.js';
export * from './wire/ipv6.js';
export * from './wire/udp.js';
export * from './wire/vxlan.js';
export * from './wire/geneve.js';
export * from './wire/flowhash.js';
export * from './wire/encap.js';
export * from './wire/esp.js';
export * from './wire/pcap.js';
export * from './wire/arp.js';
export * from './wire/icmpv6.js';
export * from './wire/icmp.js';

// Forwarding database and ARP/ND suppression (docs/fdb.md)
export * from './fdb/index.js';

// Buffer pool (docs/pool.md)
export * from './pool/index.js';

// TAP device (docs/tap.md)
export * from './io/tap.js';

// ESP (docs/esp.md)
export * from './esp/index.js';
export * from './io/esp-udp.js';
export * from './io/raw.js';

// The engine (docs/vtep.md)
export { Vtep, VtepError } from './vtep/vtep.js';
export type { VtepOptions, VtepErrorCode, GeneveOptionsHook, CaptureOptions, CaptureStop } from './vtep/vtep.js';
export { MemoryPort, TapPort } from './vtep/ports.js';
export type { FramePort, FrameRef, FrameHandler } from './vtep/ports.js';
export type * from './vtep/api.js';
export { ESP_BACKEND_CHOICES } from './vtep/api.js';
export { UdpTransport, UdpError } from './io/udp.js';
export type { UdpTransportOptions } from './io/udp.js';

// The vtepkit command's layers (docs/cli.md)
export { ControlClient, ControlServer, ControlError, startDaemon, sendRequest, resolveSocketPath, DEFAULT_SOCKET_PATH, SOCKET_ENV, CONTROL_OPS } from './cli/control.js';
export type { ControlClientOptions, ControlServerOptions, ControlServerStats, ControlResponse, ControlErrorBody, Daemon, DaemonOptions } from './cli/control.js';
export { ConfigError, validateDocument, parseDocument, readDocumentFile } from './cli/config.js';
export type { ConfigErrorCode, ValidateDocumentOptions, XfrmStateInput } from './cli/config.js';
export { parseWords, requestToWords, CliError } from './cli/words.js';
export type { ControlRequest, ControlOp, CliRequest, GlobalOptions, ParsedCommand, CliErrorCode } from './cli/words.js';
export { BatchUdpTransport, BatchUdpError, isBatchUdpAvailable } from './io/udp-batch.js';
export type { BatchUdpOptions } from './io/udp-batch.js';
