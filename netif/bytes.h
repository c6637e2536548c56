/*
 * bytes.h - big-endian (network order) field access in packet headers,
 * for the offload codecs (gso.c, gro.c). Unaligned-safe: byte by byte.
 */
#ifndef WM_NETIF_BYTES_H
#define WM_NETIF_BYTES_H

#include <stdint.h>

static inline uint16_t wm_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wm_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t wm_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void wm_put32(uint8_t *p, uint32_t v)
{
	wm_put16(p, v >> 16);
	wm_put16(p + 2, v & 0xffff);
}

#endif
