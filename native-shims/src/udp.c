/*
 * The batched UDP socket: what node:dgram cannot do cheaply, and nothing else.
 *
 *   udpSocket(family, protocol?) -> fd              socket(AF_INET | AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC), or SOCK_RAW of `protocol`
 *   udpSetOption(fd, name, value)                   setsockopt: "SO_REUSEADDR", "SO_RCVBUF", "SO_SNDBUF",
 *                                                   "IP_TTL", "IP_MULTICAST_TTL", "IP_MULTICAST_LOOP",
 *                                                   "IP_TOS", "IPV6_TCLASS", "SO_NO_CHECK", "UDP_NO_CHECK6_TX",
 *                                                   "IPV6_V6ONLY", "IPV6_UNICAST_HOPS", "IPV6_MULTICAST_HOPS",
 *                                                   "IPV6_MULTICAST_LOOP"
 *   udpGetOption(fd, name) -> value                 getsockopt, same names
 *   udpBind(fd, family, address, port, scopeId)     bind; address: Uint8Array (4 or 16 bytes)
 *   udpLocalAddress(fd, out16) -> port              getsockname; the address goes into out16
 *   udpSetMulticastInterface(fd, family, address, ifindex)
 *                                                   IP_MULTICAST_IF (struct ip_mreqn) / IPV6_MULTICAST_IF
 *   udpAddMembership(fd, family, group, address, ifindex)
 *                                                   IP_ADD_MEMBERSHIP (struct ip_mreqn) / IPV6_ADD_MEMBERSHIP
 *   udpSendBatch(fd, family, views, offsets, lengths, addresses, ports, count, status, gsoSegments) -> sent
 *   udpCreateReader(fd, budget, views, offsets, capacities, batch, sources, ports, callback) -> reader
 *   udpCloseReader(reader)
 *   (the descriptor is closed with tap.c's close(fd))
 *
 * Addresses are bytes in network order, 16 per datagram: an IPv4 address is the
 * first 4 (the other 12 are zero on receive and ignored on send).
 *
 * Send: one sendmmsg() per batch of up to SEND_CHUNK datagrams. With UDP GSO, a run
 * of equal-sized datagrams to one peer is one message (UDP_SEGMENT): the kernel's
 * UDP and IP send path runs once for the run. A datagram the kernel refuses on its
 * own (EMSGSIZE, ENETUNREACH, EINVAL, EACCES, ...) is counted and skipped (with its
 * run), and the rest of the batch goes on. A full socket buffer (EAGAIN, ENOBUFS)
 * ends the batch: the caller is told how many went.
 *
 * Receive: a uv_poll_t on Node's own loop (no thread), as tap.c's reader. When
 * the socket is readable, one recvmmsg() reads up to `budget` datagrams straight
 * into the slots JavaScript armed (views[slot] at offsets[slot], at most
 * capacities[slot] bytes). Per datagram the addon writes (slot, length) into
 * `batch`, the source address into `sources` (16 bytes) and the source port into
 * `ports`, then calls `callback(count, noBuffer, oversize, softErrors, error)`
 * once for the batch, and re-reads the slots it consumed, which JavaScript has
 * re-armed by then.
 *
 * Syscall failures become JavaScript errors with `code` (the errno name),
 * `errno` and `syscall`; nothing here aborts the process.
 */
#define NAPI_VERSION 8
#define _GNU_SOURCE /* sendmmsg, recvmmsg */
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <netinet/udp.h>

/* Older libc headers lack these (linux/udp.h, include/uapi/asm-generic/socket.h). */
#ifndef SO_NO_CHECK
#define SO_NO_CHECK 11
#endif
#ifndef UDP_NO_CHECK6_TX
#define UDP_NO_CHECK6_TX 101
#endif

#include "reader.h"
#include "shim.h"

/* Datagrams per sendmmsg() (the kernel takes at most UIO_MAXIOV = 1024); the arrays live on the stack. */
#define SEND_CHUNK 256
/* Datagrams per call into udpSendBatch. */
#define SEND_MAX 65536
/* Datagrams per poll callback; recvmmsg takes at most UIO_MAXIOV. */
#define BUDGET_MAX 1024
/* Largest UDP payload (65535 minus the UDP header, over IPv6 jumbograms aside). */
#define SCRATCH_SIZE 65536
#define ADDRESS_BYTES 16

typedef union {
  struct sockaddr sa;
  struct sockaddr_in in4;
  struct sockaddr_in6 in6;
} udp_address_t;

/* ------------------------------------------------------------------------- */
/* Errors and arguments                                                      */
/* ------------------------------------------------------------------------- */





