/* The reader core both addon readers share: see reader.h. */
#define NAPI_VERSION 8
#include "reader.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "shim.h"



int vtepkit_get_typed(napi_env env, napi_value value, napi_typedarray_type type, void** data, size_t* length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type actual;
  void* pointer = NULL;
  if (napi_get_typedarray_info(env, value, &actual, length, &pointer, NULL, NULL) != napi_ok) return 0;
  if (actual != type || (pointer == NULL && *length > 0)) return 0;
  *data = pointer;
  return 1;
}

int reader_args(napi_env env, const napi_value* argv, int32_t budget_max, int32_t* fd, int32_t* budget, int32_t** offsets,
                int32_t** capacities, int32_t** batch) {
  bool is_array = false;
  uint32_t views_length = 0;
  size_t offsets_length = 0, capacities_length = 0, batch_length = 0;
  return napi_get_value_int32(env, argv[0], fd) == napi_ok && *fd >= 0 && napi_get_value_int32(env, argv[1], budget) == napi_ok &&
         *budget >= 1 && *budget <= budget_max && napi_is_array(env, argv[2], &is_array) == napi_ok && is_array &&
         napi_get_array_length(env, argv[2], &views_length) == napi_ok && views_length >= (uint32_t)*budget &&
         vtepkit_get_typed(env, argv[3], napi_int32_array, (void**)offsets, &offsets_length) && offsets_length >= (size_t)*budget &&
         vtepkit_get_typed(env, argv[4], napi_int32_array, (void**)capacities, &capacities_length) &&
         capacities_length >= (size_t)*budget && vtepkit_get_typed(env, argv[5], napi_int32_array, (void**)batch, &batch_length) &&
         batch_length >= 2 * (size_t)*budget;
}

reader_core_t* reader_alloc(napi_env env, size_t size, int32_t fd, int32_t budget, int32_t* offsets, int32_t* capacities,
                            int32_t* batch, size_t scratch_size) {
  reader_core_t* r = (reader_core_t*)calloc(1, size);
  if (r == NULL) return NULL;
  r->env = env;
  r->fd = fd;
  r->budget = (uint32_t)budget;
  r->offsets = offsets;
  r->capacities = capacities;
  r->batch = batch;
  r->scratch_size = scratch_size;
  r->data = (uint8_t**)calloc((size_t)budget, sizeof *r->data);
  r->capacity = (uint32_t*)calloc((size_t)budget, sizeof *r->capacity);
  r->scratch = (uint8_t*)malloc(scratch_size);
  if (r->data == NULL || r->capacity == NULL || r->scratch == NULL) {
    reader_free(r);
    return NULL;
  }
  return r;
}

void reader_free(reader_core_t* r) {
  if (r->free_extra != NULL) r->free_extra(r);
  free(r->data);
  free(r->capacity);
  free(r->scratch);
  free(r);
}

static void reader_on_close(uv_handle_t* handle) {
  reader_core_t* r = (reader_core_t*)handle->data;
  r->handle_closed = 1;
  if (r->finalized) reader_free(r);
}

static void reader_delete_refs(reader_core_t* r) {
  napi_env env = r->env;
  napi_ref* named[] = {&r->views_ref, &r->callback_ref, &r->resource_ref};
  for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
    if (*named[i] != NULL) {
      napi_delete_reference(env, *named[i]);
      *named[i] = NULL;
    }
  }
  for (size_t i = 0; i < r->ref_count; i++) {
    if (r->refs[i] != NULL) napi_delete_reference(env, r->refs[i]);
    r->refs[i] = NULL;
  }
  r->ref_count = 0;
  if (r->async_context != NULL) {
    napi_async_destroy(env, r->async_context);
    r->async_context = NULL;
  }
}

static void reader_begin_close(reader_core_t* r) {
  if (r->closing) return;
  r->closing = 1;
  uv_poll_stop(&r->poll);
  reader_delete_refs(r);
  uv_close((uv_handle_t*)&r->poll, reader_on_close);
}

static void reader_finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  reader_core_t* r = (reader_core_t*)data;
  r->finalized = 1;
  if (!r->closing) reader_begin_close(r);
  if (r->handle_closed) reader_free(r);
}

