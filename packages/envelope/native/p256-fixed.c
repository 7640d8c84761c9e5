/*
 * P-256 operations with a key that is used again and again: ES256 verification with a sender's public key,
 * and ECDH-ES agreements (a fresh ephemeral scalar) with a recipient's public key.
 *
 * Why: OpenSSL multiplies the generator G with a table of 37 x 64 precomputed multiples (37 additions of
 * affine points, no doublings), but any other point with a window method that builds a small table on every
 * call and then doubles 255 times. In an exchange the same few keys are used for every message: the
 * sender's signing key verifies two signatures per message at its recipient, the recipient's signing key
 * verifies the receipt at the sender, the recipient's encryption key takes one agreement per message. For
 * such a key this addon builds, once, the same kind of table OpenSSL has for G (148 KiB), so that
 * k * Q costs what k * G costs. A verification then costs two table walks instead of one walk and one
 * windowed multiplication (BENCHMARKS.md has the figures).
 *
 * The field and point arithmetic is OpenSSL's own (the ecp_nistz256 assembly that Node.js carries and
 * exports): field multiplication and squaring in Montgomery form, point addition and doubling in Jacobian
 * coordinates, mixed addition with an affine point, and the constant-time table gather. This file only
 * arranges them: the tables, the walk, the scalar arithmetic of ECDSA, the final comparison.
 *
 * Verification handles public data only (the key, the message, the signature). The agreement handles a
 * secret scalar (the ephemeral key): its walk reads the table with the constant-time gather, recodes
 * windows without branches, negates by masking, and inverts by a fixed exponentiation, as OpenSSL does
 * for k * G. The walk adds, to a running sum S Q, the point d 2^(7i) Q with 1 <= |d| <= 64; the mixed
 * addition would go wrong only if S = +-d 2^(7i) modulo the group order n. Before window i, |S| < 2^(7i),
 * and below the last window both S and d 2^(7i) are integers of magnitude below n/2 that differ, so they
 * are not congruent. At the last window (i = 36, 2^252 d may exceed n) the scalar is k = S + d 2^252 with
 * 0 <= k < n: S = d 2^252 - m n would make k = 2 S + m n, and S = -d 2^252 + m n would make k = m n, both
 * outside [1, n) for m >= 1 (and m = 0 is the first case). So for scalars below n the mixed addition never
 * meets its exceptional cases (checked for every window and digit by the review of this file); the two
 * walks of a verification are summed with the full addition, which handles equal and opposite points.
 *
 * Exports (Node-API):
 *   key(point: 65-byte uncompressed point) -> external handle (the table); throws if not a P-256 point
 *   verify(handle, data: Buffer, signature: 64 bytes r || s) -> boolean (ES256: SHA-256 of data)
 *   verifyOnPool(handle, data, signature) -> Promise<boolean>: the same on libuv's thread pool
 *   ephemeral(handle) -> Buffer(97): epk (65 bytes) || Z (32 bytes), Z = x of e * Q for a fresh e
 * Errors are thrown as Error objects with a code ("ERR_P256_POINT", "ERR_P256_ARGUMENT", ...) and no key
 * material in the message.
 */
#define OPENSSL_API_COMPAT 10101
#define NAPI_VERSION 8
#include <node_api.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "napi-common.h"

#define POINT_LEN 65
#define SCALAR_LEN 32
#define ROWS 37    /* ceil(256 / 7) windows of 7 bits */
#define ENTRIES 64 /* multiples 1..64 of a row's base point */

typedef uint64_t limb;
typedef limb felem[4]; /* little-endian 64-bit limbs */

typedef struct {
  felem X, Y, Z;
} jacobian;
typedef struct {
  felem X, Y;
} affine;
typedef affine table_row[ENTRIES];

