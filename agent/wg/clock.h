/*
 * clock.h - the agent's two clocks: monotonic nanoseconds for every
 * deadline (CLOCK_BOOTTIME keeps counting across suspend, as key lifetimes
 * must), and the wall clock for timestamps shown to people and to peers.
 */
#ifndef WM_CLOCK_H
#define WM_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t wm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Time from then to now, 0 when then is later: a "now" read before a
 * handler stamped a newer time must not wrap around to centuries. */
static inline uint64_t wm_since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

static inline struct timespec wm_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

#endif
