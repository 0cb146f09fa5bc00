/*
 * vtepkit_tap: the syscalls Node cannot make for a TAP device, and nothing else.
 *
 *   open(name, multiQueue, exclusive) -> { fd, name, persist }   /dev/net/tun, TUNSETIFF, TUNGETIFF
 *   setPersist(fd, on)                                           TUNSETPERSIST
 *   close(fd)
 *   getMtu(name) / setMtu(name, mtu)                             SIOCGIFMTU / SIOCSIFMTU
 *   getMac(name) -> Uint8Array(6) / setMac(name, bytes)         SIOCGIFHWADDR / SIOCSIFHWADDR
 *   getFlags(name) / setUp(name, up)                             SIOCGIFFLAGS / SIOCSIFFLAGS
 *   getIfindex(name)                                             SIOCGIFINDEX
 *   writeBatch(fd, views, offsets, lengths, count) -> frames written (stops at EAGAIN)
 *   createReader(fd, budget, views, offsets, capacities, batch, callback) -> reader
 *   closeReader(reader)
 *   udp*: the batched UDP socket, see udp.c
 *
 * The reader watches the non-blocking fd with a uv_poll_t on Node's own loop (no
 * thread). When the fd is readable it reads up to `budget` frames, each straight
 * into a buffer JavaScript armed (views[slot] at offsets[slot], at most
 * capacities[slot] bytes), writes (slot, length) pairs into the shared Int32Array
 * `batch`, and calls `callback(count, noBuffer, oversize, error)` once for the
 * whole batch. After the callback returns it re-reads the slots it consumed (and
 * any that were empty), which JavaScript has re-armed by then.
 *
 * Syscall failures become JavaScript errors with `code` (the errno name),
 * `errno` and `syscall`; nothing here aborts the process.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "reader.h"
#include "shim.h"

#define ETHER_ADDR_LEN 6
/* Largest frame a TAP can hand us: MTU 65535 + Ethernet header + two VLAN tags. */
#define SCRATCH_SIZE (65535 + 14 + 8)
#define BUDGET_MAX 4096

/* ------------------------------------------------------------------------- */
/* Errors                                                                    */
/* ------------------------------------------------------------------------- */

static const char* errno_name(int err) {
  switch (err) {
#define NAME(e) \
  case e:       \
    return #e;
    NAME(EPERM) NAME(ENOENT) NAME(ESRCH) NAME(EINTR) NAME(EIO) NAME(ENXIO) NAME(E2BIG)
    NAME(EBADF) NAME(EAGAIN) NAME(ENOMEM) NAME(EACCES) NAME(EFAULT) NAME(EBUSY) NAME(EEXIST)
    NAME(ENODEV) NAME(ENOTDIR) NAME(EINVAL) NAME(ENFILE) NAME(EMFILE) NAME(ENOTTY) NAME(ENOSPC)
    NAME(EPIPE) NAME(ERANGE) NAME(ENAMETOOLONG) NAME(ENOSYS) NAME(EBADFD) NAME(ENOTSOCK)
    NAME(EMSGSIZE) NAME(EPROTONOSUPPORT) NAME(EOPNOTSUPP) NAME(EAFNOSUPPORT) NAME(EADDRINUSE)
    NAME(EADDRNOTAVAIL) NAME(ENETDOWN) NAME(ENETUNREACH) NAME(ENOBUFS) NAME(ENOTCONN)
    NAME(ETIMEDOUT) NAME(EHOSTUNREACH) NAME(ENOMEDIUM) NAME(ECONNREFUSED) NAME(EDESTADDRREQ)
    NAME(ENOPROTOOPT)
#undef NAME
    default:
      return NULL;
  }
}

/* Builds Error("<syscall> <what>: <strerror> (<CODE>)") with code, errno and syscall. */
static napi_value make_errno_error(napi_env env, int err, const char* syscall, const char* what) {
  char code[32];
  const char* name = errno_name(err);
  if (name == NULL) {
    snprintf(code, sizeof code, "E%d", err);
    name = code;
  }
  char message[256];
  if (what != NULL && what[0] != '\0') {
    snprintf(message, sizeof message, "%s %s: %s (%s)", syscall, what, strerror(err), name);
  } else {
    snprintf(message, sizeof message, "%s: %s (%s)", syscall, strerror(err), name);
  }
  napi_value code_value, message_value, error, errno_value, syscall_value;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code_value);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_value);
  napi_create_error(env, code_value, message_value, &error);
  napi_create_int32(env, err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value);
  napi_set_named_property(env, error, "syscall", syscall_value);
  return error;
}