/* OpenSSL's P-256 assembly (crypto/ec/asm/ecp_nistz256-*.pl), resolved in the node binary at load time. */
extern void ecp_nistz256_mul_mont(felem r, const felem a, const felem b);
extern void ecp_nistz256_sqr_mont(felem r, const felem a);
extern void ecp_nistz256_to_mont(felem r, const felem a);
extern void ecp_nistz256_from_mont(felem r, const felem a);
extern void ecp_nistz256_neg(felem r, const felem a);
extern void ecp_nistz256_point_double(jacobian *r, const jacobian *a);
extern void ecp_nistz256_point_add(jacobian *r, const jacobian *a, const jacobian *b);
extern void ecp_nistz256_point_add_affine(jacobian *r, const jacobian *a, const affine *b);
extern void ecp_nistz256_scatter_w7(affine *table, const affine *point, int index);
extern void ecp_nistz256_gather_w7(affine *point, const affine *table, int index);
extern void ecp_nistz256_ord_mul_mont(felem r, const felem a, const felem b);
extern void ecp_nistz256_ord_sqr_mont(felem r, const felem a, limb repetitions);
/* The table of G's multiples, in the layout of scatter_w7 (entry k holds (k + 1) 2^(7i) G). */
extern const table_row ecp_nistz256_precomputed[ROWS];

/* p, the field prime, and n, the group order (little-endian limbs) */
static const felem P = {0xffffffffffffffffULL, 0x00000000ffffffffULL, 0x0000000000000000ULL,
                        0xffffffff00000001ULL};
static const felem N = {0xf3b9cac2fc632551ULL, 0xbce6faada7179e84ULL, 0xffffffffffffffffULL,
                        0xffffffff00000000ULL};
static felem n_rr;     /* 2^512 mod n: into the order's Montgomery form */
static felem one_mont; /* 1 in the field's Montgomery form */
static EC_GROUP *group;
static int ready;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void load_be(felem out, const unsigned char in[SCALAR_LEN]) {
  for (int i = 0; i < 4; i++) {
    limb v = 0;
    for (int j = 0; j < 8; j++) v = (v << 8) | in[(3 - i) * 8 + j];
    out[i] = v;
  }
}

static void store_be(unsigned char out[SCALAR_LEN], const felem in) {
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 8; j++) out[(3 - i) * 8 + j] = (unsigned char)(in[i] >> (56 - 8 * j));
}

/* a < b, as 256-bit integers (public values only: not constant-time) */
static int less_than(const felem a, const felem b) {
  for (int i = 3; i >= 0; i--)
    if (a[i] != b[i]) return a[i] < b[i];
  return 0;
}

static int is_zero(const felem a) { return (a[0] | a[1] | a[2] | a[3]) == 0; }

/* r = a - b (mod 2^256); returns the borrow */
static limb subtract(felem r, const felem a, const felem b) {
  limb borrow = 0;
  for (int i = 0; i < 4; i++) {
    limb d = a[i] - b[i];
    limb out = d - borrow;
    borrow = (a[i] < b[i]) | (d < borrow);
    r[i] = out;
  }
  return borrow;
}

/* r = a + b; returns the carry */
static limb add(felem r, const felem a, const felem b) {
  limb carry = 0;
  for (int i = 0; i < 4; i++) {
    limb s = a[i] + carry;
    carry = s < carry;
    s += b[i];
    carry |= s < b[i];
    r[i] = s;
  }
  return carry;
}

/* Hides a value from the optimiser, so that masks computed from secrets stay masks (no branch), whatever
 * the compiler (CC) */
#if defined(__GNUC__) || defined(__clang__)
#define BARRIER(x) __asm__("" : "+r"(x))
#else
#define BARRIER(x) ((void)0)
#endif

/* dst = src when condition is 1, unchanged when 0, without a branch */
static void copy_if(felem dst, const felem src, limb condition) {
  limb mask = (limb)0 - condition;
  BARRIER(mask);
  for (int i = 0; i < 4; i++) dst[i] = (src[i] & mask) | (dst[i] & ~mask);
}

/* The canonical value in [0, p) of a field element out of Montgomery form. The assembly keeps values
 * below p; this makes the comparisons and encodings below independent of that. No branch on the value. */
static void canonical(felem out, const felem mont) {
  felem reduced;
  ecp_nistz256_from_mont(out, mont);
  limb borrow = subtract(reduced, out, P); /* 1 when out < p: keep out */
  copy_if(out, reduced, borrow ^ 1);
  OPENSSL_cleanse(reduced, sizeof reduced); /* out - p gives out back: as secret as out */
}

