/*
 * gen_corpus.c - writes the binary seed inputs of tests/fuzz/corpus/ with
 * the agent's own builders, so the seeds are real messages:
 *
 *   stun/        RFC 5769 2.1-2.3 vectors; our Binding request, success
 *                response (v4, v6) and 420 answer
 *   disco/       raw mode: a sealed PING, PONG and CALL_ME_MAYBE under
 *                fuzz_disco.c's key; sealed mode: the same payloads
 *   relay_frame/ one frame of each type
 *   relay_server/ command sequences for fuzz_relay_server.c: A sends B
 *                a frame, over UDP, TCP, TLS, with a full pool, a rate
 *                limit, a closed connection, idle clients, roaming, a
 *                stranger, STUN
 *   receive/     one input per mode of fuzz_receive.c, among them a
 *                WireGuard initiation, response and cookie reply (raw and
 *                with macs fixed up), transport data with IPv4 and IPv6
 *                packets, disco, relay frames, a STUN success response,
 *                IP packets from the TUN
 *
 * Usage: build/fuzz/gen_corpus tests/fuzz/corpus   (tests/fuzz/build.sh
 * builds it; the seeds it writes are committed, so this only needs to run
 * when a format changes.)
 */
#include "agent/nat/disco.h"
#include "agent/wg/messages.h"
#include "agent/wg/noise.h"
#include "agent/relay/proto.h"
#include "agent/nat/stun.h"
#include "crypto/encoding.h"
#include "crypto/x25519.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int main(int argc, char **argv);

static const char *top;

static void put(const char *dir, const char *name, const void *a, size_t alen,
		const void *b, size_t blen)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, dir);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", top, dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(a, 1, alen, f) != alen ||
	    (blen && fwrite(b, 1, blen, f) != blen) || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static size_t unhex(uint8_t *out, const char *hex)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2)
		sscanf(hex, "%2hhx", &out[n++]);
	return n;
}

static void addr(union wm_sockaddr *a, const char *text)
{
	if (!wm_sockaddr_parse(a, text))
		abort();
}

static void stun(void)
{
	static const char *const rfc[][2] = {
		{ "rfc5769-request",
		  "000100582112a442b7e7a701bc34d686fa87dfae"
		  "802200105354554e207465737420636c69656e74"
		  "002400046e0001ff80290008932ff9b151263b36"
		  "000600096576746a3a68367659202020"
		  "000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2"
		  "80280004e57a3bcf" },
		{ "rfc5769-response-v4",
		  "0101003c2112a442b7e7a701bc34d686fa87dfae"
		  "8022000b7465737420766563746f7220"
		  "002000080001a147e112a643"
		  "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7"
		  "80280004c07d4c96" },
		{ "rfc5769-response-v6",
		  "010100482112a442b7e7a701bc34d686fa87dfae"
		  "8022000b7465737420766563746f7220"
		  "002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9"
		  "00080014a382954e4be67bf11784c97c8292c275bfe3ed41"
		  "80280004c8fb0b4c" },
	};
	static const uint8_t txid[12] = "seedseedseed";
	uint8_t buf[256];
	union wm_sockaddr a;
	struct wm_stun_msg m;
	size_t n;

	for (size_t i = 0; i < 3; i++)
		put("stun", rfc[i][0], buf, unhex(buf, rfc[i][1]), NULL, 0);
	n = wm_stun_build_request(buf, txid);
	put("stun", "request", buf, n, NULL, 0);
	addr(&a, "192.0.2.33:40000");
	n = wm_stun_build_response(buf, sizeof(buf), txid, &a);
	put("stun", "response-v4", buf, n, NULL, 0);
	addr(&a, "[2001:db8::33]:40001");
	n = wm_stun_build_response(buf, sizeof(buf), txid, &a);
	put("stun", "response-v6", buf, n, NULL, 0);
	memset(&m, 0, sizeof(m));
	memcpy(m.txid, txid, 12);
	m.n_unknown = 1;
	m.unknown[0] = 0x7f01;
	n = wm_stun_build_unknown_error(buf, sizeof(buf), &m);
	put("stun", "error-420", buf, n, NULL, 0);
}