/* The same, for udp.c (shim.h). */
napi_value vtepkit_errno_error(napi_env env, int err, const char* syscall, const char* what) {
  return make_errno_error(env, err, syscall, what);
}



/* ------------------------------------------------------------------------- */
/* Argument helpers                                                          */
/* ------------------------------------------------------------------------- */



static int get_bool(napi_env env, napi_value value, bool* out) {
  return napi_get_value_bool(env, value, out) == napi_ok;
}

/* Copies an interface name (at most IFNAMSIZ - 1 bytes) into `out`. */
static int get_ifname(napi_env env, napi_value value, char out[IFNAMSIZ]) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return 0;
  if (length >= IFNAMSIZ) return 0;
  memset(out, 0, IFNAMSIZ);
  return napi_get_value_string_utf8(env, value, out, IFNAMSIZ, &length) == napi_ok;
}

/* A Uint8Array's data pointer and length, or 0 if `value` is not one (or is detached). */
static int get_uint8_array(napi_env env, napi_value value, uint8_t** data, size_t* length) {
  void* pointer = NULL;
  if (!vtepkit_get_typed(env, value, napi_uint8_array, &pointer, length) || pointer == NULL) return 0;
  *data = (uint8_t*)pointer;
  return 1;
}

static int get_int32_array(napi_env env, napi_value value, int32_t** data, size_t* length) {
  return vtepkit_get_typed(env, value, napi_int32_array, (void**)data, length);
}



/* ------------------------------------------------------------------------- */
/* Device: open, persist, close                                              */
/* ------------------------------------------------------------------------- */

/* open(name: string, multiQueue: boolean, exclusive: boolean) -> { fd, name } */
static napi_value tap_open(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  char name[IFNAMSIZ];
  bool multi_queue = false, exclusive = false;
  if (!get_ifname(env, argv[0], name)) return throw_arg(env, "name must be a string of at most 15 bytes");
  if (!get_bool(env, argv[1], &multi_queue) || !get_bool(env, argv[2], &exclusive)) {
    return throw_arg(env, "multiQueue and exclusive must be booleans");
  }

  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "open", "/dev/net/tun");

  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (multi_queue) ifr.ifr_flags |= IFF_MULTI_QUEUE;
  if (exclusive) ifr.ifr_flags |= IFF_TUN_EXCL;
  memcpy(ifr.ifr_name, name, IFNAMSIZ);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "ioctl(TUNSETIFF)", name[0] != '\0' ? name : "tap%d");
  }
  /* TUNGETIFF: the kernel's name (for "" or "tap%d") and IFF_PERSIST of a device that existed. */
  if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "ioctl(TUNGETIFF)", name);
  }
  ifr.ifr_name[IFNAMSIZ - 1] = '\0';

  napi_value result, fd_value, name_value, persist_value;
  napi_create_object(env, &result);
  napi_create_int32(env, fd, &fd_value);
  napi_create_string_utf8(env, ifr.ifr_name, NAPI_AUTO_LENGTH, &name_value);
  napi_get_boolean(env, (ifr.ifr_flags & IFF_PERSIST) != 0, &persist_value);
  napi_set_named_property(env, result, "fd", fd_value);
  napi_set_named_property(env, result, "name", name_value);
  napi_set_named_property(env, result, "persist", persist_value);
  return result;
}

/* setPersist(fd, on) */
static napi_value tap_set_persist(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  int32_t fd;
  bool on;
  if (!get_int32(env, argv[0], &fd) || !get_bool(env, argv[1], &on)) return throw_arg(env, "setPersist(fd, on)");
  if (ioctl(fd, TUNSETPERSIST, (unsigned long)(on ? 1 : 0)) < 0) return throw_errno(env, errno, "ioctl(TUNSETPERSIST)", NULL);
  return make_undefined(env);
}

/* close(fd) */
static napi_value tap_close(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  int32_t fd;
  if (!get_int32(env, argv[0], &fd)) return throw_arg(env, "close(fd)");
  /* Linux releases the descriptor even when close() reports an error: never retry. */
  if (close(fd) < 0 && errno != EINTR) return throw_errno(env, errno, "close", NULL);
  return make_undefined(env);
}

/* ------------------------------------------------------------------------- */
/* Interface configuration: ioctl on a throwaway socket                      */
/* ------------------------------------------------------------------------- */

