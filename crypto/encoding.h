/*
 * encoding.h - keys as base64 (44 characters, as wg prints them) and as hex
 * (as the wg UAPI carries them), in constant time: keys are secrets.
 */
#ifndef WM_CRYPTO_ENCODING_H
#define WM_CRYPTO_ENCODING_H

#include <stdbool.h>
#include <stdint.h>

enum { WM_KEY_B64_LEN = 44, WM_KEY_HEX_LEN = 64 };

/* out gets 44 characters and a NUL. */
void wm_key_to_base64(char out[WM_KEY_B64_LEN + 1], const uint8_t key[32]);
/* Accepts exactly 44 characters ending in one '='. False on anything else. */
bool wm_key_from_base64(uint8_t key[32], const char *in);

/* Also accepts the URL-safe alphabet (-_) and missing padding, for keys
 * carried in URLs. */
bool wm_key_from_base64url(uint8_t key[32], const char *in);

void wm_key_to_hex(char out[WM_KEY_HEX_LEN + 1], const uint8_t key[32]);
bool wm_key_from_hex(uint8_t key[32], const char *in);

#endif
