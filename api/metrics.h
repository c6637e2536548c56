/*
 * metrics.h - GET /metrics: the device and its peers in the Prometheus text
 * exposition format (version 0.0.4). Every family has HELP and TYPE lines;
 * label values are escaped as the format demands. Pure: it reads the
 * device and writes a string.
 *
 *   wiremesh_info{interface,version}                      gauge, always 1
 *   wiremesh_peers{interface}                             gauge
 *   wiremesh_peer_rx_bytes_total{interface,peer}          counter
 *   wiremesh_peer_tx_bytes_total{interface,peer}          counter
 *   wiremesh_peer_last_handshake_seconds{interface,peer}  gauge, unix time, 0 = never
 *   wiremesh_peer_rtt_seconds{interface,peer}             gauge, known RTTs only
 *   wiremesh_peer_path{interface,peer,path}               gauge, 1 for the path in use
 *   wiremesh_rx_dropped_packets_total{interface,reason}   counter
 *   wiremesh_tx_dropped_packets_total{interface,reason}   counter
 *   wiremesh_handshakes_completed_total{interface}        counter
 *   wiremesh_cookie_replies_sent_total{interface}         counter
 *
 * and what the agent adds (api/ops.h metrics_extra), today per relay:
 *   wiremesh_relay_up, _home, _rtt_seconds{interface,relay}        gauges
 *   wiremesh_relay_{tx,rx}_{frames,bytes}_total, _gone_total,
 *   _connects_total, _disconnects_total{interface,relay}          counters
 */
#ifndef WM_API_METRICS_H
#define WM_API_METRICS_H

#include "agent/device.h"
#include "api/peer_json.h"

#include <stddef.h>
#include <stdio.h>

/* Fills v for one peer (path and RTT; candidates are not used). */
typedef void (*wm_metrics_view_fn)(void *ctx, const struct wm_peer *p,
				   struct wm_peer_view *v);

/* The whole exposition as a malloc'd string (length in *len), or NULL on
 * ENOMEM. view may be NULL: then paths are "none" and RTTs unknown. */
char *wm_metrics_render(const struct wm_device *dev, wm_metrics_view_fn view,
			void *ctx, size_t *len);

/* Writes more families at the end (ifn: the escaped interface label). */
typedef void (*wm_metrics_extra_fn)(void *ctx, FILE *f, const char *ifn);
/* wm_metrics_render, then extra(extra_ctx, ...) when extra is not NULL. */
char *wm_metrics_render_with(const struct wm_device *dev,
			     wm_metrics_view_fn view, void *ctx,
			     wm_metrics_extra_fn extra, void *extra_ctx,
			     size_t *len);

/* Escapes a label value (\ -> \\, " -> \", newline -> \n) into out.
 * Returns the length it needs (excluding the NUL); out is complete when
 * that is below cap. */
size_t wm_metrics_escape_label(char *out, size_t cap, const char *in);

#endif