/* Any socket reaches the device ioctls; AF_INET needs no privilege, AF_PACKET works without IPv4. */
static int config_socket(void) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  return fd;
}

/* Runs one SIOC* ioctl on `ifr`; on failure throws and returns 0. */
static int if_ioctl(napi_env env, unsigned long request, const char* syscall, struct ifreq* ifr) {
  int fd = config_socket();
  if (fd < 0) {
    throw_errno(env, errno, "socket", ifr->ifr_name);
    return 0;
  }
  int rc = ioctl(fd, request, ifr);
  int err = errno;
  close(fd);
  if (rc < 0) {
    throw_errno(env, err, syscall, ifr->ifr_name);
    return 0;
  }
  return 1;
}

static int ifreq_from_name(napi_env env, napi_value value, struct ifreq* ifr) {
  char name[IFNAMSIZ];
  if (!get_ifname(env, value, name) || name[0] == '\0') return 0;
  memset(ifr, 0, sizeof *ifr);
  memcpy(ifr->ifr_name, name, IFNAMSIZ);
  return 1;
}

/* getMtu(name) -> number */
static napi_value tap_get_mtu(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  struct ifreq ifr;
  if (!ifreq_from_name(env, argv[0], &ifr)) return throw_arg(env, "getMtu(name)");
  if (!if_ioctl(env, SIOCGIFMTU, "ioctl(SIOCGIFMTU)", &ifr)) return NULL;
  return make_int32(env, ifr.ifr_mtu);
}

/* setMtu(name, mtu) */
static napi_value tap_set_mtu(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  struct ifreq ifr;
  int32_t mtu;
  if (!ifreq_from_name(env, argv[0], &ifr) || !get_int32(env, argv[1], &mtu)) return throw_arg(env, "setMtu(name, mtu)");
  ifr.ifr_mtu = mtu;
  if (!if_ioctl(env, SIOCSIFMTU, "ioctl(SIOCSIFMTU)", &ifr)) return NULL;
  return make_undefined(env);
}

/* getMac(name) -> Uint8Array(6) */
static napi_value tap_get_mac(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  struct ifreq ifr;
  if (!ifreq_from_name(env, argv[0], &ifr)) return throw_arg(env, "getMac(name)");
  if (!if_ioctl(env, SIOCGIFHWADDR, "ioctl(SIOCGIFHWADDR)", &ifr)) return NULL;
  napi_value buffer, array;
  void* data = NULL;
  if (napi_create_arraybuffer(env, ETHER_ADDR_LEN, &data, &buffer) != napi_ok) return NULL;
  memcpy(data, ifr.ifr_hwaddr.sa_data, ETHER_ADDR_LEN);
  if (napi_create_typedarray(env, napi_uint8_array, ETHER_ADDR_LEN, buffer, 0, &array) != napi_ok) return NULL;
  return array;
}

/* setMac(name, bytes: Uint8Array(6)) */
static napi_value tap_set_mac(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  struct ifreq ifr;
  uint8_t* bytes = NULL;
  size_t length = 0;
  if (!ifreq_from_name(env, argv[0], &ifr) || !get_uint8_array(env, argv[1], &bytes, &length) || length != ETHER_ADDR_LEN) {
    return throw_arg(env, "setMac(name, bytes) needs a 6-byte Uint8Array");
  }
  ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
  memcpy(ifr.ifr_hwaddr.sa_data, bytes, ETHER_ADDR_LEN);
  if (!if_ioctl(env, SIOCSIFHWADDR, "ioctl(SIOCSIFHWADDR)", &ifr)) return NULL;
  return make_undefined(env);
}

/* getFlags(name) -> number (IFF_UP 0x1, IFF_RUNNING 0x40, ...) */
static napi_value tap_get_flags(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  struct ifreq ifr;
  if (!ifreq_from_name(env, argv[0], &ifr)) return throw_arg(env, "getFlags(name)");
  if (!if_ioctl(env, SIOCGIFFLAGS, "ioctl(SIOCGIFFLAGS)", &ifr)) return NULL;
  return make_int32(env, (uint16_t)ifr.ifr_flags);
}

/* setUp(name, up): read the flags, set or clear IFF_UP, write them back. */
static napi_value tap_set_up(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  struct ifreq ifr;
  bool up;
  if (!ifreq_from_name(env, argv[0], &ifr) || !get_bool(env, argv[1], &up)) return throw_arg(env, "setUp(name, up)");
  if (!if_ioctl(env, SIOCGIFFLAGS, "ioctl(SIOCGIFFLAGS)", &ifr)) return NULL;
  if (up) {
    ifr.ifr_flags |= IFF_UP;
  } else {
    ifr.ifr_flags &= ~IFF_UP;
  }
  if (!if_ioctl(env, SIOCSIFFLAGS, "ioctl(SIOCSIFFLAGS)", &ifr)) return NULL;
  return make_undefined(env);
}