static int get_family(napi_env env, napi_value value, int* family) {
  int32_t f;
  if (!get_int32(env, value, &f) || (f != 4 && f != 6)) return 0;
  *family = f == 4 ? AF_INET : AF_INET6;
  return 1;
}



/* ------------------------------------------------------------------------- */
/* Socket, options, bind, multicast                                          */
/* ------------------------------------------------------------------------- */

/* udpSocket(family: 4 | 6) -> fd */
static napi_value udp_socket(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  int family;
  int32_t protocol = 0;
  if (argc < 1 || !get_family(env, argv[0], &family) || (argc >= 2 && (!get_int32(env, argv[1], &protocol) || protocol < 0 || protocol > 255))) {
    return throw_arg(env, "udpSocket(family, protocol?) needs 4 or 6, and an IP protocol 1..255 for a raw socket");
  }
  /* protocol > 0: a raw socket of that IP protocol (ESP is 50), read and written in the same batches. */
  int fd = socket(family, (protocol > 0 ? SOCK_RAW : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return throw_errno(env, errno, "socket", family == AF_INET ? "AF_INET" : "AF_INET6");
  return make_int32(env, fd);
}

typedef struct {
  const char* name;
  int level;
  int option;
} socket_option_t;

static const socket_option_t SOCKET_OPTIONS[] = {
    {"SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR},
    {"SO_RCVBUF", SOL_SOCKET, SO_RCVBUF},
    {"SO_SNDBUF", SOL_SOCKET, SO_SNDBUF},
    {"IP_TTL", IPPROTO_IP, IP_TTL},
    {"IP_MULTICAST_TTL", IPPROTO_IP, IP_MULTICAST_TTL},
    {"IP_MULTICAST_LOOP", IPPROTO_IP, IP_MULTICAST_LOOP},
    {"IPV6_V6ONLY", IPPROTO_IPV6, IPV6_V6ONLY},
    {"IPV6_UNICAST_HOPS", IPPROTO_IPV6, IPV6_UNICAST_HOPS},
    {"IPV6_MULTICAST_HOPS", IPPROTO_IPV6, IPV6_MULTICAST_HOPS},
    {"IPV6_MULTICAST_LOOP", IPPROTO_IPV6, IPV6_MULTICAST_LOOP},
    {"IP_TOS", IPPROTO_IP, IP_TOS},
    {"IPV6_TCLASS", IPPROTO_IPV6, IPV6_TCLASS},
    {"SO_NO_CHECK", SOL_SOCKET, SO_NO_CHECK},
    {"UDP_NO_CHECK6_TX", IPPROTO_UDP, UDP_NO_CHECK6_TX},
};

/* The option named by a JS string, or NULL. */
static const socket_option_t* get_option(napi_env env, napi_value value) {
  char name[32];
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, name, sizeof name, &length) != napi_ok) return NULL;
  for (size_t i = 0; i < sizeof SOCKET_OPTIONS / sizeof SOCKET_OPTIONS[0]; i++) {
    if (strcmp(name, SOCKET_OPTIONS[i].name) == 0) return &SOCKET_OPTIONS[i];
  }
  return NULL;
}

/* udpSetOption(fd, name, value): setsockopt with an int. */
static napi_value udp_set_option(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  int32_t fd, value;
  const socket_option_t* option = get_option(env, argv[1]);
  if (!get_int32(env, argv[0], &fd) || option == NULL || !get_int32(env, argv[2], &value)) {
    return throw_arg(env, "udpSetOption(fd, name, value) with a known option name");
  }
  int v = value;
  if (setsockopt(fd, option->level, option->option, &v, sizeof v) < 0) return throw_errno(env, errno, "setsockopt", option->name);
  return make_undefined(env);
}

/* udpGetOption(fd, name) -> value (SO_RCVBUF / SO_SNDBUF: what the kernel granted, doubled as it books them). */
static napi_value udp_get_option(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  int32_t fd;
  const socket_option_t* option = get_option(env, argv[1]);
  if (!get_int32(env, argv[0], &fd) || option == NULL) return throw_arg(env, "udpGetOption(fd, name) with a known option name");
  int v = 0;
  socklen_t length = sizeof v;
  if (getsockopt(fd, option->level, option->option, &v, &length) < 0) return throw_errno(env, errno, "getsockopt", option->name);
  return make_int32(env, v);
}

/* A sockaddr from (family, 4 or 16 address bytes, port, scope id); 0 if the bytes are too short. */
static int make_address(int family, const uint8_t* bytes, size_t length, int port, uint32_t scope_id, udp_address_t* out, socklen_t* out_length) {
  memset(out, 0, sizeof *out);
  if (family == AF_INET) {
    if (length < 4) return 0;
    out->in4.sin_family = AF_INET;
    out->in4.sin_port = htons((uint16_t)port);
    memcpy(&out->in4.sin_addr, bytes, 4);
    *out_length = sizeof out->in4;
  } else {
    if (length < 16) return 0;
    out->in6.sin6_family = AF_INET6;
    out->in6.sin6_port = htons((uint16_t)port);
    memcpy(&out->in6.sin6_addr, bytes, 16);
    out->in6.sin6_scope_id = scope_id;
    *out_length = sizeof out->in6;
  }
  return 1;
}

/* udpBind(fd, family, address: Uint8Array, port, scopeId) */
static napi_value udp_bind(napi_env env, napi_callback_info info) {
  GET_ARGS(5);
  int32_t fd, port, scope_id;
  int family;
  void* bytes = NULL;
  size_t length = 0;
  udp_address_t address;
  socklen_t address_length = 0;
  if (!get_int32(env, argv[0], &fd) || !get_family(env, argv[1], &family) || !vtepkit_get_typed(env, argv[2], napi_uint8_array, &bytes, &length) ||
      !get_int32(env, argv[3], &port) || port < 0 || port > 65535 || !get_int32(env, argv[4], &scope_id) ||
      !make_address(family, (const uint8_t*)bytes, length, port, (uint32_t)scope_id, &address, &address_length)) {
    return throw_arg(env, "udpBind(fd, family, address, port, scopeId)");
  }
  if (bind(fd, &address.sa, address_length) < 0) return throw_errno(env, errno, "bind", NULL);
  return make_undefined(env);
}

/* udpLocalAddress(fd, out: Uint8Array(16)) -> port: getsockname, the address into out (IPv4: first 4 bytes, rest zero). */
static napi_value udp_local_address(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  int32_t fd;
  void* out = NULL;
  size_t length = 0;
  if (!get_int32(env, argv[0], &fd) || !vtepkit_get_typed(env, argv[1], napi_uint8_array, &out, &length) || length < ADDRESS_BYTES) {
    return throw_arg(env, "udpLocalAddress(fd, out16)");
  }
  udp_address_t address;
  socklen_t address_length = sizeof address;
  memset(&address, 0, sizeof address);
  if (getsockname(fd, &address.sa, &address_length) < 0) return throw_errno(env, errno, "getsockname", NULL);
  memset(out, 0, ADDRESS_BYTES);
  if (address.sa.sa_family == AF_INET) {
    memcpy(out, &address.in4.sin_addr, 4);
    return make_int32(env, ntohs(address.in4.sin_port));
  }
  memcpy(out, &address.in6.sin6_addr, 16);
  return make_int32(env, ntohs(address.in6.sin6_port));
}

/* udpSetMulticastInterface(fd, family, address: Uint8Array (IPv4: 4 bytes, may be 0.0.0.0), ifindex) */
static napi_value udp_set_multicast_interface(napi_env env, napi_callback_info info) {
  GET_ARGS(4);
  int32_t fd, ifindex;
  int family;
  void* bytes = NULL;
  size_t length = 0;
  if (!get_int32(env, argv[0], &fd) || !get_family(env, argv[1], &family) || !vtepkit_get_typed(env, argv[2], napi_uint8_array, &bytes, &length) ||
      !get_int32(env, argv[3], &ifindex) || ifindex < 0 || (family == AF_INET && length < 4)) {
    return throw_arg(env, "udpSetMulticastInterface(fd, family, address, ifindex)");
  }
  if (family == AF_INET) {
    struct ip_mreqn request;
    memset(&request, 0, sizeof request);
    memcpy(&request.imr_address, bytes, 4);
    request.imr_ifindex = ifindex;
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &request, sizeof request) < 0) return throw_errno(env, errno, "setsockopt", "IP_MULTICAST_IF");
  } else {
    int index = ifindex;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index) < 0) return throw_errno(env, errno, "setsockopt", "IPV6_MULTICAST_IF");
  }
  return make_undefined(env);
}

