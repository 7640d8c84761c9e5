/*
 * What the two addons' Node-API entry points share: throwing a catalogue error, taking a call's arguments,
 * reading a Buffer argument and a key handle. Included by each addon's C file after <node_api.h> and
 * <openssl/err.h>; each build's marker (build/<name>.built-for.json) hashes this file with the C file, so a
 * change to either refuses the old build.
 */
#ifndef PASSERELLE_NAPI_COMMON_H
#define PASSERELLE_NAPI_COMMON_H

#include <stdbool.h>
#include <stddef.h>

/* Throws `code` with `message` (never a key or a secret), clearing OpenSSL's error queue; NULL to return. */
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

/* The call's arguments into argv, when there are exactly `count` of them; 0 otherwise. */
static inline int args_exactly(napi_env env, napi_callback_info info, size_t count, napi_value *argv) {
  size_t argc = count;
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == count;
}

/*
 * The data of an external made by this addon (type-tagged with `tag` when it was made), so that no other
 * external is ever taken for a key; NULL otherwise.
 */
static inline void *tagged_external(napi_env env, napi_value value, const napi_type_tag *tag) {
  napi_valuetype type;
  bool tagged = false;
  void *data = NULL;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external ||
      napi_check_object_type_tag(env, value, tag, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, value, &data) != napi_ok)
    return NULL;
  return data;
}

#endif
