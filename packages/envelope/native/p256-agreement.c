/*
 * P-256 ECDH agreements for the node-crypto provider, on the OpenSSL that Node.js itself carries.
 *
 * Why: Node's ECDH#computeSecret checks its own key pair (EC_KEY_check_key: two more scalar
 * multiplications) on every call, so one agreement costs about three times what OpenSSL needs
 * (BENCHMARKS.md, "Exchange"). Here the recipient's key pair is checked once, when it is loaded, and an
 * ephemeral pair is used straight from EC_KEY_generate_key. The peer's point is decoded with
 * EC_POINT_oct2point, which refuses a point off the curve (P-256 has cofactor 1: that is the whole check
 * against invalid-curve attacks), and the point at infinity is refused as an encoding.
 *
 * Exports (Node-API, no dependency):
 *   ephemeral(recipient: 65-byte uncompressed point) -> Buffer(97): epk (65 bytes) ‖ Z (32 bytes)
 *   privateKey(d: 32 bytes, public: 65-byte point) -> external handle; throws if d does not give public
 *   agree(handle, peer: 65-byte point) -> Buffer(32): Z
 *   checkPoint(point: 65-byte point) -> undefined; throws if it is not a point of P-256
 * Errors are thrown as Error objects with a code property ("ERR_P256_POINT", "ERR_P256_KEY", …) and no key
 * material in the message.
 */
#define OPENSSL_API_COMPAT 10101
#define NAPI_VERSION 8
#include <node_api.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdh.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/opensslv.h>
#include <pthread.h>
#include <string.h>

#include "napi-common.h"

#define POINT_LEN 65
#define SCALAR_LEN 32

static EC_GROUP *group; /* P-256, created once (also with several worker threads), then only read */
static pthread_once_t group_once = PTHREAD_ONCE_INIT;
static void create_group(void) { group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1); }

/* marks the handles this addon makes, so that agree() never takes another external for a key */
static const napi_type_tag key_tag = {0x7061737365726c6cULL, 0x703235366b657931ULL};

/* The point of 65 bytes 0x04 ‖ x ‖ y, on the curve; NULL (nothing thrown) otherwise. */
static EC_POINT *decode_point(napi_env env, napi_value value) {
  const unsigned char *data;
  size_t len;
  if (!bytes_arg(env, value, &data, &len) || len != POINT_LEN || data[0] != 0x04) return NULL;
  EC_POINT *point = EC_POINT_new(group);
  if (point == NULL) return NULL;
  /* oct2point sets the affine coordinates, which refuses a point that is not on the curve */
  if (EC_POINT_oct2point(group, point, data, len, NULL) != 1 || EC_POINT_is_at_infinity(group, point)) {
    EC_POINT_free(point);
    ERR_clear_error();
    return NULL;
  }
  return point;
}

static int compute(EC_KEY *key, const EC_POINT *peer, unsigned char *z) {
  return ECDH_compute_key(z, SCALAR_LEN, peer, key, NULL) == SCALAR_LEN;
}

static napi_value new_buffer(napi_env env, const unsigned char *data, size_t len) {
  napi_value out;
  void *dest;
  if (napi_create_buffer_copy(env, len, data, &dest, &out) != napi_ok) return NULL;
  return out;
}

/* The one point argument of a call, decoded; NULL with an error thrown otherwise. */
static EC_POINT *point_arg(napi_env env, napi_callback_info info, const char *usage, const char *refusal) {
  napi_value argv[1];
  if (!args_exactly(env, info, 1, argv)) {
    fail(env, "ERR_P256_ARGUMENT", usage);
    return NULL;
  }
  EC_POINT *point = decode_point(env, argv[0]);
  if (point == NULL) fail(env, "ERR_P256_POINT", refusal);
  return point;
}

static napi_value ephemeral(napi_env env, napi_callback_info info) {
  EC_POINT *peer = point_arg(env, info, "ephemeral(recipient) takes one point",
                             "the recipient's key is not a point on the P-256 curve");
  if (peer == NULL) return NULL;
  unsigned char out[POINT_LEN + SCALAR_LEN];
  napi_value result = NULL;
  EC_KEY *key = EC_KEY_new();
  if (key != NULL && EC_KEY_set_group(key, group) == 1 && EC_KEY_generate_key(key) == 1 &&
      EC_POINT_point2oct(group, EC_KEY_get0_public_key(key), POINT_CONVERSION_UNCOMPRESSED, out,
                         POINT_LEN, NULL) == POINT_LEN &&
      compute(key, peer, out + POINT_LEN)) {
    result = new_buffer(env, out, sizeof out);
  }
  OPENSSL_cleanse(out, sizeof out);
  EC_KEY_free(key); /* clears the ephemeral private key */
  EC_POINT_free(peer);
  if (result == NULL) return fail(env, "ERR_P256_AGREEMENT", "the ephemeral agreement failed");
  return result;
}

