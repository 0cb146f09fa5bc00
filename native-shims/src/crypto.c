/*
 * vtepkit_crypto: ESP's ciphers through the OpenSSL that Node itself carries, without
 * an object per packet. A separate addon from vtepkit_tap, so that a Node whose OpenSSL
 * symbols are not reachable (a build that hides them) loses this backend only, never
 * the TAP device.
 *
 *   create(cipherName, key, salt, authKey, esn) -> handle
 *       cipherName: "aes-128-gcm" | "aes-256-gcm" | "chacha20-poly1305" | "aes-128-cbc" | "aes-256-cbc"
 *       key: the cipher key; salt: 4 bytes (the AEADs) or empty; authKey: the HMAC-SHA-256
 *       key (CBC) or empty; esn: extended sequence numbers.
 *   seal(handle, buf, espOffset, payloadOffset, icvOffset, seqHigh) -> status
 *   open(handle, buf, espOffset, payloadOffset, icvOffset, seqHigh) -> status
 *   destroy(handle)     frees the OpenSSL contexts now (else the garbage collector does)
 *
 * Layout and rules are those of src/esp/backend.ts (EspCipher): the packet's ESP header
 * (SPI, low sequence number) is at espOffset, the IV field at espOffset + 8, the bytes
 * [payloadOffset, icvOffset) are encrypted in place, the 16-byte ICV is at icvOffset.
 *
 * What is set up once per SA: one encrypting and one decrypting EVP_CIPHER_CTX holding the
 * key schedule, and (CBC) one HMAC_CTX holding the keyed SHA-256 state. Per packet only the
 * IV is set (EVP_*Init_ex with a NULL cipher and key keeps the schedule), so a packet costs
 * no allocation on either side of the N-API call.
 *
 *   AEAD (RFC 4106, RFC 7634): nonce = salt || the 8-byte IV field; AAD = SPI || Seq, or
 *   SPI || Seq high || Seq low with ESN (RFC 4106 5). Opening decrypts into a per-thread
 *   scratch area and copies the plaintext into the packet only once the tag verified, so
 *   a forged packet never leaves unauthenticated plaintext behind (the buffer is unchanged).
 *   CBC + HMAC (RFC 3602, RFC 4868): the IV is the 16 random bytes the SA wrote in the IV
 *   field; ICV = HMAC-SHA-256(SPI .. end of ciphertext [|| Seq high with ESN]) truncated to
 *   16 bytes, compared in constant time (CRYPTO_memcmp) before anything is decrypted.
 *
 * Status numbers are EspStatus's (src/esp/errors.ts): 0 OK, 6 BAD_ICV, 8 BAD_LENGTH (offsets
 * that do not describe a packet inside the buffer; also an OpenSSL call failing on seal,
 * which does not happen with valid offsets). Argument type errors throw TypeError: they are
 * bugs in the TypeScript wrapper, never packet contents.
 */
#define NAPI_VERSION 8
#define OPENSSL_API_COMPAT 0x10100000L
#define OPENSSL_SUPPRESS_DEPRECATED
#include <node_api.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

#define STATUS_OK 0
#define STATUS_BAD_ICV 6
#define STATUS_BAD_LENGTH 8

#define ICV_LENGTH 16
#define SALT_LENGTH 4
/* The largest ciphertext: an IPv4/IPv6 payload never exceeds 65535 bytes. */
#define SCRATCH_SIZE 65536

typedef struct {
  int aead;
  int esn;
  EVP_CIPHER_CTX* encrypt;
  EVP_CIPHER_CTX* decrypt;
  HMAC_CTX* hmac;
  uint8_t salt[SALT_LENGTH];
} esp_cipher;

/* Open's plaintext waits here until its tag verified. One per thread: a cipher is used
 * by the JavaScript thread that created it, and worker threads each have their own. */
static _Thread_local uint8_t scratch[SCRATCH_SIZE];

