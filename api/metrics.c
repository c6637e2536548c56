/* See metrics.h. */
#include "api/metrics.h"
#include "agent/version.h"
#include "crypto/encoding.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t wm_metrics_escape_label(char *out, size_t cap, const char *in)
{
	size_t n = 0;

	for (; *in; in++) {
		const char *rep = NULL;
		char one[2] = { *in, '\0' };

		switch (*in) {
		case '\\': rep = "\\\\"; break;
		case '"': rep = "\\\""; break;
		case '\n': rep = "\\n"; break;
		default: rep = one; break;
		}
		for (; *rep; rep++, n++)
			if (n + 1 < cap)
				out[n] = *rep;
	}
	if (cap)
		out[n < cap ? n : cap - 1] = '\0';
	return n;
}

/* Label values here are interface names, keys, versions and fixed words;
 * 128 bytes hold any of them escaped. */
static const char *esc(char buf[128], const char *in)
{
	if (wm_metrics_escape_label(buf, 128, in) >= 128)
		return "";
	return buf;
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const struct {
	size_t off;
	const char *reason;
	bool rx;
} drops[] = {
	{ offsetof(struct wm_device_stats, rx_malformed), "malformed", true },
	{ offsetof(struct wm_device_stats, rx_bad_mac), "bad_mac", true },
	{ offsetof(struct wm_device_stats, rx_handshake_failed), "handshake_failed", true },
	{ offsetof(struct wm_device_stats, rx_handshake_limited), "handshake_rate_limited", true },
	{ offsetof(struct wm_device_stats, rx_unknown_index), "unknown_index", true },
	{ offsetof(struct wm_device_stats, rx_bad_auth), "bad_auth", true },
	{ offsetof(struct wm_device_stats, rx_replay), "replay", true },
	{ offsetof(struct wm_device_stats, rx_expired), "expired", true },
	{ offsetof(struct wm_device_stats, rx_bad_inner), "bad_inner", true },
	{ offsetof(struct wm_device_stats, rx_source_not_allowed), "source_not_allowed", true },
	{ offsetof(struct wm_device_stats, tx_no_route), "no_route", false },
	{ offsetof(struct wm_device_stats, tx_no_endpoint), "no_endpoint", false },
	{ offsetof(struct wm_device_stats, tx_send_errors), "send_error", false },
	{ offsetof(struct wm_device_stats, staged_dropped), "staged_overflow", false },
};

static uint64_t stat_at(const struct wm_device_stats *s, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)s + off, sizeof(v));
	return v;
}

static void drop_family(FILE *f, const struct wm_device *dev, const char *ifn,
			bool rx)
{
	const char *name = rx ? "wiremesh_rx_dropped_packets_total"
			      : "wiremesh_tx_dropped_packets_total";

	family(f, name, "counter",
	       rx ? "Received packets dropped, by reason."
		  : "Packets not sent, by reason.");
	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
		if (drops[i].rx == rx)
			fprintf(f, "%s{interface=\"%s\",reason=\"%s\"} %llu\n",
				name, ifn, drops[i].reason,
				(unsigned long long)stat_at(&dev->stats,
							    drops[i].off));
}

#define STAT(field) offsetof(struct wm_device_stats, field)
/* The device-wide counters, one family each. */
static const struct {
	const char *name, *help;
	size_t off;
} counters[] = {
	{ "wiremesh_handshakes_completed_total",
	  "Handshakes completed, both roles.", STAT(handshakes_completed) },
	{ "wiremesh_cookie_replies_sent_total",
	  "Cookie replies sent while under load.", STAT(cookie_replies_sent) },
	{ "wiremesh_disco_received_total",
	  "Authentic disco messages taken (either version).", STAT(disco_rx) },
	{ "wiremesh_disco_dropped_total",
	  "Disco messages refused: unknown sender, failed authentication, "
	  "replays and stale ones.", STAT(disco_dropped) },
	{ "wiremesh_disco_v1_received_total",
	  "Authentic disco messages in the old format (version 1, static "
	  "key in clear) from peers running an older agent.", STAT(disco_v1_rx) },
	{ "wiremesh_disco_clock_skew_total",
	  "Authentic disco messages from a peer whose clock is more than "
	  "60 s off ours.", STAT(disco_clock_skew) },
	{ "wiremesh_disco_unknown_id_total",
	  "Disco version 2 messages whose pair id names no peer around our "
	  "clock's hour (a stranger, or a peer whose clock is over an hour "
	  "off).", STAT(disco_unknown_id) },
	{ "wiremesh_birthday_attempts_total",
	  "Birthday probing attempts started (either side).", STAT(bday_attempts) },
	{ "wiremesh_birthday_sockets_total",
	  "Extra sockets opened for birthday probing (the side behind "
	  "an endpoint-dependent NAT).", STAT(bday_sockets) },
	{ "wiremesh_birthday_probes_total",
	  "Birthday probes sent to random ports (the other side).", STAT(bday_probes) },
	{ "wiremesh_birthday_wins_total",
	  "Birthday attempts that found a direct path.", STAT(bday_wins) },
};
#undef STAT