/* fuzz_disco.c's key and sender. */
#define DISCO_KEY "8f1e7a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"
#define DISCO_SENDER "2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a"
#define DISCO_NOW 1700000000LL

/* The payload wm_disco_seal would encrypt for m (its marshal, by hand). */
static size_t payload(uint8_t *p, const struct wm_disco_msg *m)
{
	size_t n = 0;

	p[n++] = (uint8_t)m->type;
	for (int i = 7; i >= 0; i--)
		p[n++] = (uint8_t)((uint64_t)m->sent_at >> (8 * i));
	memcpy(p + n, m->txid, WM_DISCO_TXID);
	if (m->type == WM_DISCO_PING)
		return n + WM_DISCO_TXID;
	if (m->type == WM_DISCO_PONG) {
		n += WM_DISCO_TXID;
		memset(p + n, 0, WM_DISCO_ADDR);
		p[n] = 4;
		memcpy(p + n + 1, &m->observed.in.sin_port, 2);
		memcpy(p + n + 3, &m->observed.in.sin_addr, 4);
		return n + WM_DISCO_ADDR;
	}
	p[n++] = (uint8_t)m->n_candidates;
	for (size_t i = 0; i < m->n_candidates; i++, n += WM_DISCO_ADDR) {
		const union wm_sockaddr *a = &m->candidates[i];
		memset(p + n, 0, WM_DISCO_ADDR);
		if (a->sa.sa_family == AF_INET) {
			p[n] = 4;
			memcpy(p + n + 1, &a->in.sin_port, 2);
			memcpy(p + n + 3, &a->in.sin_addr, 4);
		} else {
			p[n] = 6;
			memcpy(p + n + 1, &a->in6.sin6_port, 2);
			memcpy(p + n + 3, &a->in6.sin6_addr, 16);
		}
	}
	return n;
}

static void disco_msgs(struct wm_disco_msg m[3])
{
	memset(m, 0, 3 * sizeof(*m));
	m[0].type = WM_DISCO_PING;
	m[1].type = WM_DISCO_PONG;
	m[2].type = WM_DISCO_CALL_ME_MAYBE;
	for (int i = 0; i < 3; i++) {
		m[i].sent_at = DISCO_NOW;
		memcpy(m[i].txid, "txid-seed-01", 12);
	}
	addr(&m[1].observed, "203.0.113.7:41641");
	m[2].n_candidates = 3;
	addr(&m[2].candidates[0], "10.1.2.3:51820");
	addr(&m[2].candidates[1], "203.0.113.7:41641");
	addr(&m[2].candidates[2], "[2001:db8::7]:51820");
}

static void disco(void)
{
	static const char *const names[3] = { "ping", "pong", "call-me-maybe" };
	struct wm_disco_msg m[3];
	uint8_t key[32], sender[32], nonce[24], buf[WM_DISCO_MAX + 32];
	uint8_t head[2 + 24], plain[WM_DISCO_MAX_PAYLOAD];
	char name[64];
	size_t n;

	wm_key_from_hex(key, DISCO_KEY);
	wm_key_from_hex(sender, DISCO_SENDER);
	memset(nonce, 0x4e, sizeof(nonce));
	disco_msgs(m);
	for (int i = 0; i < 3; i++) {
		/* raw mode: byte 0 even, then the sealed datagram */
		n = wm_disco_seal(buf, &m[i], sender, key, nonce);
		snprintf(name, sizeof(name), "raw-%s", names[i]);
		put("disco", name, "\x00", 1, buf, n);
		/* sealed mode: flags 3 (seal, set the clock), skew 0, nonce */
		head[0] = 3;
		head[1] = 0;
		memcpy(head + 2, nonce, 24);
		n = payload(plain, &m[i]);
		snprintf(name, sizeof(name), "sealed-%s", names[i]);
		put("disco", name, head, sizeof(head), plain, n);
	}
}