static void cipher_free(esp_cipher* c) {
  if (c->encrypt != NULL) EVP_CIPHER_CTX_free(c->encrypt);
  if (c->decrypt != NULL) EVP_CIPHER_CTX_free(c->decrypt);
  if (c->hmac != NULL) HMAC_CTX_free(c->hmac);
  c->encrypt = NULL;
  c->decrypt = NULL;
  c->hmac = NULL;
  OPENSSL_cleanse(c->salt, sizeof c->salt);
}

static void finalize(napi_env env, void* data, void* hint) {
  esp_cipher* c = data;
  cipher_free(c);
  free(c);
}

static int get_bytes(napi_env env, napi_value value, uint8_t** data, size_t* length) {
  napi_typedarray_type type;
  napi_value arraybuffer;
  size_t byte_offset;
  void* raw;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, &arraybuffer, &byte_offset) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  *data = raw;
  return 1;
}

static const EVP_CIPHER* cipher_by_name(const char* name, int* aead) {
  *aead = 1;
  if (strcmp(name, "aes-128-gcm") == 0) return EVP_aes_128_gcm();
  if (strcmp(name, "aes-256-gcm") == 0) return EVP_aes_256_gcm();
  if (strcmp(name, "chacha20-poly1305") == 0) return EVP_chacha20_poly1305();
  *aead = 0;
  if (strcmp(name, "aes-128-cbc") == 0) return EVP_aes_128_cbc();
  if (strcmp(name, "aes-256-cbc") == 0) return EVP_aes_256_cbc();
  return NULL;
}

static napi_value throw_openssl(napi_env env, const char* what) {
  napi_throw_error(env, "ERR_OPENSSL", what);
  return NULL;
}

static napi_value create(napi_env env, napi_callback_info info) {
  GET_ARGS(5);
  char name[32];
  size_t name_length;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &name_length) != napi_ok) return throw_arg(env, "cipherName must be a string");
  uint8_t *key, *salt, *auth_key;
  size_t key_length, salt_length, auth_key_length;
  if (!get_bytes(env, argv[1], &key, &key_length)) return throw_arg(env, "key must be a Uint8Array");
  if (!get_bytes(env, argv[2], &salt, &salt_length)) return throw_arg(env, "salt must be a Uint8Array");
  if (!get_bytes(env, argv[3], &auth_key, &auth_key_length)) return throw_arg(env, "authKey must be a Uint8Array");
  bool esn;
  if (napi_get_value_bool(env, argv[4], &esn) != napi_ok) return throw_arg(env, "esn must be a boolean");

  int aead;
  const EVP_CIPHER* type = cipher_by_name(name, &aead);
  if (type == NULL) return throw_arg(env, "unknown cipherName");
  if ((int)key_length != EVP_CIPHER_key_length(type)) return throw_arg(env, "key length does not match the cipher");
  if (aead ? salt_length != SALT_LENGTH : salt_length != 0) return throw_arg(env, "salt must be 4 bytes for an AEAD, empty otherwise");
  if (aead ? auth_key_length != 0 : auth_key_length == 0) return throw_arg(env, "authKey must be given for CBC only");

  esp_cipher* c = calloc(1, sizeof *c);
  if (c == NULL) return throw_openssl(env, "out of memory");
  c->aead = aead;
  c->esn = esn;
  memcpy(c->salt, salt, salt_length);
  c->encrypt = EVP_CIPHER_CTX_new();
  c->decrypt = EVP_CIPHER_CTX_new();
  int ok = c->encrypt != NULL && c->decrypt != NULL &&
           EVP_EncryptInit_ex(c->encrypt, type, NULL, key, NULL) == 1 &&
           EVP_DecryptInit_ex(c->decrypt, type, NULL, key, NULL) == 1;
  if (ok && !aead) {
    /* The SA pads to the block size itself (RFC 4303 2.4). */
    ok = EVP_CIPHER_CTX_set_padding(c->encrypt, 0) == 1 && EVP_CIPHER_CTX_set_padding(c->decrypt, 0) == 1;
    c->hmac = ok ? HMAC_CTX_new() : NULL;
    ok = c->hmac != NULL && HMAC_Init_ex(c->hmac, auth_key, (int)auth_key_length, EVP_sha256(), NULL) == 1;
  }
  if (!ok) {
    cipher_free(c);
    free(c);
    return throw_openssl(env, "OpenSSL refused the key");
  }
  napi_value handle;
  if (napi_create_external(env, c, finalize, NULL, &handle) != napi_ok) {
    cipher_free(c);
    free(c);
    return NULL;
  }
  return handle;
}