static void counter_families(FILE *f, const struct wm_device *dev,
			     const char *ifn)
{
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		family(f, counters[i].name, "counter", counters[i].help);
		fprintf(f, "%s{interface=\"%s\"} %llu\n", counters[i].name, ifn,
			(unsigned long long)stat_at(&dev->stats, counters[i].off));
	}
}

/* Each per-peer family walks the peers again: the format wants a family's
 * samples together. */
static void peer_family(FILE *f, const struct wm_device *dev, const char *ifn,
			const struct wm_peer_view *views, int which)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "wiremesh_peer_rx_bytes_total", "counter",
		  "Bytes received from the peer." },
		{ "wiremesh_peer_tx_bytes_total", "counter",
		  "Bytes sent to the peer." },
		{ "wiremesh_peer_last_handshake_seconds", "gauge",
		  "Unix time of the last completed handshake, 0 if none." },
		{ "wiremesh_peer_rtt_seconds", "gauge",
		  "Round-trip time of the path in use, where measured." },
		{ "wiremesh_peer_path", "gauge",
		  "1 for the path the peer uses now (direct, relay or none)." },
	};
	const struct wm_peer *p;
	size_t i = 0;

	family(f, fam[which].name, fam[which].type, fam[which].help);
	for (p = dev->peers; p; p = p->next, i++) {
		char key[WM_KEY_B64_LEN + 1], ek[128];
		char lbl[300];

		wm_key_to_base64(key, p->public_key);
		snprintf(lbl, sizeof(lbl), "interface=\"%s\",peer=\"%s\"", ifn,
			 esc(ek, key));
		switch (which) {
		case 0:
			fprintf(f, "%s{%s} %llu\n", fam[which].name, lbl,
				(unsigned long long)p->rx_bytes);
			break;
		case 1:
			fprintf(f, "%s{%s} %llu\n", fam[which].name, lbl,
				(unsigned long long)p->tx_bytes);
			break;
		case 2:
			fprintf(f, "%s{%s} %llu\n", fam[which].name, lbl,
				(unsigned long long)(p->last_handshake_mono
							     ? p->last_handshake_sec
							     : 0));
			break;
		case 3:
			/* Microseconds when known: LAN RTTs are below 1 ms. */
			if (views[i].rtt_us > 0)
				fprintf(f, "%s{%s} %g\n", fam[which].name, lbl,
					(double)views[i].rtt_us / 1e6);
			else if (views[i].rtt_ms >= 0)
				fprintf(f, "%s{%s} %g\n", fam[which].name, lbl,
					views[i].rtt_ms / 1000.0);
			break;
		default: {
			char ep[128];
			/* The cached decision itself (agent/peer_path.c),
			 * whatever the view says. */
			fprintf(f, "%s{%s,path=\"%s\"} 1\n", fam[which].name, lbl,
				esc(ep, wm_via_name(p->shown)));
			break;
		}
		}
	}
}

char *wm_metrics_render(const struct wm_device *dev, wm_metrics_view_fn view,
			void *ctx, size_t *len)
{
	return wm_metrics_render_with(dev, view, ctx, NULL, NULL, len);
}

char *wm_metrics_render_with(const struct wm_device *dev,
			     wm_metrics_view_fn view, void *ctx,
			     wm_metrics_extra_fn extra, void *extra_ctx,
			     size_t *len)
{
	struct wm_peer_view *views;
	char ifn[128], ver[128], *text = NULL;
	const struct wm_peer *p;
	size_t i = 0;
	FILE *f;

	views = calloc(dev->peer_count ? dev->peer_count : 1, sizeof(*views));
	if (!views)
		return NULL;
	for (p = dev->peers; p && i < dev->peer_count; p = p->next, i++) {
		views[i].path = "none";
		views[i].rtt_ms = -1;
		if (view)
			view(ctx, p, &views[i]);
	}
	f = open_memstream(&text, len);
	if (!f) {
		free(views);
		return NULL;
	}
	esc(ifn, dev->ifname);
	family(f, "wiremesh_info", "gauge", "Version of the running agent.");
	fprintf(f, "wiremesh_info{interface=\"%s\",version=\"%s\"} 1\n", ifn,
		esc(ver, WM_VERSION));
	family(f, "wiremesh_peers", "gauge", "Configured peers.");
	fprintf(f, "wiremesh_peers{interface=\"%s\"} %zu\n", ifn,
		dev->peer_count);
	for (int which = 0; which < 5; which++)
		peer_family(f, dev, ifn, views, which);
	drop_family(f, dev, ifn, true);
	drop_family(f, dev, ifn, false);
	counter_families(f, dev, ifn);
	if (extra)
		extra(extra_ctx, f, ifn);
	free(views);
	if (ferror(f)) {
		fclose(f);
		free(text);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
