/* See tun_writer.h. */
#include "agent/tun_writer.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

int wm_tun_writer_init(struct wm_tun_writer *w, int fd, bool vnet)
{
	w->fd = fd;
	w->vnet = vnet;
	w->arena = NULL;
	if (vnet) {
		w->arena = malloc(WM_GRO_ARENA);
		if (!w->arena)
			return -ENOMEM;
	}
	wm_gro_init(&w->gro, w->arena);
	return 0;
}

void wm_tun_writer_free(struct wm_tun_writer *w)
{
	free(w->arena);
	w->arena = NULL;
}

static unsigned write_one(struct wm_tun_writer *w, const uint8_t *buf,
			  size_t len)
{
	return write(w->fd, buf, len) < 0;
}

unsigned wm_tun_writer_flush(struct wm_tun_writer *w)
{
	const uint8_t *e;
	unsigned failed = 0;
	size_t len;

	if (!w->vnet)
		return 0;
	while ((e = wm_gro_next(&w->gro, &len)))
		failed += write_one(w, e, len);
	wm_gro_reset(&w->gro);
	return failed;
}

unsigned wm_tun_writer_add(struct wm_tun_writer *w, const void *owner,
			   const uint8_t *pkt, size_t len)
{
	unsigned failed = 0;

	if (!w->vnet)
		return write_one(w, pkt, len);
	if (wm_gro_add(&w->gro, owner, pkt, len))
		return 0;
	/* Full: write what is held, then start over. */
	failed = wm_tun_writer_flush(w);
	if (!wm_gro_add(&w->gro, owner, pkt, len))
		failed++; /* longer than any IP packet: cannot happen */
	return failed;
}