/* The call's cipher, buffer and offsets. Returns 0 after throwing for a bad argument type;
 * *status is BAD_LENGTH when the offsets do not describe a packet inside the buffer. */
typedef struct {
  esp_cipher* cipher;
  uint8_t* buf;
  int32_t esp, payload, icv;
  uint32_t seq_high;
} packet_args;

static int get_packet(napi_env env, napi_callback_info info, packet_args* p, int* status) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc < 6) {
    throw_arg(env, "missing arguments");
    return 0;
  }
  void* data;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) {
    throw_arg(env, "not a cipher handle");
    return 0;
  }
  p->cipher = data;
  size_t length;
  if (!get_bytes(env, argv[1], &p->buf, &length)) {
    throw_arg(env, "buf must be a Uint8Array");
    return 0;
  }
  if (!get_int32(env, argv[2], &p->esp) || !get_int32(env, argv[3], &p->payload) || !get_int32(env, argv[4], &p->icv) ||
      napi_get_value_uint32(env, argv[5], &p->seq_high) != napi_ok) {
    throw_arg(env, "offsets and seqHigh must be numbers");
    return 0;
  }
  *status = STATUS_OK;
  if (p->cipher->encrypt == NULL) {
    throw_arg(env, "cipher destroyed");
    return 0;
  }
  /* SPI + Seq + at least the IV lie before the payload; the ICV fits the buffer. */
  if (p->esp < 0 || p->payload < p->esp + 8 || p->icv < p->payload || p->icv - p->payload > SCRATCH_SIZE ||
      (size_t)p->icv + ICV_LENGTH > length) {
    *status = STATUS_BAD_LENGTH;
  }
  return 1;
}

/* RFC 4106 4 / RFC 7634 2 nonce and RFC 4106 5 AAD; returns the AAD's length. */
static int nonce_and_aad(const packet_args* p, uint8_t nonce[12], uint8_t aad[12]) {
  const uint8_t* esp = p->buf + p->esp;
  memcpy(nonce, p->cipher->salt, SALT_LENGTH);
  memcpy(nonce + SALT_LENGTH, esp + 8, 8);
  memcpy(aad, esp, 4);
  if (!p->cipher->esn) {
    memcpy(aad + 4, esp + 4, 4);
    return 8;
  }
  aad[4] = p->seq_high >> 24;
  aad[5] = p->seq_high >> 16;
  aad[6] = p->seq_high >> 8;
  aad[7] = p->seq_high;
  memcpy(aad + 8, esp + 4, 4);
  return 12;
}

/* RFC 4868 2.3 / RFC 4303 2.2.1: the 32-byte HMAC-SHA-256 of [esp, icv) [|| Seq high]. */
static int mac(const packet_args* p, uint8_t digest[EVP_MAX_MD_SIZE]) {
  HMAC_CTX* h = p->cipher->hmac;
  unsigned int length = 0;
  /* NULL key and digest: start over with the key already set up. */
  if (HMAC_Init_ex(h, NULL, 0, NULL, NULL) != 1) return 0;
  if (HMAC_Update(h, p->buf + p->esp, (size_t)(p->icv - p->esp)) != 1) return 0;
  if (p->cipher->esn) {
    uint8_t high[4] = { p->seq_high >> 24, p->seq_high >> 16, p->seq_high >> 8, p->seq_high };
    if (HMAC_Update(h, high, 4) != 1) return 0;
  }
  return HMAC_Final(h, digest, &length) == 1 && length >= ICV_LENGTH;
}

/* The packet's cipher context (encrypting or decrypting), payload and its length. */
#define PACKET_LOCALS(direction)                \
  esp_cipher* c = p->cipher;                    \
  EVP_CIPHER_CTX* ctx = c->direction;           \
  uint8_t* payload = p->buf + p->payload;       \
  int n = p->icv - p->payload;                  \
  int written