/* udpAddMembership(fd, family, group: Uint8Array, address: Uint8Array (IPv4 interface address, or 0.0.0.0), ifindex) */
static napi_value udp_add_membership(napi_env env, napi_callback_info info) {
  GET_ARGS(5);
  int32_t fd, ifindex;
  int family;
  void *group = NULL, *bytes = NULL;
  size_t group_length = 0, length = 0;
  if (!get_int32(env, argv[0], &fd) || !get_family(env, argv[1], &family) || !vtepkit_get_typed(env, argv[2], napi_uint8_array, &group, &group_length) ||
      !vtepkit_get_typed(env, argv[3], napi_uint8_array, &bytes, &length) || !get_int32(env, argv[4], &ifindex) || ifindex < 0 ||
      group_length < (family == AF_INET ? 4u : 16u) || (family == AF_INET && length < 4)) {
    return throw_arg(env, "udpAddMembership(fd, family, group, address, ifindex)");
  }
  if (family == AF_INET) {
    struct ip_mreqn request;
    memset(&request, 0, sizeof request);
    memcpy(&request.imr_multiaddr, group, 4);
    memcpy(&request.imr_address, bytes, 4);
    request.imr_ifindex = ifindex;
    if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &request, sizeof request) < 0) return throw_errno(env, errno, "setsockopt", "IP_ADD_MEMBERSHIP");
  } else {
    struct ipv6_mreq request;
    memset(&request, 0, sizeof request);
    memcpy(&request.ipv6mr_multiaddr, group, 16);
    request.ipv6mr_interface = (unsigned)ifindex;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &request, sizeof request) < 0) return throw_errno(env, errno, "setsockopt", "IPV6_ADD_MEMBERSHIP");
  }
  return make_undefined(env);
}