/* getIfindex(name) -> number */
static napi_value tap_get_ifindex(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  struct ifreq ifr;
  if (!ifreq_from_name(env, argv[0], &ifr)) return throw_arg(env, "getIfindex(name)");
  if (!if_ioctl(env, SIOCGIFINDEX, "ioctl(SIOCGIFINDEX)", &ifr)) return NULL;
  return make_int32(env, ifr.ifr_ifindex);
}

/* ------------------------------------------------------------------------- */
/* Batched write                                                             */
/* ------------------------------------------------------------------------- */

/*
 * writeBatch(fd, views: Uint8Array[], offsets: Int32Array, lengths: Int32Array, count) -> number
 * One write() per frame (a TAP takes one frame per write), all in one call from
 * JavaScript. Stops at EAGAIN/ENOBUFS and returns how many went. Any other error
 * is thrown if no frame went yet, else the count is returned and the next call
 * meets the error again.
 */
static napi_value tap_write_batch(napi_env env, napi_callback_info info) {
  GET_ARGS(5);
  int32_t fd, count;
  int32_t *offsets = NULL, *lengths = NULL;
  size_t offsets_length = 0, lengths_length = 0;
  uint32_t views_length = 0;
  bool is_array = false;
  if (!get_int32(env, argv[0], &fd) || !get_int32(env, argv[4], &count) || count < 0 ||
      napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[1], &views_length) != napi_ok ||
      !get_int32_array(env, argv[2], &offsets, &offsets_length) ||
      !get_int32_array(env, argv[3], &lengths, &lengths_length) || (uint32_t)count > views_length ||
      (size_t)count > offsets_length || (size_t)count > lengths_length) {
    return throw_arg(env, "writeBatch(fd, views, offsets, lengths, count)");
  }
  int32_t written = 0;
  for (; written < count; written++) {
    napi_value view;
    uint8_t* data = NULL;
    size_t length = 0;
    if (napi_get_element(env, argv[1], (uint32_t)written, &view) != napi_ok || !get_uint8_array(env, view, &data, &length)) {
      return throw_arg(env, "writeBatch: views[i] must be a Uint8Array");
    }
    int32_t offset = offsets[written], frame_length = lengths[written];
    if (offset < 0 || frame_length < 0 || (size_t)offset + (size_t)frame_length > length) {
      return throw_arg(env, "writeBatch: offsets[i] + lengths[i] is outside views[i]");
    }
    ssize_t n;
    do {
      n = write(fd, data + offset, (size_t)frame_length);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) break;
      if (written == 0) return throw_errno(env, err, "write", NULL);
      break;
    }
  }
  return make_int32(env, written);
}

/* ------------------------------------------------------------------------- */
/* Batched read on the event loop                                            */
/* ------------------------------------------------------------------------- */

/* The TAP reader: the shared core (reader.h) and one spill byte. */
typedef struct tap_reader {
  reader_core_t core;
  uint8_t spill[8]; /* the byte after a slot: a frame that reaches it did not fit */
} tap_reader_t;

/* Calls callback(count, noBuffer, oversize, error); returns 0 if the reader was closed meanwhile. */
static int tap_deliver(reader_core_t* c, uint32_t count, uint32_t no_buffer, uint32_t oversize, napi_value error) {
  napi_env env = c->env;
  napi_value argv[4];
  napi_create_uint32(env, count, &argv[0]);
  napi_create_uint32(env, no_buffer, &argv[1]);
  napi_create_uint32(env, oversize, &argv[2]);
  argv[3] = error != NULL ? error : make_undefined(env);
  return reader_deliver(c, 4, argv);
}

static uint32_t next_armed(const reader_core_t* c, uint32_t s) {
  while (s < c->budget && c->data[s] == NULL) s++;
  return s;
}