static int seal_packet(const packet_args* p) {
  PACKET_LOCALS(encrypt);
  int ok;
  if (c->aead) {
    uint8_t nonce[12], aad[12], ignored[16];
    int aad_length = nonce_and_aad(p, nonce, aad);
    ok = EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1 &&
         EVP_EncryptUpdate(ctx, NULL, &written, aad, aad_length) == 1 &&
         (n == 0 || EVP_EncryptUpdate(ctx, payload, &written, payload, n) == 1) &&
         EVP_EncryptFinal_ex(ctx, ignored, &written) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, ICV_LENGTH, p->buf + p->icv) == 1;
  } else {
    uint8_t digest[EVP_MAX_MD_SIZE];
    /* The IV field holds the SA's 16 random bytes: they are the IV (RFC 3602 2.3). */
    ok = n % 16 == 0 && p->payload - p->esp >= 8 + 16 &&
         EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, payload - 16) == 1 &&
         (n == 0 || EVP_EncryptUpdate(ctx, payload, &written, payload, n) == 1) &&
         mac(p, digest);
    if (ok) memcpy(p->buf + p->icv, digest, ICV_LENGTH);
  }
  return ok ? STATUS_OK : STATUS_BAD_LENGTH;
}

static int open_packet(const packet_args* p) {
  PACKET_LOCALS(decrypt);
  if (c->aead) {
    uint8_t nonce[12], aad[12], tag[ICV_LENGTH], ignored[16];
    int aad_length = nonce_and_aad(p, nonce, aad);
    memcpy(tag, p->buf + p->icv, ICV_LENGTH);
    int ok = EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, ICV_LENGTH, tag) == 1 &&
             EVP_DecryptUpdate(ctx, NULL, &written, aad, aad_length) == 1 &&
             (n == 0 || EVP_DecryptUpdate(ctx, scratch, &written, payload, n) == 1);
    /* The tag is compared here, in constant time by OpenSSL. */
    if (!ok || EVP_DecryptFinal_ex(ctx, ignored, &written) != 1) {
      OPENSSL_cleanse(scratch, (size_t)n);
      return STATUS_BAD_ICV;
    }
    memcpy(payload, scratch, (size_t)n);
    OPENSSL_cleanse(scratch, (size_t)n);
    return STATUS_OK;
  }
  uint8_t digest[EVP_MAX_MD_SIZE];
  /* RFC 4303 3.4.4.1: integrity first, decryption only after. */
  if (!mac(p, digest) || CRYPTO_memcmp(digest, p->buf + p->icv, ICV_LENGTH) != 0) return STATUS_BAD_ICV;
  if (n % 16 != 0 || p->payload - p->esp < 8 + 16) return STATUS_BAD_LENGTH;
  int ok = EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, payload - 16) == 1 &&
           (n == 0 || EVP_DecryptUpdate(ctx, payload, &written, payload, n) == 1);
  return ok ? STATUS_OK : STATUS_BAD_LENGTH;
}

/* Checks the call's arguments, then runs `fn` on the packet; bad offsets give BAD_LENGTH. */
static napi_value run(napi_env env, napi_callback_info info, int (*fn)(const packet_args*)) {
  packet_args p;
  int status;
  if (!get_packet(env, info, &p, &status)) return NULL;
  return make_int32(env, status != STATUS_OK ? status : fn(&p));
}

static napi_value seal(napi_env env, napi_callback_info info) {
  return run(env, info, seal_packet);
}

static napi_value open_(napi_env env, napi_callback_info info) {
  return run(env, info, open_packet);
}

static napi_value destroy(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  void* data;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) return throw_arg(env, "not a cipher handle");
  cipher_free(data);
  return make_undefined(env);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
    { "create", NULL, create, NULL, NULL, NULL, napi_default, NULL },
    { "seal", NULL, seal, NULL, NULL, NULL, napi_default, NULL },
    { "open", NULL, open_, NULL, NULL, NULL, napi_default, NULL },
    { "destroy", NULL, destroy, NULL, NULL, NULL, napi_default, NULL },
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