/* r = a^(p-2) = a^-1 in the field (Montgomery form in and out). The exponent is fixed, so the sequence
 * of operations does not depend on a: usable on secret values. */
static void field_invert(felem r, const felem a) {
  /* p - 2 = ffffffff 00000001 00000000 00000000 00000000 ffffffff ffffffff fffffffd */
  felem x2, x4, x8, x16, x32, t;
  ecp_nistz256_sqr_mont(t, a);
  ecp_nistz256_mul_mont(x2, t, a); /* a^(2^2 - 1) */
  ecp_nistz256_sqr_mont(t, x2);
  ecp_nistz256_sqr_mont(t, t);
  ecp_nistz256_mul_mont(x4, t, x2); /* a^(2^4 - 1) */
  memcpy(t, x4, sizeof t);
  for (int i = 0; i < 4; i++) ecp_nistz256_sqr_mont(t, t);
  ecp_nistz256_mul_mont(x8, t, x4);
  memcpy(t, x8, sizeof t);
  for (int i = 0; i < 8; i++) ecp_nistz256_sqr_mont(t, t);
  ecp_nistz256_mul_mont(x16, t, x8);
  memcpy(t, x16, sizeof t);
  for (int i = 0; i < 16; i++) ecp_nistz256_sqr_mont(t, t);
  ecp_nistz256_mul_mont(x32, t, x16); /* a^(2^32 - 1) */
  /* bits 255..224: ffffffff */
  memcpy(t, x32, sizeof t);
  /* bits 223..192: 00000001 */
  for (int i = 0; i < 32; i++) ecp_nistz256_sqr_mont(t, t);
  ecp_nistz256_mul_mont(t, t, a);
  /* bits 191..96: zero */
  for (int i = 0; i < 96; i++) ecp_nistz256_sqr_mont(t, t);
  /* bits 95..64 and 63..32: ffffffff ffffffff */
  for (int i = 0; i < 32; i++) ecp_nistz256_sqr_mont(t, t);
  ecp_nistz256_mul_mont(t, t, x32);
  for (int i = 0; i < 32; i++) ecp_nistz256_sqr_mont(t, t);
  ecp_nistz256_mul_mont(t, t, x32);
  /* bits 31..0: fffffffd = (2^30 - 1) << 2 | 01 */
  for (int i = 0; i < 16; i++) ecp_nistz256_sqr_mont(t, t);
  ecp_nistz256_mul_mont(t, t, x16);
  for (int i = 0; i < 8; i++) ecp_nistz256_sqr_mont(t, t);
  ecp_nistz256_mul_mont(t, t, x8);
  for (int i = 0; i < 4; i++) ecp_nistz256_sqr_mont(t, t);
  ecp_nistz256_mul_mont(t, t, x4);
  for (int i = 0; i < 2; i++) ecp_nistz256_sqr_mont(t, t);
  ecp_nistz256_mul_mont(t, t, x2); /* 30 ones */
  /* and the last two bits, 0 1 */
  ecp_nistz256_sqr_mont(t, t);
  ecp_nistz256_sqr_mont(t, t);
  ecp_nistz256_mul_mont(r, t, a);
  OPENSSL_cleanse(x2, sizeof x2);
  OPENSSL_cleanse(x4, sizeof x4);
  OPENSSL_cleanse(x8, sizeof x8);
  OPENSSL_cleanse(x16, sizeof x16);
  OPENSSL_cleanse(x32, sizeof x32);
  OPENSSL_cleanse(t, sizeof t);
}

/* r = a^-1 mod n, a in [1, n) in the order's Montgomery form (a R), r likewise. Public values only
 * (signature scalars): a plain 4-bit window over the exponent n - 2. */
static void order_invert(felem r, const felem a) {
  static const felem n_minus_2 = {0xf3b9cac2fc63254fULL, 0xbce6faada7179e84ULL, 0xffffffffffffffffULL,
                                  0xffffffff00000000ULL};
  felem powers[16]; /* powers[k] = a^k, powers[0] unused */
  memcpy(powers[1], a, sizeof(felem));
  for (int k = 2; k < 16; k++) ecp_nistz256_ord_mul_mont(powers[k], powers[k - 1], a);
  felem acc;
  int started = 0;
  for (int nibble = 63; nibble >= 0; nibble--) {
    unsigned digit = (unsigned)(n_minus_2[nibble / 16] >> (4 * (nibble % 16))) & 15;
    if (started) {
      ecp_nistz256_ord_sqr_mont(acc, acc, 4);
      if (digit) ecp_nistz256_ord_mul_mont(acc, acc, powers[digit]);
    } else if (digit) {
      memcpy(acc, powers[digit], sizeof acc);
      started = 1;
    }
  }
  memcpy(r, acc, sizeof acc);
}

