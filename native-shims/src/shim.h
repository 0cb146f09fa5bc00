/*
 * What the addon's source files share. tap.c owns the module (NAPI_MODULE) and the
 * errno-to-JavaScript error; udp.c adds its functions to the same exports object.
 */
#ifndef VTEPKIT_SHIM_H
#define VTEPKIT_SHIM_H

#include <node_api.h>

/* Error("<syscall> <what>: <strerror> (<CODE>)") with code (errno name), errno and syscall. Defined in tap.c. */
napi_value vtepkit_errno_error(napi_env env, int err, const char* syscall, const char* what);

/* Adds the udp* functions to `exports`. Defined in udp.c. */
napi_status vtepkit_udp_init(napi_env env, napi_value exports);

#endif