/* ------------------------------------------------------------------------- */
/* Batched send                                                              */
/* ------------------------------------------------------------------------- */

/* Errors that concern the socket, not one datagram: the batch stops. */
static int send_error_is_fatal(int err) {
  return err == EBADF || err == ENOTSOCK || err == EFAULT || err == EOPNOTSUPP;
}

/* Errors that mean "not now": the socket buffer (or the kernel's memory) is full. */
static int send_error_is_again(int err) {
  return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == ENOMEM;
}

enum { STATUS_REFUSED = 0, STATUS_ERRNO = 1, STATUS_STOP = 2, STATUS_BYTES = 3, STATUS_GSO_MESSAGES = 4, STATUS_GSO_REFUSED = 5, STATUS_LENGTH = 6 };
enum { STOP_NONE = 0, STOP_AGAIN = 1, STOP_FATAL = 2 };

/* UDP generic segmentation offload (linux/udp.h, Linux 4.18): one message of equal-sized
 * segments that the kernel sends as that many datagrams. */
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
/* The kernel's UDP_MAX_SEGMENTS is 64 on older kernels (128 since 6.x); and a GSO message
 * stays below the 64 KiB an IP packet can carry before segmentation. */
#define GSO_SEGMENTS_MAX 64
#define GSO_BYTES_MAX 60000