static void free_key(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  EC_KEY_free((EC_KEY *)data);
}

static napi_value private_key(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!args_exactly(env, info, 2, argv))
    return fail(env, "ERR_P256_ARGUMENT", "privateKey(d, public) takes a scalar and a point");
  const unsigned char *d;
  size_t d_len;
  if (!bytes_arg(env, argv[0], &d, &d_len) || d_len != SCALAR_LEN)
    return fail(env, "ERR_P256_KEY", "a P-256 private key is 32 bytes");
  EC_POINT *pub = decode_point(env, argv[1]);
  if (pub == NULL) return fail(env, "ERR_P256_POINT", "the public key is not a point on the P-256 curve");
  EC_KEY *key = EC_KEY_new();
  BIGNUM *scalar = BN_secure_new();
  int ok = key != NULL && scalar != NULL && BN_bin2bn(d, SCALAR_LEN, scalar) != NULL &&
           EC_KEY_set_group(key, group) == 1 && EC_KEY_set_private_key(key, scalar) == 1 &&
           EC_KEY_set_public_key(key, pub) == 1 && EC_KEY_check_key(key) == 1;
  BN_clear_free(scalar);
  EC_POINT_free(pub);
  if (!ok) {
    EC_KEY_free(key);
    return fail(env, "ERR_P256_KEY", "the private key does not match its public key");
  }
  napi_value handle;
  if (napi_create_external(env, key, free_key, NULL, &handle) != napi_ok) {
    EC_KEY_free(key);
    return fail(env, "ERR_P256_KEY", "could not keep the private key");
  }
  if (napi_type_tag_object(env, handle, &key_tag) != napi_ok) {
    return fail(env, "ERR_P256_KEY", "could not keep the private key");
  }
  return handle;
}

static napi_value agree(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!args_exactly(env, info, 2, argv))
    return fail(env, "ERR_P256_ARGUMENT", "agree(key, peer) takes a key and a point");
  void *data = tagged_external(env, argv[0], &key_tag);
  if (data == NULL)
    return fail(env, "ERR_P256_ARGUMENT", "agree(key, peer) needs a key from privateKey()");
  EC_POINT *peer = decode_point(env, argv[1]);
  if (peer == NULL) return fail(env, "ERR_P256_POINT", "the peer's key is not a point on the P-256 curve");
  unsigned char z[SCALAR_LEN];
  napi_value result = compute((EC_KEY *)data, peer, z) ? new_buffer(env, z, sizeof z) : NULL;
  OPENSSL_cleanse(z, sizeof z);
  EC_POINT_free(peer);
  if (result == NULL) return fail(env, "ERR_P256_AGREEMENT", "the agreement failed");
  return result;
}

static napi_value check_point(napi_env env, napi_callback_info info) {
  EC_POINT *point = point_arg(env, info, "checkPoint(point) takes one point",
                              "the key is not a point on the P-256 curve");
  if (point == NULL) return NULL;
  EC_POINT_free(point);
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  return undefined;
}

static napi_value init(napi_env env, napi_value exports) {
  /* the OpenSSL running must be the major.minor release these headers describe */
  if ((OpenSSL_version_num() & 0xFFF00000UL) != (OPENSSL_VERSION_NUMBER & 0xFFF00000UL))
    return fail(env, "ERR_P256_INIT", "built against another OpenSSL release than the one running");
  pthread_once(&group_once, create_group);
  if (group == NULL) return fail(env, "ERR_P256_INIT", "OpenSSL has no P-256 group");
  napi_property_descriptor props[] = {
      {"ephemeral", NULL, ephemeral, NULL, NULL, NULL, napi_enumerable, NULL},
      {"privateKey", NULL, private_key, NULL, NULL, NULL, napi_enumerable, NULL},
      {"agree", NULL, agree, NULL, NULL, NULL, napi_enumerable, NULL},
      {"checkPoint", NULL, check_point, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