/*
 * The signed digit of window i of a 33-byte little-endian scalar (byte 32 zero): bits 7i-1 .. 7i+6 read
 * as b(7i-1) + bits(7i .. 7i+5) - 64 b(7i+6), in [-64, 64]; the digits times 2^(7i) sum to the scalar.
 * Returned as magnitude and sign, without branches.
 */
static void window_digit(const unsigned char scalar[SCALAR_LEN + 1], int i, unsigned *magnitude,
                         limb *negative) {
  unsigned v;
  if (i == 0) {
    v = ((unsigned)scalar[0] << 1) & 0xff;
  } else {
    unsigned bit = 7 * (unsigned)i - 1;
    unsigned word = (unsigned)scalar[bit / 8] | ((unsigned)scalar[bit / 8 + 1] << 8);
    v = (word >> (bit % 8)) & 0xff;
  }
  unsigned t = (v + 1) >> 1;          /* 0 .. 128 */
  unsigned sign = v >> 7;             /* 1: the digit is t - 128 */
  unsigned mask = 0u - sign;          /* all ones when negative */
  BARRIER(mask);
  *magnitude = (t & ~mask) | ((128u - t) & mask);
  *negative = (limb)sign;
}

/* out = k * (the table's point): 37 mixed additions, every table read a constant-time gather. */
static void walk(jacobian *out, const table_row *table, const unsigned char scalar[SCALAR_LEN + 1]) {
  jacobian acc;
  memset(&acc, 0, sizeof acc); /* Z = 0: the point at infinity */
  affine entry;
  felem negated;
  for (int i = 0; i < ROWS; i++) {
    unsigned magnitude;
    limb negative;
    window_digit(scalar, i, &magnitude, &negative);
    ecp_nistz256_gather_w7(&entry, table[i], (int)magnitude); /* 0 gives (0, 0): infinity */
    ecp_nistz256_neg(negated, entry.Y);
    copy_if(entry.Y, negated, negative);
    ecp_nistz256_point_add_affine(&acc, &acc, &entry);
  }
  *out = acc;
  OPENSSL_cleanse(&entry, sizeof entry);
  OPENSSL_cleanse(negated, sizeof negated);
  OPENSSL_cleanse(&acc, sizeof acc);
}

static void scalar_bytes(unsigned char out[SCALAR_LEN + 1], const felem k) {
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 8; j++) out[i * 8 + j] = (unsigned char)(k[i] >> (8 * j));
  out[SCALAR_LEN] = 0;
}

/* A key's table: row i holds (k + 1) 2^(7i) Q for k = 0..63, affine, Montgomery form. */
typedef struct {
  table_row *rows; /* 64-byte aligned, inside storage */
  void *storage;
  int counted; /* its size is counted in V8's external memory */
} fixed_key;

#define TABLE_POINTS (ROWS * ENTRIES)

