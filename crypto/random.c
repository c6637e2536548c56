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
