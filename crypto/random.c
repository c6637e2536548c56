/* See random.h. */
#include "crypto/random.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

int wm_random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

uint32_t wm_random_below(uint32_t bound)
{
	/* Rejection sampling keeps the result unbiased. */
	uint32_t limit = UINT32_MAX - UINT32_MAX % bound, v;

	do {
		if (wm_random_bytes(&v, sizeof(v)) < 0)
			abort();
	} while (v >= limit);
	return v % bound;
}

uint32_t wm_fast_random_below(uint64_t *state, uint32_t bound)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (uint32_t)(((z >> 32) * bound) >> 32);
}