/* Builds the table of Q (affine, Montgomery form, on the curve). 0 when memory runs out. */
static int build_table(fixed_key *key, const affine *q) {
  jacobian *points = malloc(sizeof(jacobian) * TABLE_POINTS);
  felem *prefix = malloc(sizeof(felem) * TABLE_POINTS);
  key->storage = malloc(sizeof(table_row) * ROWS + 64);
  if (points == NULL || prefix == NULL || key->storage == NULL) {
    free(points);
    free(prefix);
    free(key->storage);
    key->storage = NULL;
    return 0;
  }
  key->rows = (table_row *)(((uintptr_t)key->storage + 63) & ~(uintptr_t)63);

  jacobian base; /* 2^(7i) Q */
  memcpy(base.X, q->X, sizeof(felem));
  memcpy(base.Y, q->Y, sizeof(felem));
  memcpy(base.Z, one_mont, sizeof(felem));
  for (int i = 0; i < ROWS; i++) {
    jacobian *row = points + i * ENTRIES;
    row[0] = base;
    ecp_nistz256_point_double(&row[1], &base);
    for (int k = 2; k < ENTRIES; k++) ecp_nistz256_point_add(&row[k], &row[k - 1], &base);
    ecp_nistz256_point_double(&base, &row[ENTRIES - 1]); /* 128 2^(7i) Q = 2^(7(i+1)) Q */
  }
  /* to affine with one inversion (Montgomery's trick); no Z is zero: (k + 1) 2^(7i) is never a multiple
   * of the prime order n */
  memcpy(prefix[0], points[0].Z, sizeof(felem));
  for (int k = 1; k < TABLE_POINTS; k++) ecp_nistz256_mul_mont(prefix[k], prefix[k - 1], points[k].Z);
  felem inverse, z_inv, z_inv2, z_inv3;
  field_invert(inverse, prefix[TABLE_POINTS - 1]);
  for (int k = TABLE_POINTS - 1; k >= 0; k--) {
    if (k > 0) {
      ecp_nistz256_mul_mont(z_inv, inverse, prefix[k - 1]);
      ecp_nistz256_mul_mont(inverse, inverse, points[k].Z);
    } else {
      memcpy(z_inv, inverse, sizeof z_inv);
    }
    affine a;
    ecp_nistz256_sqr_mont(z_inv2, z_inv);
    ecp_nistz256_mul_mont(z_inv3, z_inv2, z_inv);
    ecp_nistz256_mul_mont(a.X, points[k].X, z_inv2);
    ecp_nistz256_mul_mont(a.Y, points[k].Y, z_inv3);
    ecp_nistz256_scatter_w7(key->rows[k / ENTRIES], &a, k % ENTRIES);
  }
  free(points);
  free(prefix);
  return 1;
}

/*
 * ES256 verification of a 32-byte digest with the key's table: r and s in [1, n), w = s^-1,
 * R = (e w) G + (r w) Q, valid when R is not infinity and x(R) mod n = r.
 */