static void relay_frames(void)
{
	static const char *const names[] = { NULL, "send", "recv", "gone",
					     "ping", "pong" };
	uint8_t key[32], buf[WM_RELAY_FRAME_HDR + 64];
	size_t n;

	memset(key, 0x11, sizeof(key));
	for (int t = WM_RELAY_SEND; t <= WM_RELAY_PONG; t++) {
		const char *body = t == WM_RELAY_GONE ? "" :
				   t >= WM_RELAY_PING ? "12345678" :
							"\x04\0\0\0 opaque wireguard bytes";
		size_t blen = t == WM_RELAY_SEND || t == WM_RELAY_RECV ? 28 :
							strlen(body);
		n = wm_relay_frame_build(buf, (enum wm_relay_frame_type)t,
					 t >= WM_RELAY_PING ? NULL : key,
					 (const uint8_t *)body, blen);
		put("relay_frame", names[t], buf, n, NULL, 0);
	}
}

/* fuzz_receive.c: byte 0 = mode | flags. */
static void receive(void)
{
	/* An IPv4 ICMP echo from 10.0.0.2 (P's AllowedIPs) to 10.0.0.1, and
	 * an IPv6 one from fd00::2. */
	static const char v4[] = "4500001c0000400040010000" "0a0000020a000001"
				 "0800f7ff00000000";
	static const char v6[] = "6000000000083a40"
				 "fd000000000000000000000000000002"
				 "fd000000000000000000000000000001"
				 "8000000000000000";
	static const uint8_t zero_priv[32] = { 1 };
	struct wm_noise_local local, remote;
	struct wm_noise_peer np;
	struct wm_handshake hs;
	struct wm_msg_initiation init;
	struct wm_msg_cookie cookie;
	struct wm_disco_msg m[3];
	uint8_t pkt4[128], pkt6[128], buf[512], eph[32], ts[12], priv[32];
	size_t n4 = unhex(pkt4, v4), n6 = unhex(pkt6, v6), n;
	uint8_t pkt4r[128], pkt6r[128];
	uint8_t txid[12] = { 0 };
	union wm_sockaddr a;

	/* The same packets the other way, as the TUN gives them: to P. */
	memcpy(pkt4r, pkt4, n4);
	memcpy(pkt4r + 12, pkt4 + 16, 4);
	memcpy(pkt4r + 16, pkt4 + 12, 4);
	memcpy(pkt6r, pkt6, n6);
	memcpy(pkt6r + 8, pkt6 + 24, 16);
	memcpy(pkt6r + 24, pkt6 + 8, 16);

	/* Some initiation: it cannot be one to the agent (the agent's keys
	 * are the harness's), but its shape is right. */
	memcpy(priv, zero_priv, 32);
	wm_x25519_clamp(priv);
	wm_noise_local_init(&local, priv);
	priv[0] ^= 0x80;
	wm_x25519_clamp(priv);
	wm_noise_local_init(&remote, priv);
	wm_noise_peer_init(&np, &local, remote.public_key, NULL);
	memset(eph, 0x45, 32);
	wm_x25519_clamp(eph);
	wm_noise_tai64n(ts, DISCO_NOW, 0);
	wm_noise_create_initiation(&init, &hs, &local, &np, 0x01020304, eph, ts);
	put("receive", "raw-initiation", "\x00", 1, &init, sizeof(init));
	put("receive", "macs-initiation", "\x01", 1, &init, sizeof(init));
	memset(buf, 0, sizeof(struct wm_msg_response));
	buf[0] = WM_MSG_RESPONSE;
	memcpy(buf + 8, "\x00\x00\x00\x50", 4); /* receiver: P's first index */
	put("receive", "macs-response", "\x01", 1, buf,
	    sizeof(struct wm_msg_response));
	memset(&cookie, 0, sizeof(cookie));
	cookie.header.type = WM_MSG_COOKIE;
	put("receive", "raw-cookie", "\x00", 1, &cookie, sizeof(cookie));
	memset(buf, 0, 64);
	buf[0] = WM_MSG_DATA;
	put("receive", "raw-data-unknown-index", "\x00", 1, buf, 64);
	put("receive", "raw-relayed-null-src", "\x40", 1, buf, 64);

	put("receive", "data-v4", "\x02\x00", 2, pkt4, n4);
	put("receive", "data-v6-from-ep6", "\x12\x00", 2, pkt6, n6);
	put("receive", "data-v4-via-relay", "\x0a\x00", 2, pkt4, n4);
	put("receive", "data-keepalive", "\x02\x00", 2, NULL, 0);
	put("receive", "data-replay", "\x02\x01\x00", 3, pkt4, n4);
	put("receive", "data-ahead", "\x02\x02\x01\x0c", 4, pkt4, n4);
	put("receive", "data-prev-session", "\x42\x00", 2, pkt4, n4);
	pkt4[15] = 9; /* 10.0.0.9: outside P's AllowedIPs */
	put("receive", "data-bad-source", "\x02\x00", 2, pkt4, n4);
	pkt4[15] = 2;

	disco_msgs(m);
	for (int i = 0; i < 3; i++) {
		static const char *const names[3] = { "disco-ping", "disco-pong",
						      "disco-call-me-maybe" };
		n = payload(buf, &m[i]);
		put("receive", names[i], "\x43", 1, buf, n);
	}
	n = payload(buf, &m[0]);
	put("receive", "disco-ping-via-relay", "\x4b", 1, buf, n);

	n = wm_relay_frame_build(buf, WM_RELAY_PING, NULL,
				 (const uint8_t *)"12345678", 8);
	put("receive", "frame-ping", "\x04", 1, buf, n);
	memset(eph, 0x22, 32);
	n = wm_relay_frame_build(buf, WM_RELAY_GONE, eph, NULL, 0);
	put("receive", "frame-gone", "\x04", 1, buf, n);
	put("receive", "raw-relay-magic-response", "\x20WMR\x01", 5,
	    "\x02\0\0\0", 4);
	put("receive", "tun-v4-to-p", "\x05", 1, pkt4r, n4);
	put("receive", "tun-v6-to-p", "\x05", 1, pkt6r, n6);
	put("receive", "tun-no-route", "\x05", 1, pkt4, n4);
	memset(buf, 0, 64);
	buf[0] = WM_MSG_COOKIE;
	put("receive", "macs-cookie-fixed-index", "\x81", 1, buf, 64);
	memset(buf, 0, sizeof(struct wm_msg_response));
	buf[0] = WM_MSG_RESPONSE;
	put("receive", "macs-response-fixed-index", "\x81", 1, buf,
	    sizeof(struct wm_msg_response));

	addr(&a, "203.0.113.7:41641");
	n = wm_stun_build_response(buf, sizeof(buf), txid, &a);
	put("receive", "stun-response-fix-txid", "\x46", 1, buf, n);
	put("receive", "stun-response-relay-fix-txid", "\x56", 1, buf, n);

	put("receive", "handshake-then-data", "\x07\x00", 2, pkt4, n4);
	put("receive", "handshake-replayed-via-relay", "\x4f\x00", 2, pkt4, n4);
}

