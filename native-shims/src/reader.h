/*
 * The reader both addon readers share (tap.c's TAP reader, udp.c's recvmmsg
 * reader): a uv_poll_t on Node's loop, slots armed from JavaScript's arrays
 * (views/offsets/capacities: where each pool buffer takes data), a batch array
 * of (slot, length) pairs, one callback per batch, and a lifecycle that survives
 * closeReader() and garbage collection in either order.
 *
 * A reader embeds reader_core_t as its first member; its poll callback reads
 * into core.data[s] (at most core.capacity[s] bytes), fills core.batch, and
 * calls reader_deliver(). Everything JavaScript passed stays referenced until
 * the reader closes.
 */
#ifndef VTEPKIT_READER_H
#define VTEPKIT_READER_H

#include <node_api.h>
#include <stdint.h>
#include <uv.h>

/* JavaScript values a reader keeps alive: views, callback, resource, and the typed arrays. */
#define READER_MAX_REFS 10

typedef struct reader_core reader_core_t;

struct reader_core {
  napi_env env;
  uv_poll_t poll;
  int fd;
  uint32_t budget;
  /* Slot s is armed when data[s] != NULL: read at most capacity[s] bytes there. */
  uint8_t** data;
  uint32_t* capacity;
  int32_t* offsets;    /* shared with JS: where in views[s] to read */
  int32_t* capacities; /* shared with JS: how many bytes views[s] takes */
  int32_t* batch;      /* shared with JS: (slot, length) pairs of the current batch */
  uint8_t* scratch;    /* what finds no armed slot is read here and dropped */
  size_t scratch_size;
  napi_ref views_ref, callback_ref, resource_ref;
  napi_ref refs[READER_MAX_REFS]; /* the other arrays */
  size_t ref_count;
  napi_async_context async_context;
  int closing;       /* closeReader() (or the finalizer) started closing */
  int handle_closed; /* uv_close finished */
  int finalized;     /* the JS handle is gone */
  int stopped;       /* polling stopped after an error */
  void (*free_extra)(reader_core_t* core); /* frees what the embedding reader allocated */
};

/*
 * Checks the arguments every reader takes first: (fd, budget, views: Array,
 * offsets: Int32Array, capacities: Int32Array, batch: Int32Array(2 * budget)).
 * Returns 0 when one is wrong.
 */
int reader_args(napi_env env, const napi_value* argv, int32_t budget_max, int32_t* fd, int32_t* budget, int32_t** offsets,
                int32_t** capacities, int32_t** batch);

/*
 * Allocates a reader of `size` bytes (reader_core_t first) with its slot
 * arrays and a scratch buffer; NULL when out of memory.
 */
reader_core_t* reader_alloc(napi_env env, size_t size, int32_t fd, int32_t budget, int32_t* offsets, int32_t* capacities,
                            int32_t* batch, size_t scratch_size);

/* Frees a reader that never started (reader_start not called or failed before its handle existed). */
void reader_free(reader_core_t* r);

/*
 * Starts polling: references views, callback and `keep[0 .. keep_count)` (the
 * reader's other arrays), arms every slot, returns the JS handle (an external).
 * On failure throws and returns NULL; the reader is then freed or closing.
 */
napi_value reader_start(reader_core_t* r, napi_value views, napi_value callback, const napi_value* keep, size_t keep_count,
                        const char* resource_name, uv_poll_cb on_poll);

/*
 * Calls callback(argv[0 .. argc)), an exception becoming 'uncaughtException';
 * then re-reads the slots JavaScript re-armed. Returns 0 if the reader was
 * closed meanwhile.
 */
int reader_deliver(reader_core_t* r, size_t argc, napi_value* argv);

/* Stops polling after a fatal error (the error is delivered by the caller). */
void reader_stop(reader_core_t* r);

/* closeReader(reader) for either kind: stops polling and drops the references. Idempotent. */
napi_value reader_close_call(napi_env env, napi_callback_info info, const char* usage);

/* A typed array of `type`: its data pointer and element count, or 0 if `value` is not one. */
int vtepkit_get_typed(napi_env env, napi_value value, napi_typedarray_type type, void** data, size_t* length);

#endif
