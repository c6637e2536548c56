/*
 * ct.h - constant-time comparison and explicit wiping of secrets.
 */
#ifndef WM_CRYPTO_CT_H
#define WM_CRYPTO_CT_H

#include <stdbool.h>
#include <stddef.h>

/* True when a and b are equal; time depends only on len. */
bool wm_ct_memeq(const void *a, const void *b, size_t len);

/* True when all len bytes are zero; time depends only on len. */
bool wm_ct_is_zero(const void *p, size_t len);

/* Zeroes len bytes in a way the compiler may not elide. */
void wm_memzero(void *p, size_t len);

#endif