/* fuzz_relay_server.c: a setup byte, then "op | len | payload"s. */
static size_t cmd(uint8_t *out, uint8_t op, const void *payload, size_t n)
{
	out[0] = op;
	out[1] = (uint8_t)n;
	if (n)
		memcpy(out + 2, payload, n);
	return 2 + n;
}

static void relay_server(void)
{
	uint8_t in[1024], frame[128], key[32], stun_req[WM_STUN_REQUEST_LEN];
	uint8_t init[WM_RELAY_MAGIC_LEN + sizeof(struct wm_msg_initiation)];
	size_t n, f;

	/* A SEND from A to B: counter choice 0, type, key marker 0xBB. */
	frame[0] = 0; /* fresh counter */
	memset(key, 0, sizeof(key));
	key[0] = 0xBB;
	f = 1 + wm_relay_frame_build(frame + 1, WM_RELAY_SEND, key,
				     (const uint8_t *)"\x04\0\0\0 hello B", 12);

	in[0] = 0;
	put("relay_server", "setup-only", in, 1, NULL, 0);
	n = 1 + cmd(in + 1, 0x02, frame, f);
	put("relay_server", "a-sends-b", in, n, NULL, 0);
	in[0] = 1; /* B over TCP */
	n = 1 + cmd(in + 1, 0x02, frame, f);
	n += cmd(in + n, 0x05, "\x07", 1); /* B's connection closes */
	n += cmd(in + n, 0x02, frame, f);   /* now GONE */
	put("relay_server", "b-tcp-closed", in, n, NULL, 0);
	in[0] = 4; /* MaxClients 1: B gets no slot */
	n = 1 + cmd(in + 1, 0x02, frame, f);
	put("relay_server", "pool-full", in, n, NULL, 0);
	in[0] = 8; /* ClientRate 4000 */
	n = 1;
	for (int i = 0; i < 20; i++)
		n += cmd(in + n, 0x02, frame, f);
	put("relay_server", "rate-limited", in, n, NULL, 0);

	in[0] = 2; /* B over TLS; B pings */
	f = 1 + wm_relay_frame_build(frame + 1, WM_RELAY_PING, NULL,
				     (const uint8_t *)"12345678", 8);
	n = 1 + cmd(in + 1, 0x12, frame, f);
	put("relay_server", "b-tls-ping", in, n, NULL, 0);

	in[0] = 0;
	n = 1 + cmd(in + 1, 0x04, "\x4e\x20", 2); /* 200 s: both idle */
	n += cmd(in + n, 0x02, frame, f);
	put("relay_server", "idle-then-ping", in, n, NULL, 0);
	n = 1 + cmd(in + 1, 0x23, NULL, 0); /* A again, from elsewhere */
	n += cmd(in + n, 0x22, frame, f);   /* previous session */
	n += cmd(in + n, 0x02, frame, f);
	put("relay_server", "a-roams", in, n, NULL, 0);
	n = 1 + cmd(in + 1, 0x53, NULL, 0); /* B again, unconfirmed */
	n += cmd(in + n, 0x07, NULL, 0);    /* C, off the list */
	put("relay_server", "b-unconfirmed-c-stranger", in, n, NULL, 0);

	wm_stun_build_request(stun_req, (const uint8_t *)"relay-stun-1");
	n = 1 + cmd(in + 1, 0x06, stun_req, sizeof(stun_req));
	put("relay_server", "stun", in, n, NULL, 0);

	/* Forwarding frames (relay/fwd.h): A offers them in a PING, B
	 * does not (it gets them sealed); then both do. */
	{
		uint8_t ping[64], send_b[64], send_a[64];
		size_t pn, sb, sa;

		ping[0] = 0;
		pn = 1 + wm_relay_frame_build(ping + 1, WM_RELAY_PING, NULL,
					      (const uint8_t *)"12345678\x02", 9);
		send_b[0] = 0;
		static const char hello[] = "\x04\0\0\0 hello B, forwarded";

		sb = 1 + wm_relay_frame_build(send_b + 1, WM_RELAY_SEND, key,
					      (const uint8_t *)hello,
					      sizeof(hello) - 1);
		memcpy(send_a, send_b, sb);
		send_a[2] = 0xAA;
		sa = sb;
		in[0] = 0;
		n = 1 + cmd(in + 1, 0x02, ping, pn);   /* A offers */
		n += cmd(in + n, 0x42, send_b, sb);    /* A -> B, forwarding */
		n += cmd(in + n, 0x02, send_b, sb);    /* A -> B, sealed */
		n += cmd(in + n, 0x12, ping, pn);      /* B offers */
		n += cmd(in + n, 0x52, send_a, sa);    /* B -> A, forwarding */
		n += cmd(in + n, 0x42, send_b, sb);    /* A -> B, both forward */
		put("relay_server", "forwarding-frames", in, n, NULL, 0);
	}

	memset(init, 0, sizeof(init));
	memcpy(init, WM_RELAY_MAGIC, WM_RELAY_MAGIC_LEN);
	init[WM_RELAY_MAGIC_LEN] = WM_MSG_INITIATION;
	n = 1 + cmd(in + 1, 0x21, init, sizeof(init)); /* mac1 fixed, stranger */
	n += cmd(in + n, 0x00, init, 64);             /* truncated, from A */
	put("relay_server", "raw-initiations", in, n, NULL, 0);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	top = argv[1];
	stun();
	disco();
	relay_frames();
	receive();
	relay_server();
	return 0;
}