static void tap_on_poll(uv_poll_t* handle, int status, int events) {
  (void)events;
  tap_reader_t* r = (tap_reader_t*)handle->data;
  reader_core_t* c = &r->core;
  if (c->closing || c->stopped) return;
  napi_env env = c->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;

  uint32_t count = 0, no_buffer = 0, oversize = 0;
  napi_value error = NULL;
  int err = 0;
  const char* syscall = "read";
  if (status < 0) {
    /* libuv reports POLLERR (e.g. the device was deleted) as UV_EBADF. */
    err = -status;
    syscall = "uv_poll";
  }
  uint32_t s = 0;
  int gave_up = 0; /* no armed slot even after asking JavaScript to re-arm */
  for (uint32_t attempt = 0; err == 0 && attempt < c->budget; attempt++) {
    s = next_armed(c, s);
    if (s >= c->budget && !gave_up) {
      /* Out of armed slots: hand over what we have, let JavaScript re-arm, carry on. */
      if (!tap_deliver(c, count, no_buffer, oversize, NULL)) goto done;
      count = no_buffer = oversize = 0;
      s = next_armed(c, 0);
      if (s >= c->budget) gave_up = 1;
    }
    uint8_t* target;
    size_t capacity;
    if (s < c->budget) {
      target = c->data[s];
      capacity = c->capacity[s];
    } else {
      target = c->scratch;
      capacity = c->scratch_size;
    }
    /*
     * A TAP read copies what fits and returns the copied length, so a frame
     * longer than the slot would look like one that fits exactly. One spill
     * byte after the slot tells them apart: n > capacity means truncated.
     */
    struct iovec iov[2] = {{target, capacity}, {r->spill, 1}};
    ssize_t n;
    do {
      n = readv(c->fd, iov, 2);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
      break;
    }
    if (s >= c->budget) {
      no_buffer++;
      continue;
    }
    if ((size_t)n > capacity) {
      oversize++;
      continue; /* the slot stays armed */
    }
    c->batch[2 * count] = (int32_t)s;
    c->batch[2 * count + 1] = (int32_t)n;
    count++;
    c->data[s] = NULL;
    s++;
  }

  if (err != 0) {
    reader_stop(c);
    error = make_errno_error(env, err, syscall, NULL);
  }
  if (count > 0 || no_buffer > 0 || oversize > 0 || error != NULL) tap_deliver(c, count, no_buffer, oversize, error);
done:
  napi_close_handle_scope(env, scope);
}

/*
 * createReader(fd, budget, views: Array, offsets: Int32Array, capacities: Int32Array,
 *              batch: Int32Array(2 * budget), callback) -> reader
 * Arms every slot from views/offsets/capacities and starts polling.
 */
static napi_value tap_create_reader(napi_env env, napi_callback_info info) {
  GET_ARGS(7);
  int32_t fd, budget;
  int32_t *offsets = NULL, *capacities = NULL, *batch = NULL;
  napi_valuetype callback_type;
  if (!reader_args(env, argv, BUDGET_MAX, &fd, &budget, &offsets, &capacities, &batch) ||
      napi_typeof(env, argv[6], &callback_type) != napi_ok || callback_type != napi_function) {
    return throw_arg(env, "createReader(fd, budget, views, offsets, capacities, batch, callback)");
  }
  reader_core_t* c = reader_alloc(env, sizeof(tap_reader_t), fd, budget, offsets, capacities, batch, SCRATCH_SIZE);
  if (c == NULL) return throw_errno(env, ENOMEM, "malloc", NULL);
  return reader_start(c, argv[2], argv[6], &argv[3], 3, "vtepkit:TapRead", tap_on_poll);
}

/* closeReader(reader): stop polling and drop the references to the JS arrays. Idempotent. */
static napi_value tap_close_reader(napi_env env, napi_callback_info info) {
  return reader_close_call(env, info, "closeReader(reader)");
}

/* ------------------------------------------------------------------------- */
/* Module                                                                    */
/* ------------------------------------------------------------------------- */

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"open", NULL, tap_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setPersist", NULL, tap_set_persist, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, tap_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getMtu", NULL, tap_get_mtu, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setMtu", NULL, tap_set_mtu, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getMac", NULL, tap_get_mac, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setMac", NULL, tap_set_mac, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getFlags", NULL, tap_get_flags, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setUp", NULL, tap_set_up, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getIfindex", NULL, tap_get_ifindex, NULL, NULL, NULL, napi_enumerable, NULL},
      {"writeBatch", NULL, tap_write_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"createReader", NULL, tap_create_reader, NULL, NULL, NULL, napi_enumerable, NULL},
      {"closeReader", NULL, tap_close_reader, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) return NULL;
  /* The batched UDP socket (udp.c) lives in the same module. */
  if (vtepkit_udp_init(env, exports) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
