/* See json_wipe.h. */
#include "api/json_wipe.h"
#include "crypto/ct.h"

#include <jansson.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* The header keeps the block's size and the block max-aligned. */
#define HDR (sizeof(max_align_t) > sizeof(size_t) ? sizeof(max_align_t) \
						  : sizeof(size_t))

static void *wipe_malloc(size_t n)
{
	unsigned char *p;

	if (n > SIZE_MAX - HDR || !(p = malloc(HDR + n)))
		return NULL;
	*(size_t *)(void *)p = n;
	return p + HDR;
}

static void wipe_free(void *ptr)
{
	unsigned char *p;

	if (!ptr)
		return;
	p = (unsigned char *)ptr - HDR;
	wm_memzero(p, HDR + *(size_t *)(void *)p);
	free(p);
}

void wm_json_wipe_on_free(void)
{
	json_set_alloc_funcs(wipe_malloc, wipe_free);
}
