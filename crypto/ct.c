/* See ct.h. */
#include "crypto/ct.h"

#include <stdint.h>
#include <string.h>

bool wm_ct_memeq(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;

	for (size_t i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

bool wm_ct_is_zero(const void *p, size_t len)
{
	const volatile uint8_t *x = p;
	uint8_t d = 0;

	for (size_t i = 0; i < len; i++)
		d |= x[i];
	return d == 0;
}

void wm_memzero(void *p, size_t len)
{
	explicit_bzero(p, len);
}