static int verify_digest(const fixed_key *key, const unsigned char digest[SCALAR_LEN],
                         const unsigned char signature[2 * SCALAR_LEN]) {
  felem r, s, e;
  load_be(r, signature);
  load_be(s, signature + SCALAR_LEN);
  if (is_zero(r) || is_zero(s) || !less_than(r, N) || !less_than(s, N)) return 0;
  load_be(e, digest); /* SHA-256 is as long as n: no truncation */
  if (!less_than(e, N)) subtract(e, e, N);

  felem s_mont, w_mont, u1, u2;
  ecp_nistz256_ord_mul_mont(s_mont, s, n_rr); /* s R */
  order_invert(w_mont, s_mont);               /* s^-1 R */
  ecp_nistz256_ord_mul_mont(u1, e, w_mont);   /* e s^-1 */
  ecp_nistz256_ord_mul_mont(u2, r, w_mont);   /* r s^-1 */
  if (!less_than(u1, N)) subtract(u1, u1, N);  /* the walk's argument needs scalars below n */
  if (!less_than(u2, N)) subtract(u2, u2, N);

  unsigned char k1[SCALAR_LEN + 1], k2[SCALAR_LEN + 1];
  scalar_bytes(k1, u1);
  scalar_bytes(k2, u2);
  jacobian a, b, sum;
  walk(&a, ecp_nistz256_precomputed, k1);
  walk(&b, (const table_row *)key->rows, k2);
  ecp_nistz256_point_add(&sum, &a, &b); /* handles a = b and a = -b */

  felem z;
  canonical(z, sum.Z);
  if (is_zero(z)) return 0; /* R is the point at infinity */
  /* x(R) = X / Z^2: compare X with r Z^2, and with (r + n) Z^2 when r + n < p, without inverting Z */
  felem zz, x, candidate, candidate_mont, product;
  ecp_nistz256_sqr_mont(zz, sum.Z);
  canonical(x, sum.X);
  memcpy(candidate, r, sizeof candidate);
  for (int attempt = 0; attempt < 2; attempt++) {
    ecp_nistz256_to_mont(candidate_mont, candidate);
    ecp_nistz256_mul_mont(product, candidate_mont, zz);
    felem y;
    canonical(y, product);
    if (memcmp(x, y, sizeof x) == 0) return 1;
    if (add(candidate, candidate, N) || !less_than(candidate, P)) break;
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Node-API */

static const napi_type_tag key_tag = {0x7061737365726c6cULL, 0x7032353666697864ULL};

#define TABLE_BYTES ((int64_t)(sizeof(table_row) * ROWS))

static void free_key(napi_env env, void *data, void *hint) {
  (void)hint;
  fixed_key *key = data;
  if (key->counted) { /* give back to V8 what make_key told it the table holds */
    int64_t adjusted;
    napi_adjust_external_memory(env, -TABLE_BYTES, &adjusted);
  }
  free(key->storage);
  free(key);
}

static fixed_key *key_arg(napi_env env, napi_value value) { return tagged_external(env, value, &key_tag); }

/* key(point) -> handle: the point is decoded by OpenSSL, which refuses one off the curve */
static napi_value make_key(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!args_exactly(env, info, 1, argv)) return fail(env, "ERR_P256_ARGUMENT", "key(point) takes one point");
  const unsigned char *data;
  size_t len;
  if (!bytes_arg(env, argv[0], &data, &len) || len != POINT_LEN || data[0] != 0x04)
    return fail(env, "ERR_P256_POINT", "the key is not a point on the P-256 curve");
  EC_POINT *point = EC_POINT_new(group);
  int on_curve = point != NULL && EC_POINT_oct2point(group, point, data, len, NULL) == 1 &&
                 !EC_POINT_is_at_infinity(group, point);
  EC_POINT_free(point);
  if (!on_curve) return fail(env, "ERR_P256_POINT", "the key is not a point on the P-256 curve");
  affine q;
  felem plain;
  load_be(plain, data + 1);
  ecp_nistz256_to_mont(q.X, plain);
  load_be(plain, data + 1 + SCALAR_LEN);
  ecp_nistz256_to_mont(q.Y, plain);
  fixed_key *key = calloc(1, sizeof *key);
  if (key == NULL || !build_table(key, &q)) {
    free(key);
    return fail(env, "ERR_P256_MEMORY", "no memory for the key's table");
  }
  napi_value handle;
  if (napi_create_external(env, key, free_key, NULL, &handle) != napi_ok) {
    free_key(env, key, NULL);
    return fail(env, "ERR_P256_MEMORY", "could not keep the key's table");
  }
  if (napi_type_tag_object(env, handle, &key_tag) != napi_ok)
    return fail(env, "ERR_P256_MEMORY", "could not keep the key's table");
  /* so that V8 counts the table when it decides to collect (given back by free_key) */
  int64_t adjusted;
  if (napi_adjust_external_memory(env, TABLE_BYTES, &adjusted) == napi_ok) key->counted = 1;
  return handle;
}

static napi_value boolean(napi_env env, int value) {
  napi_value out;
  if (napi_get_boolean(env, value != 0, &out) != napi_ok)
    return fail(env, "ERR_P256_ARGUMENT", "could not return the verification's result");
  return out;
}

/* The arguments of verify() and verifyOnPool(): a key's handle, the data, the signature (any length: one
 * that is not 64 bytes verifies as false). 0 with an error thrown otherwise. */
typedef struct {
  napi_value handle; /* the key's handle, which an asynchronous verification references */
  fixed_key *key;
  const unsigned char *data, *signature;
  size_t data_len, signature_len;
} verify_args;

static int read_verify_args(napi_env env, napi_callback_info info, const char *call, verify_args *out) {
  napi_value argv[3];
  char message[96];
  if (!args_exactly(env, info, 3, argv)) {
    snprintf(message, sizeof message, "%s(key, data, signature) takes three arguments", call);
    fail(env, "ERR_P256_ARGUMENT", message);
    return 0;
  }
  out->handle = argv[0];
  out->key = key_arg(env, argv[0]);
  if (out->key == NULL) {
    snprintf(message, sizeof message, "%s(key, data, signature) needs a key from key()", call);
    fail(env, "ERR_P256_ARGUMENT", message);
    return 0;
  }
  if (!bytes_arg(env, argv[1], &out->data, &out->data_len) ||
      !bytes_arg(env, argv[2], &out->signature, &out->signature_len)) {
    snprintf(message, sizeof message, "%s(key, data, signature) takes Buffers", call);
    fail(env, "ERR_P256_ARGUMENT", message);
    return 0;
  }
  return 1;
}

/* verify(handle, data, signature) -> boolean */
static napi_value verify(napi_env env, napi_callback_info info) {
  verify_args args;
  if (!read_verify_args(env, info, "verify", &args)) return NULL;
  if (args.signature_len != 2 * SCALAR_LEN) return boolean(env, 0);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(args.data, args.data_len, digest);
  return boolean(env, verify_digest(args.key, digest, args.signature));
}

/* A verification on libuv's thread pool: the digest and the signature are copied, the key's handle is
 * referenced until the result is back (the table is only read, so several may run at once). */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref key_ref;
  fixed_key *key;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned char signature[2 * SCALAR_LEN];
  int valid;
} verify_job;

