/*
 * What the addon's source files share. tap.c owns the module (NAPI_MODULE) and the
 * errno-to-JavaScript error; udp.c adds its functions to the same exports object;
 * reader.c is the reader both use (reader.h). The argument and error helpers are here.
 */
#ifndef VTEPKIT_SHIM_H
#define VTEPKIT_SHIM_H

#include <node_api.h>
#include <stdint.h>

/* Error("<syscall> <what>: <strerror> (<CODE>)") with code (errno name), errno and syscall. Defined in tap.c. */
napi_value vtepkit_errno_error(napi_env env, int err, const char* syscall, const char* what);

/* Adds the udp* functions to `exports`. Defined in udp.c. */
napi_status vtepkit_udp_init(napi_env env, napi_value exports);

/* The small N-API helpers every source file uses. */

static inline napi_value throw_errno(napi_env env, int err, const char* syscall, const char* what) {
  napi_throw(env, vtepkit_errno_error(env, err, syscall, what));
  return NULL;
}

/* Argument errors are programming errors in the TypeScript wrapper: TypeError with code ERR_INVALID_ARG. */
static inline napi_value throw_arg(napi_env env, const char* message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG", message);
  return NULL;
}

/* Declares argv[n] and fetches the call's arguments; throws when fewer were given. */
#define GET_ARGS(n)                                                                  \
  size_t argc = (n);                                                                 \
  napi_value argv[(n) > 0 ? (n) : 1];                                                \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL; \
  if (argc < (n)) return throw_arg(env, "missing arguments");

static inline int get_int32(napi_env env, napi_value value, int32_t* out) {
  return napi_get_value_int32(env, value, out) == napi_ok;
}

static inline napi_value make_int32(napi_env env, int32_t value) {
  napi_value result;
  napi_create_int32(env, value, &result);
  return result;
}

static inline napi_value make_undefined(napi_env env) {
  napi_value result;
  napi_get_undefined(env, &result);
  return result;
}

#endif