/* What one call's chunk of messages is made of: sendmmsg entries over datagrams. */
typedef struct {
  struct mmsghdr messages[SEND_CHUNK];
  struct iovec iovs[SEND_CHUNK];
  udp_address_t names[SEND_CHUNK];
  union {
    char bytes[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } controls[SEND_CHUNK];
  /* Message m carries datagrams first[m] .. first[m] + count[m] - 1 of the chunk. */
  int32_t first[SEND_CHUNK];
  int32_t count[SEND_CHUNK];
} send_chunk_t;

typedef struct {
  napi_value views;
  int32_t *offsets, *lengths;
  uint8_t* addresses;
  void* ports;
  int ports_16;
  int family;
} send_args_t;

static int is_multicast(int family, const uint8_t* address) {
  return family == AF_INET ? (address[0] & 0xf0) == 0xe0 : address[0] == 0xff;
}

/*
 * Fills `chunk` with the datagrams base + from .. base + n - 1 of the call. With
 * gso_segments >= 2, consecutive datagrams of the same non-zero length to the same
 * unicast address and port share one message (UDP_SEGMENT), up to gso_segments of them.
 * Returns the number of messages, or -1 after throwing for a bad argument.
 */
static int32_t build_messages(napi_env env, const send_args_t* a, send_chunk_t* chunk, int32_t base, int32_t from, int32_t n, int32_t gso_segments) {
  int32_t m = 0;
  int32_t group_bytes = 0;
  for (int32_t k = from; k < n; k++) {
    int32_t i = base + k;
    napi_value view;
    void* data = NULL;
    size_t length = 0;
    if (napi_get_element(env, a->views, (uint32_t)i, &view) != napi_ok || !vtepkit_get_typed(env, view, napi_uint8_array, &data, &length)) {
      throw_arg(env, "udpSendBatch: views[i] must be a Uint8Array");
      return -1;
    }
    int32_t offset = a->offsets[i], datagram_length = a->lengths[i];
    if (offset < 0 || datagram_length < 0 || (size_t)offset + (size_t)datagram_length > length) {
      throw_arg(env, "udpSendBatch: offsets[i] + lengths[i] is outside views[i]");
      return -1;
    }
    int32_t port = a->ports_16 ? ((uint16_t*)a->ports)[i] : ((int32_t*)a->ports)[i];
    /* 0 for a raw socket (the kernel ignores it); a UDP socket refuses it per datagram. */
    if (port < 0 || port > 65535) {
      throw_arg(env, "udpSendBatch: ports[i] must be in 0..65535");
      return -1;
    }
    const uint8_t* address = a->addresses + (size_t)i * ADDRESS_BYTES;
    chunk->iovs[k].iov_base = (uint8_t*)data + offset;
    chunk->iovs[k].iov_len = (size_t)datagram_length;
    if (m > 0 && gso_segments >= 2) {
      int32_t previous = base + k - 1;
      int32_t previous_port = a->ports_16 ? ((uint16_t*)a->ports)[previous] : ((int32_t*)a->ports)[previous];
      if (k > from && chunk->count[m - 1] < gso_segments && datagram_length > 0 && datagram_length == a->lengths[base + chunk->first[m - 1]] &&
          group_bytes + datagram_length <= GSO_BYTES_MAX && port == previous_port &&
          memcmp(address, a->addresses + (size_t)previous * ADDRESS_BYTES, ADDRESS_BYTES) == 0 && !is_multicast(a->family, address)) {
        chunk->count[m - 1]++;
        chunk->messages[m - 1].msg_hdr.msg_iovlen++;
        group_bytes += datagram_length;
        continue;
      }
    }
    socklen_t name_length = 0;
    make_address(a->family, address, ADDRESS_BYTES, port, 0, &chunk->names[m], &name_length);
    memset(&chunk->messages[m], 0, sizeof chunk->messages[m]);
    chunk->messages[m].msg_hdr.msg_name = &chunk->names[m];
    chunk->messages[m].msg_hdr.msg_namelen = name_length;
    chunk->messages[m].msg_hdr.msg_iov = &chunk->iovs[k];
    chunk->messages[m].msg_hdr.msg_iovlen = 1;
    chunk->first[m] = k;
    chunk->count[m] = 1;
    group_bytes = datagram_length;
    m++;
  }
  /* The segment size of every message that carries more than one datagram. */
  for (int32_t j = 0; j < m; j++) {
    if (chunk->count[j] < 2) continue;
    struct msghdr* header = &chunk->messages[j].msg_hdr;
    header->msg_control = chunk->controls[j].bytes;
    header->msg_controllen = sizeof chunk->controls[j].bytes;
    struct cmsghdr* control = CMSG_FIRSTHDR(header);
    control->cmsg_level = SOL_UDP;
    control->cmsg_type = UDP_SEGMENT;
    control->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    uint16_t segment = (uint16_t)chunk->iovs[chunk->first[j]].iov_len;
    memcpy(CMSG_DATA(control), &segment, sizeof segment);
  }
  return m;
}

/*
 * udpSendBatch(fd, family, views: Uint8Array[], offsets: Int32Array, lengths: Int32Array,
 *              addresses: Uint8Array(16 * count), ports: Int32Array | Uint16Array, count,
 *              status: Int32Array(6), gsoSegments) -> sent
 * Datagram i is views[i][offsets[i] .. offsets[i] + lengths[i]) to addresses[16i ..] port ports[i].
 * gsoSegments >= 2: runs of equal-sized datagrams to one unicast peer go as one message with
 * UDP_SEGMENT (at most gsoSegments, 64 KiB); 0 or 1: one message per datagram.
 * status: [refused (skipped with an error), last errno, stop (0 none, 1 EAGAIN/ENOBUFS, 2 socket error),
 * bytes sent, GSO messages sent, 1 if the kernel refused GSO (EIO/EINVAL: no checksum offload,
 * SO_NO_CHECK, an old kernel), in which case the rest went one datagram per message].
 * Datagrams neither sent nor refused were left because the batch stopped. A socket
 * error (EBADF, ...) before anything went is thrown.
 */
static napi_value udp_send_batch(napi_env env, napi_callback_info info) {
  GET_ARGS(10);
  int32_t fd, count, gso_segments;
  bool is_array = false;
  uint32_t views_length = 0;
  int32_t* status = NULL;
  size_t offsets_length = 0, lengths_length = 0, addresses_length = 0, ports_length = 0, status_length = 0;
  send_args_t a = { .views = argv[2] };
  if (!get_int32(env, argv[0], &fd) || !get_family(env, argv[1], &a.family) ||
      napi_is_array(env, argv[2], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[2], &views_length) != napi_ok ||
      !vtepkit_get_typed(env, argv[3], napi_int32_array, (void**)&a.offsets, &offsets_length) ||
      !vtepkit_get_typed(env, argv[4], napi_int32_array, (void**)&a.lengths, &lengths_length) ||
      !vtepkit_get_typed(env, argv[5], napi_uint8_array, (void**)&a.addresses, &addresses_length) || !get_int32(env, argv[7], &count) ||
      !vtepkit_get_typed(env, argv[8], napi_int32_array, (void**)&status, &status_length) || status_length < STATUS_LENGTH ||
      !get_int32(env, argv[9], &gso_segments)) {
    return throw_arg(env, "udpSendBatch(fd, family, views, offsets, lengths, addresses, ports, count, status, gsoSegments)");
  }
  if (vtepkit_get_typed(env, argv[6], napi_uint16_array, &a.ports, &ports_length)) {
    a.ports_16 = 1;
  } else if (!vtepkit_get_typed(env, argv[6], napi_int32_array, &a.ports, &ports_length)) {
    return throw_arg(env, "udpSendBatch: ports must be an Int32Array or a Uint16Array");
  }
  if (count < 0 || count > SEND_MAX || (uint32_t)count > views_length || (size_t)count > offsets_length || (size_t)count > lengths_length ||
      (size_t)count > ports_length || (size_t)count * ADDRESS_BYTES > addresses_length) {
    return throw_arg(env, "udpSendBatch: count is larger than an array");
  }
  if (gso_segments > GSO_SEGMENTS_MAX) gso_segments = GSO_SEGMENTS_MAX;

  /* ~20 KiB: too big for a comfortable stack frame next to N-API's, and never shared (one JS thread). */
  static _Thread_local send_chunk_t chunk;
  int32_t sent = 0, refused = 0, last_error = 0, stop = STOP_NONE, gso_messages = 0, gso_refused = 0;
  int64_t bytes = 0;
  for (int32_t base = 0; base < count && stop == STOP_NONE; base += SEND_CHUNK) {
    int32_t n = count - base < SEND_CHUNK ? count - base : SEND_CHUNK;
    int32_t m = build_messages(env, &a, &chunk, base, 0, n, gso_segments);
    if (m < 0) return NULL;
    int32_t k = 0;
    while (k < m) {
      int r = sendmmsg(fd, chunk.messages + k, (unsigned)(m - k), 0);
      if (r < 0) {
        int err = errno;
        if (err == EINTR) continue;
        if (chunk.count[k] > 1 && (err == EIO || err == EINVAL)) {
          /* The kernel will not segment here: the rest goes one datagram per message. */
          gso_refused = 1;
          gso_segments = 0;
          m = build_messages(env, &a, &chunk, base, chunk.first[k], n, 0);
          if (m < 0) return NULL;
          k = 0;
          continue;
        }
        last_error = err;
        if (send_error_is_again(err)) {
          stop = STOP_AGAIN;
          break;
        }
        if (send_error_is_fatal(err)) {
          if (sent == 0 && refused == 0) return throw_errno(env, err, "sendmmsg", NULL);
          stop = STOP_FATAL;
          break;
        }
        /* This message was refused (too big, no route, bad address ...): skip its datagrams, send the rest. */
        refused += chunk.count[k];
        k++;
        continue;
      }
      for (int j = 0; j < r; j++) {
        bytes += chunk.messages[k + j].msg_len;
        sent += chunk.count[k + j];
        if (chunk.count[k + j] > 1) gso_messages++;
      }
      k += r;
    }
  }
  status[STATUS_REFUSED] = refused;
  status[STATUS_ERRNO] = last_error;
  status[STATUS_STOP] = stop;
  status[STATUS_BYTES] = bytes > INT32_MAX ? INT32_MAX : (int32_t)bytes;
  status[STATUS_GSO_MESSAGES] = gso_messages;
  status[STATUS_GSO_REFUSED] = gso_refused;
  return make_int32(env, sent);
}

/* ------------------------------------------------------------------------- */
/* Batched receive on the event loop                                         */
/* ------------------------------------------------------------------------- */

/* The recvmmsg reader: the shared core (reader.h), where sources and ports go, and recvmmsg's arrays. */
typedef struct udp_reader {
  reader_core_t core;
  uint8_t* sources; /* shared with JS: 16 address bytes per datagram */
  int32_t* ports;   /* shared with JS: source port per datagram */
  /* recvmmsg's arrays, made once: message i reads into slot slot_of[i]. */
  struct mmsghdr* messages;
  struct iovec* iovs;
  udp_address_t* names;
  uint32_t* slot_of;
} udp_reader_t;

static void udp_reader_free_extra(reader_core_t* c) {
  udp_reader_t* r = (udp_reader_t*)c;
  free(r->messages);
  free(r->iovs);
  free(r->names);
  free(r->slot_of);
}

/* Calls callback(count, noBuffer, oversize, softErrors, error); returns 0 if the reader was closed meanwhile. */
static int udp_deliver(reader_core_t* c, uint32_t count, uint32_t no_buffer, uint32_t oversize, uint32_t soft, napi_value error) {
  napi_env env = c->env;
  napi_value argv[5];
  napi_create_uint32(env, count, &argv[0]);
  napi_create_uint32(env, no_buffer, &argv[1]);
  napi_create_uint32(env, oversize, &argv[2]);
  napi_create_uint32(env, soft, &argv[3]);
  argv[4] = error != NULL ? error : make_undefined(env);
  return reader_deliver(c, 5, argv);
}

/* Sets up messages[0 .. n) over the armed slots, at most `want`; returns n. */
static uint32_t reader_gather(udp_reader_t* r, uint32_t want) {
  const reader_core_t* c = &r->core;
  uint32_t n = 0;
  for (uint32_t s = 0; s < c->budget && n < want; s++) {
    if (c->data[s] == NULL) continue;
    r->iovs[n].iov_base = c->data[s];
    r->iovs[n].iov_len = c->capacity[s];
    struct msghdr* h = &r->messages[n].msg_hdr;
    h->msg_name = &r->names[n];
    h->msg_namelen = sizeof r->names[n];
    h->msg_iov = &r->iovs[n];
    h->msg_iovlen = 1;
    h->msg_control = NULL;
    h->msg_controllen = 0;
    h->msg_flags = 0;
    r->slot_of[n] = s;
    n++;
  }
  return n;
}

/* Sets up messages[0 .. n) all over the scratch buffer (the datagrams are dropped); returns n. */
static uint32_t reader_gather_scratch(udp_reader_t* r, uint32_t want) {
  r->iovs[0].iov_base = r->core.scratch;
  r->iovs[0].iov_len = r->core.scratch_size;
  for (uint32_t i = 0; i < want; i++) {
    struct msghdr* h = &r->messages[i].msg_hdr;
    memset(h, 0, sizeof *h);
    h->msg_iov = &r->iovs[0];
    h->msg_iovlen = 1;
  }
  return want;
}

/* Errors a receive reports that concern one datagram or one moment, not the socket: counted, reading goes on. */
static int receive_error_is_soft(int err) {
  return err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH || err == EMSGSIZE || err == ENOBUFS ||
         err == ENOMEM || err == ETIMEDOUT || err == EPROTO || err == ENOPROTOOPT || err == EHOSTDOWN || err == ENONET;
}

static void udp_on_poll(uv_poll_t* handle, int status, int events) {
  (void)events;
  udp_reader_t* r = (udp_reader_t*)handle->data;
  reader_core_t* c = &r->core;
  if (c->closing || c->stopped) return;
  napi_env env = c->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;

  uint32_t count = 0, no_buffer = 0, oversize = 0, soft = 0, done = 0;
  napi_value error = NULL;
  int err = 0;
  const char* syscall = "recvmmsg";
  if (status < 0) {
    err = -status;
    syscall = "uv_poll";
  }
  int gave_up = 0; /* no armed slot even after asking JavaScript to re-arm */
  while (err == 0 && done < c->budget) {
    uint32_t want = c->budget - done;
    uint32_t n = reader_gather(r, want);
    if (n == 0 && !gave_up) {
      /* Out of armed slots: hand over what we have, let JavaScript re-arm, carry on. */
      if (!udp_deliver(c, count, no_buffer, oversize, soft, NULL)) goto done;
      count = no_buffer = oversize = soft = 0;
      n = reader_gather(r, want);
      if (n == 0) gave_up = 1;
    }
    int scratch = n == 0;
    if (scratch) n = reader_gather_scratch(r, want);
    int got;
    do {
      got = recvmmsg(c->fd, r->messages, n, MSG_DONTWAIT, NULL);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
      int e = errno;
      if (e == EAGAIN || e == EWOULDBLOCK) break;
      if (receive_error_is_soft(e)) {
        soft++;
        break; /* level-triggered: the next poll reads what is left */
      }
      err = e;
      break;
    }
    done += (uint32_t)got;
    if (scratch) {
      no_buffer += (uint32_t)got;
    } else {
      for (int i = 0; i < got; i++) {
        struct mmsghdr* m = &r->messages[i];
        uint32_t s = r->slot_of[i];
        if (m->msg_hdr.msg_flags & MSG_TRUNC) {
          oversize++;
          continue; /* the slot stays armed */
        }
        c->batch[2 * count] = (int32_t)s;
        c->batch[2 * count + 1] = (int32_t)m->msg_len;
        uint8_t* source = r->sources + (size_t)count * ADDRESS_BYTES;
        const udp_address_t* name = &r->names[i];
        if (name->sa.sa_family == AF_INET6) {
          memcpy(source, &name->in6.sin6_addr, 16);
          r->ports[count] = ntohs(name->in6.sin6_port);
        } else {
          memcpy(source, &name->in4.sin_addr, 4);
          memset(source + 4, 0, ADDRESS_BYTES - 4);
          r->ports[count] = ntohs(name->in4.sin_port);
        }
        count++;
        c->data[s] = NULL;
      }
    }
    /* Fewer than asked: the queue is empty (or an error waits for the next call). */
    if ((uint32_t)got < n) break;
  }

  if (err != 0) {
    reader_stop(c);
    error = vtepkit_errno_error(env, err, syscall, NULL);
  }
  if (count > 0 || no_buffer > 0 || oversize > 0 || soft > 0 || error != NULL) udp_deliver(c, count, no_buffer, oversize, soft, error);
done:
  napi_close_handle_scope(env, scope);
}

/*
 * udpCreateReader(fd, budget, views: Array, offsets: Int32Array, capacities: Int32Array,
 *                 batch: Int32Array(2 * budget), sources: Uint8Array(16 * budget),
 *                 ports: Int32Array(budget), callback) -> reader
 * Arms every slot from views/offsets/capacities and starts polling.
 */
static napi_value udp_create_reader(napi_env env, napi_callback_info info) {
  GET_ARGS(9);
  int32_t fd, budget;
  int32_t *offsets = NULL, *capacities = NULL, *batch = NULL, *ports = NULL;
  uint8_t* sources = NULL;
  size_t sources_length = 0, ports_length = 0;
  napi_valuetype callback_type;
  if (!reader_args(env, argv, BUDGET_MAX, &fd, &budget, &offsets, &capacities, &batch) ||
      !vtepkit_get_typed(env, argv[6], napi_uint8_array, (void**)&sources, &sources_length) || sources_length < ADDRESS_BYTES * (size_t)budget ||
      !vtepkit_get_typed(env, argv[7], napi_int32_array, (void**)&ports, &ports_length) || ports_length < (size_t)budget ||
      napi_typeof(env, argv[8], &callback_type) != napi_ok || callback_type != napi_function) {
    return throw_arg(env, "udpCreateReader(fd, budget, views, offsets, capacities, batch, sources, ports, callback)");
  }
  reader_core_t* c = reader_alloc(env, sizeof(udp_reader_t), fd, budget, offsets, capacities, batch, SCRATCH_SIZE);
  if (c == NULL) return throw_errno(env, ENOMEM, "malloc", NULL);
  udp_reader_t* r = (udp_reader_t*)c;
  c->free_extra = udp_reader_free_extra;
  r->sources = sources;
  r->ports = ports;
  r->messages = (struct mmsghdr*)calloc((size_t)budget, sizeof *r->messages);
  r->iovs = (struct iovec*)calloc((size_t)budget, sizeof *r->iovs);
  r->names = (udp_address_t*)calloc((size_t)budget, sizeof *r->names);
  r->slot_of = (uint32_t*)calloc((size_t)budget, sizeof *r->slot_of);
  if (r->messages == NULL || r->iovs == NULL || r->names == NULL || r->slot_of == NULL) {
    reader_free(c);
    return throw_errno(env, ENOMEM, "malloc", NULL);
  }
  return reader_start(c, argv[2], argv[8], &argv[3], 5, "vtepkit:UdpRead", udp_on_poll);
}

/* udpCloseReader(reader): stop polling and drop the references to the JS arrays. Idempotent. */
static napi_value udp_close_reader(napi_env env, napi_callback_info info) {
  return reader_close_call(env, info, "udpCloseReader(reader)");
}

/* ------------------------------------------------------------------------- */
/* Registration                                                              */
/* ------------------------------------------------------------------------- */

napi_status vtepkit_udp_init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"udpSocket", NULL, udp_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpSetOption", NULL, udp_set_option, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpGetOption", NULL, udp_get_option, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpBind", NULL, udp_bind, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpLocalAddress", NULL, udp_local_address, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpSetMulticastInterface", NULL, udp_set_multicast_interface, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpAddMembership", NULL, udp_add_membership, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpSendBatch", NULL, udp_send_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpCreateReader", NULL, udp_create_reader, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpCloseReader", NULL, udp_close_reader, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
}