static void verify_execute(napi_env env, void *data) {
  (void)env;
  verify_job *job = data;
  job->valid = verify_digest(job->key, job->digest, job->signature);
}

static void verify_complete(napi_env env, napi_status status, void *data) {
  verify_job *job = data;
  napi_value result;
  if (status == napi_ok && napi_get_boolean(env, job->valid != 0, &result) == napi_ok) {
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_value message, error;
    napi_create_string_utf8(env, "the verification did not run", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_reference(env, job->key_ref);
  napi_delete_async_work(env, job->work);
  free(job);
}

/* verifyOnPool(handle, data, signature) -> Promise<boolean> */
static napi_value verify_on_pool(napi_env env, napi_callback_info info) {
  verify_args args;
  if (!read_verify_args(env, info, "verifyOnPool", &args)) return NULL;
  verify_job *job = calloc(1, sizeof *job);
  if (job == NULL) return fail(env, "ERR_P256_MEMORY", "no memory for the verification");
  job->key = args.key;
  SHA256(args.data, args.data_len, job->digest);
  napi_value promise, name;
  if (args.signature_len == 2 * SCALAR_LEN) {
    memcpy(job->signature, args.signature, sizeof job->signature);
  } else {
    memset(job->signature, 0, sizeof job->signature); /* r = 0: refused, as the synchronous call does */
  }
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok) {
    free(job);
    return fail(env, "ERR_P256_MEMORY", "could not start the verification");
  }
  if (napi_create_reference(env, args.handle, 1, &job->key_ref) != napi_ok ||
      napi_create_string_utf8(env, "p256-verify", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, verify_execute, verify_complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    /* the promise is never settled and never returned: the caller gets the error thrown */
    if (job->work != NULL) napi_delete_async_work(env, job->work);
    if (job->key_ref != NULL) napi_delete_reference(env, job->key_ref);
    free(job);
    return fail(env, "ERR_P256_MEMORY", "could not start the verification");
  }
  return promise;
}

/* ephemeral(handle) -> epk || Z for a fresh scalar e in [1, n) */
static napi_value ephemeral(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!args_exactly(env, info, 1, argv))
    return fail(env, "ERR_P256_ARGUMENT", "ephemeral(key) takes one key");
  fixed_key *key = key_arg(env, argv[0]);
  if (key == NULL) return fail(env, "ERR_P256_ARGUMENT", "ephemeral(key) needs a key from key()");

  unsigned char random[SCALAR_LEN];
  felem e;
  do { /* rejection sampling: uniform in [1, n) */
    if (RAND_priv_bytes(random, sizeof random) != 1) {
      OPENSSL_cleanse(random, sizeof random);
      OPENSSL_cleanse(e, sizeof e);
      return fail(env, "ERR_P256_RANDOM", "no random bytes for the ephemeral key");
    }
    load_be(e, random);
    felem difference;
    limb below_n = subtract(difference, e, N); /* compares without stopping at the first limb */
    OPENSSL_cleanse(difference, sizeof difference);
    limb nonzero = (e[0] | e[1] | e[2] | e[3]) != 0;
    if (below_n & nonzero) break; /* reveals only that a draw was refused, which says nothing of e */
  } while (1);
  unsigned char k[SCALAR_LEN + 1];
  scalar_bytes(k, e);

  jacobian epk, shared;
  walk(&epk, ecp_nistz256_precomputed, k);
  walk(&shared, (const table_row *)key->rows, k);
  /* both to affine with one inversion: 1 / (Z1 Z2) */
  felem product, inverse, z1_inv, z2_inv, t, x, y, z;
  ecp_nistz256_mul_mont(product, epk.Z, shared.Z);
  field_invert(inverse, product);
  ecp_nistz256_mul_mont(z1_inv, inverse, shared.Z);
  ecp_nistz256_mul_mont(z2_inv, inverse, epk.Z);
  unsigned char out[POINT_LEN + SCALAR_LEN];
  out[0] = 0x04;
  ecp_nistz256_sqr_mont(t, z1_inv);
  ecp_nistz256_mul_mont(x, epk.X, t);
  ecp_nistz256_mul_mont(t, t, z1_inv);
  ecp_nistz256_mul_mont(y, epk.Y, t);
  canonical(x, x);
  canonical(y, y);
  store_be(out + 1, x);
  store_be(out + 1 + SCALAR_LEN, y);
  ecp_nistz256_sqr_mont(t, z2_inv);
  ecp_nistz256_mul_mont(z, shared.X, t);
  canonical(z, z);
  store_be(out + POINT_LEN, z);

  napi_value result = NULL;
  void *dest;
  if (napi_create_buffer_copy(env, sizeof out, out, &dest, &result) != napi_ok) result = NULL;
  OPENSSL_cleanse(random, sizeof random);
  OPENSSL_cleanse(e, sizeof e);
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(&shared, sizeof shared);
  OPENSSL_cleanse(&epk, sizeof epk); /* its Z says something of e */
  OPENSSL_cleanse(z1_inv, sizeof z1_inv);
  OPENSSL_cleanse(out, sizeof out);
  OPENSSL_cleanse(z, sizeof z);
  OPENSSL_cleanse(t, sizeof t);
  OPENSSL_cleanse(z2_inv, sizeof z2_inv);
  OPENSSL_cleanse(inverse, sizeof inverse);
  OPENSSL_cleanse(product, sizeof product);
  if (result == NULL) return fail(env, "ERR_P256_AGREEMENT", "the ephemeral agreement failed");
  return result;
}

static void initialise(void) {
  group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  BIGNUM *rr = BN_new(), *order = BN_new();
  BN_CTX *ctx = BN_CTX_new();
  unsigned char bytes[SCALAR_LEN];
  unsigned char n_bytes[SCALAR_LEN];
  store_be(n_bytes, N);
  int ok = group != NULL && rr != NULL && order != NULL && ctx != NULL &&
           BN_bin2bn(n_bytes, SCALAR_LEN, order) != NULL && BN_cmp(order, EC_GROUP_get0_order(group)) == 0 &&
           BN_set_word(rr, 1) && BN_lshift(rr, rr, 512) && BN_mod(rr, rr, order, ctx) &&
           BN_bn2binpad(rr, bytes, SCALAR_LEN) == SCALAR_LEN;
  if (ok) {
    load_be(n_rr, bytes);
    const felem one = {1, 0, 0, 0};
    ecp_nistz256_to_mont(one_mont, one);
  }
  BN_free(rr);
  BN_free(order);
  BN_CTX_free(ctx);
  ERR_clear_error();
  ready = ok;
}

static napi_value init(napi_env env, napi_value exports) {
  if ((OpenSSL_version_num() & 0xFFF00000UL) != (OPENSSL_VERSION_NUMBER & 0xFFF00000UL))
    return fail(env, "ERR_P256_INIT", "built against another OpenSSL release than the one running");
  pthread_once(&init_once, initialise);
  if (!ready) return fail(env, "ERR_P256_INIT", "OpenSSL has no P-256 group");
  napi_property_descriptor props[] = {
      {"key", NULL, make_key, NULL, NULL, NULL, napi_enumerable, NULL},
      {"verify", NULL, verify, NULL, NULL, NULL, napi_enumerable, NULL},
      {"verifyOnPool", NULL, verify_on_pool, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ephemeral", NULL, ephemeral, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