/* Re-reads slot s from the JS arrays; leaves it unarmed unless views[s] is a Uint8Array with room. */
static void reader_refresh_slot(reader_core_t* r, napi_value views, uint32_t s) {
  r->data[s] = NULL;
  napi_value view;
  void* data = NULL;
  size_t length = 0;
  if (napi_get_element(r->env, views, s, &view) != napi_ok || !vtepkit_get_typed(r->env, view, napi_uint8_array, &data, &length) ||
      data == NULL) {
    return;
  }
  int32_t offset = r->offsets[s], capacity = r->capacities[s];
  if (offset < 0 || capacity <= 0 || (size_t)offset + (size_t)capacity > length) return;
  r->data[s] = (uint8_t*)data + offset;
  r->capacity[s] = (uint32_t)capacity;
}

/* Refreshes every unarmed slot (the ones just consumed, and the ones JS could not fill before). */
static void reader_refresh(reader_core_t* r) {
  napi_value views;
  if (napi_get_reference_value(r->env, r->views_ref, &views) != napi_ok || views == NULL) return;
  for (uint32_t s = 0; s < r->budget; s++) {
    if (r->data[s] == NULL) reader_refresh_slot(r, views, s);
  }
}

napi_value reader_start(reader_core_t* r, napi_value views, napi_value callback, const napi_value* keep, size_t keep_count,
                        const char* resource_name, uv_poll_cb on_poll) {
  napi_env env = r->env;
  if (keep_count > READER_MAX_REFS) {
    reader_free(r);
    return throw_arg(env, "reader: too many arrays");
  }
  uv_loop_t* loop = NULL;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == NULL) {
    reader_free(r);
    return throw_arg(env, "no event loop");
  }
  int rc = uv_poll_init(loop, &r->poll, r->fd);
  if (rc < 0) {
    reader_free(r);
    return throw_errno(env, -rc, "uv_poll_init", NULL);
  }
  r->poll.data = r;
  /* From here on the handle exists: failures go through reader_begin_close. */

  napi_value resource, name, external;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, resource_name, NAPI_AUTO_LENGTH, &name);
  int ok = napi_async_init(env, resource, name, &r->async_context) == napi_ok &&
           napi_create_reference(env, views, 1, &r->views_ref) == napi_ok &&
           napi_create_reference(env, callback, 1, &r->callback_ref) == napi_ok &&
           napi_create_reference(env, resource, 1, &r->resource_ref) == napi_ok;
  for (size_t i = 0; ok && i < keep_count; i++) {
    ok = napi_create_reference(env, keep[i], 1, &r->refs[i]) == napi_ok;
    if (ok) r->ref_count = i + 1;
  }
  if (!ok || napi_create_external(env, r, reader_finalize, NULL, &external) != napi_ok) {
    r->finalized = 1;
    reader_begin_close(r);
    return throw_arg(env, "createReader: out of memory");
  }
  for (uint32_t s = 0; s < r->budget; s++) reader_refresh_slot(r, views, s);

  rc = uv_poll_start(&r->poll, UV_READABLE, on_poll);
  if (rc < 0) {
    reader_begin_close(r);
    return throw_errno(env, -rc, "uv_poll_start", NULL);
  }
  return external;
}

int reader_deliver(reader_core_t* r, size_t argc, napi_value* argv) {
  napi_env env = r->env;
  napi_value callback, resource, result;
  if (napi_get_reference_value(env, r->callback_ref, &callback) != napi_ok || callback == NULL) return 0;
  napi_get_reference_value(env, r->resource_ref, &resource);
  napi_status status = napi_make_callback(env, r->async_context, resource, callback, argc, argv, &result);
  if (status != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value exception;
      napi_get_and_clear_last_exception(env, &exception);
      /* As for any event handler that throws: 'uncaughtException', not an abort. */
      napi_fatal_exception(env, exception);
    }
  }
  if (r->closing) return 0;
  reader_refresh(r);
  return 1;
}

void reader_stop(reader_core_t* r) {
  r->stopped = 1;
  uv_poll_stop(&r->poll);
}

napi_value reader_close_call(napi_env env, napi_callback_info info, const char* usage) {
  GET_ARGS(1);
  void* data = NULL;
  napi_valuetype type;
  if (napi_typeof(env, argv[0], &type) != napi_ok || type != napi_external || napi_get_value_external(env, argv[0], &data) != napi_ok ||
      data == NULL) {
    return throw_arg(env, usage);
  }
  reader_begin_close((reader_core_t*)data);
  return make_undefined(env);
}
