/*
 * random.h - the kernel's CSPRNG through getrandom(2).
 */
#ifndef WM_CRYPTO_RANDOM_H
#define WM_CRYPTO_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* Fills buf with len random bytes. Returns 0, or -errno (never short). */
int wm_random_bytes(void *buf, size_t len);

/* A uniformly random value in [0, bound), bound > 0. Aborts if the kernel
 * cannot supply randomness: there is no safe fallback. */
uint32_t wm_random_below(uint32_t bound);

/* A fast non-cryptographic generator (splitmix64) for timer jitter, where
 * a syscall per packet would cost more than the jitter is worth. The
 * caller owns the state; seed it with wm_random_bytes. Returns a value in
 * [0, bound), bound > 0 (slightly biased; fine for jitter). */
uint32_t wm_fast_random_below(uint64_t *state, uint32_t bound);

#endif
