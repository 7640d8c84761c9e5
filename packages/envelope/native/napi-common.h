/*
 * What the two addons' Node-API entry points share: throwing a catalogue error, and reading a Buffer
 * argument. Included by each addon's C file after <node_api.h> and <openssl/err.h>; each build's marker
 * (build/<name>.built-for.json) hashes this file with the C file, so a change to either refuses the old build.
 */
#ifndef PASSERELLE_NAPI_COMMON_H
#define PASSERELLE_NAPI_COMMON_H

#include <stdbool.h>
#include <stddef.h>

/* Throws `code` with `message` (never a key or a secret) and clears OpenSSL's error queue; NULL for returning. */
static inline napi_value fail(napi_env env, const char *code, const char *message) {
  ERR_clear_error();
  napi_throw_error(env, code, message);
  return NULL;
}

/* The bytes of a Buffer argument (not copied); 0 when `value` is not a Buffer. */
static inline int bytes_arg(napi_env env, napi_value value, const unsigned char **data, size_t *len) {
  bool is_buffer = false;
  if (napi_is_buffer(env, value, &is_buffer) != napi_ok || !is_buffer) return 0;
  void *raw = NULL;
  if (napi_get_buffer_info(env, value, &raw, len) != napi_ok) return 0;
  *data = raw;
  return 1;
}

#endif
