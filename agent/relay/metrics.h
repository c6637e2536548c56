/*
 * metrics.h - the relay's counters in the Prometheus text format
 * (MetricsListen), served by a tiny HTTP/1.x responder in the relay's
 * loop: loopback only (config.c refuses anything else), GET /metrics and
 * nothing else (404; 405 for another method), a request of at most
 * WM_RELAY_METRICS_REQ_MAX bytes (431 past it), at most
 * WM_RELAY_METRICS_CONNS connections at once (more wait in the backlog),
 * each closed after its one answer or WM_RELAY_METRICS_TIMEOUT_S.
 *
 * wm_relay_metrics_render is pure (counters in, text out), so it is
 * tested alone; the responder asks its caller for the counters at each
 * request.
 */
#ifndef WM_RELAY_METRICS_H
#define WM_RELAY_METRICS_H

#include "agent/loop.h"
#include "agent/relay/server.h"
#include "agent/relay/server_tcp.h"

#include <stddef.h>
#include <stdint.h>

enum {
	WM_RELAY_METRICS_REQ_MAX = 2048,
	WM_RELAY_METRICS_CONNS = 8,
	WM_RELAY_METRICS_TIMEOUT_S = 5,
};

/* Fills both snapshots (tcp zeroed when there is no TCP listener). */
typedef void wm_relay_metrics_snapshot_fn(void *ctx,
					  struct wm_relay_counters *core,
					  struct wm_relay_tcp_stats *tcp);

struct wm_relay_metrics;

/* Writes the exposition text into buf (NUL-terminated); returns its
 * length, or cap or more when it did not fit. */
size_t wm_relay_metrics_render(char *buf, size_t cap,
			       const struct wm_relay_counters *core,
			       const struct wm_relay_tcp_stats *tcp,
			       uint64_t uptime_s);

/* Listens on listen (numeric loopback "ip:port"). 0, or -errno with a
 * message in err. */
int wm_relay_metrics_open(struct wm_relay_metrics **out, struct wm_loop *loop,
			  const char *listen,
			  wm_relay_metrics_snapshot_fn *snapshot, void *ctx,
			  char *err, size_t errlen);
/* Closes every connection and the listener; NULL is fine. */
void wm_relay_metrics_close(struct wm_relay_metrics *m);
/* Closes connections older than WM_RELAY_METRICS_TIMEOUT_S; call about
 * once a second with the monotonic clock. NULL is fine. */
void wm_relay_metrics_tick(struct wm_relay_metrics *m, uint64_t now_ns);

#endif
