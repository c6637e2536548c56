/* The relay client against the pure relay core, over loopback UDP: the
 * client sends on a real socket, a second socket plays the relay's and
 * feeds what arrives to wm_relay_input, whose answers go back through it.
 * The clock is virtual (base + offsets) except where the client reads it
 * itself to seal. Covers a relay restart ("unknown session"), a forged
 * answer, traffic that goes unanswered, and forwarding frames: offered
 * in the first PING, accepted by the relay, then used for SENDs (also
 * framed into the caller's batch), never before the relay's answer. */
#include "agent/relay/client.h"
#include "agent/relay/fwd.h"
#include "agent/relay/server.h"
#include "agent/relay/proto.h"
#include "agent/wg/cookie.h"
#include "agent/udp.h"
#include "agent/wg/clock.h"
#include "crypto/x25519.h"
#include "tests/unit/check.h"
#include "tests/unit/netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#define NS 1000000000ULL

static int relay_fd = -1;
static union wm_sockaddr relay_addr;
static struct wm_udp cudp = { .fd = -1 };
static struct wm_noise_local me;
static uint8_t relay_priv[32], relay_pub[32], other_pub[32];
static struct wm_relay *relay;
static size_t relay_sent; /* datagrams the relay core sent */
static uint8_t last_sent[256];
static size_t last_sent_len;

static int relay_send(void *ctx, const struct wm_relay_path *to,
		      const uint8_t *buf, size_t len)
{
	(void)ctx;
	relay_sent++;
	if (len <= sizeof(last_sent)) {
		memcpy(last_sent, buf, len);
		last_sent_len = len;
	}
	if (sendto(relay_fd, buf, len, 0, &to->addr.sa,
		   wm_sockaddr_len(&to->addr)) < 0)
		return -errno;
	return 0;
}

static int relay_random(void *ctx, void *buf, size_t len)
{
	static uint8_t x = 1;
	uint8_t *p = buf;

	(void)ctx;
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(x = (uint8_t)(x * 33 + 7));
	return 0;
}

static const struct wm_relay_ops relay_ops = { relay_send, relay_random,
					       NULL, NULL };

static struct wm_relay *relay_start(void)
{
	uint8_t keys[2][32];
	struct wm_relay_params p = {
		.private_key = relay_priv, .allowed = (const uint8_t(*)[32])keys,
		.n_allowed = 2,
	};
	struct wm_relay *r = NULL;

	memcpy(keys[0], me.public_key, 32);
	memcpy(keys[1], other_pub, 32);
	CHECK(wm_relay_new(&r, &p, &relay_ops) == 0);
	return r;
}

/* Everything waiting at the relay's socket goes to the core (or, with
 * deliver false, is lost). Returns how many datagrams. */
static int relay_pump(bool deliver, uint64_t now)
{
	uint8_t buf[2048];
	struct wm_relay_path from;
	socklen_t sl;
	ssize_t n;
	int count = 0;

	for (;;) {
		memset(&from, 0, sizeof(from));
		sl = sizeof(from.addr);
		n = recvfrom(relay_fd, buf, sizeof(buf), MSG_DONTWAIT,
			     &from.addr.sa, &sl);
		if (n < 0)
			return count;
		count++;
		from.transport = WM_RELAY_UDP;
		if (deliver && relay)
			wm_relay_input(relay, &from, buf, (size_t)n, now);
	}
}

/* Everything waiting at the client's socket goes to the client. Returns
 * how many datagrams. */
static int client_pump(struct wm_relay_client *rc, uint64_t now)
{
	uint8_t buf[2048];
	union wm_sockaddr src;
	struct wm_relay_event ev;
	socklen_t sl;
	ssize_t n;
	int count = 0;

	for (;;) {
		sl = sizeof(src);
		n = recvfrom(cudp.fd, buf, sizeof(buf), MSG_DONTWAIT, &src.sa,
			     &sl);
		if (n < 0)
			return count;
		count++;
		wm_udp_unmap(&src);
		wm_relay_client_receive_udp(rc, buf, (size_t)n, &src, now, &ev);
	}
}

/* Datagrams both ways until quiet. */
static void exchange(struct wm_relay_client *rc, uint64_t now)
{
	for (int i = 0; i < 8; i++)
		if (relay_pump(true, now) + client_pump(rc, now) == 0)
			break;
}

static bool setup(struct wm_relay_client *rc)
{
	uint8_t priv[32];
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	char text[64];
	uint16_t port;
	struct wm_relay_client_setup su = { 0 };

	memset(priv, 0x51, 32);
	wm_noise_local_init(&me, priv);
	memset(relay_priv, 0x52, 32);
	wm_x25519_clamp(relay_priv);
	wm_x25519_public(relay_pub, relay_priv);
	memset(other_pub, 0x53, 32);

	relay_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (relay_fd < 0 || bind(relay_fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(relay_fd, (struct sockaddr *)&sin, &sl))
		return false;
	memset(&relay_addr, 0, sizeof(relay_addr));
	memcpy(&relay_addr.in, &sin, sizeof(sin));
	cudp.fd = wm_udp_open(0, 0, &cudp.family, &port);
	if (cudp.fd < 0)
		return false;
	snprintf(text, sizeof(text), "127.0.0.1:%u", ntohs(sin.sin_port));
	su.name = "test";
	su.udp = text;
	su.tcp = "";
	su.public_key = relay_pub;
	su.local = &me;
	su.udp_socket = &cudp;
	return wm_relay_client_init(rc, &su) == 0;
}

static uint8_t body[32];

TEST(restart_unknown_session_rehandshake)
{
	struct wm_relay_client rc;
	uint64_t t = wm_now_ns();
	uint32_t old_local;
	unsigned changes;

	CHECK(setup(&rc));
	relay = relay_start();
	/* up over UDP */
	wm_relay_client_tick(&rc, t);
	exchange(&rc, t);
	CHECK(wm_relay_client_up(&rc) && rc.transport == WM_RC_UDP);
	changes = rc.changes;
	CHECK(changes == 1);
	old_local = rc.session.kp.local_index;

	/* the relay restarts: it forgets every session */
	wm_relay_free(relay);
	relay = relay_start();
	relay_sent = 0;
	t += NS / 10;
	CHECK(wm_relay_client_send(&rc, other_pub, body, sizeof(body)) == 0);
	relay_pump(true, t);
	CHECK(relay_sent == 1 && last_sent_len == WM_RELAY_UNKNOWN_SESSION_LEN);
	/* the answer: an initiation at once, the session kept meanwhile */
	client_pump(&rc, t);
	CHECK(rc.stats.unknown_session == 1);
	CHECK(wm_relay_client_up(&rc) && rc.session.kp.local_index == old_local);
	exchange(&rc, t);
	CHECK(wm_relay_client_up(&rc));
	CHECK(rc.session.kp.local_index != old_local);
	CHECK(rc.changes == changes); /* never went down */
	CHECK(rc.stats.connects == 2);
	/* frames flow on the new session */
	relay_sent = 0;
	CHECK(wm_relay_client_send(&rc, other_pub, body, sizeof(body)) == 0);
	relay_pump(true, t);
	CHECK(relay_sent == 1 && last_sent_len > WM_RELAY_UNKNOWN_SESSION_LEN);
	client_pump(&rc, t);

	wm_relay_client_free(&rc);
	wm_relay_free(relay);
	relay = NULL;
	close(relay_fd);
	close(cudp.fd);
}

/* A forged answer: at most one handshake a second, the session stays;
 * one naming another index, or from another address, does nothing. */
TEST(forged_unknown_session)
{
	struct wm_relay_client rc;
	uint64_t t = wm_now_ns();
	uint8_t ans[WM_RELAY_UNKNOWN_SESSION_LEN], idx[4];
	union wm_sockaddr elsewhere = relay_addr;
	struct wm_relay_event ev;
	uint32_t local, remote;
	unsigned changes;

	CHECK(setup(&rc));
	relay = relay_start();
	wm_relay_client_tick(&rc, t);
	exchange(&rc, t);
	CHECK(wm_relay_client_up(&rc));
	local = rc.session.kp.local_index;
	remote = rc.session.kp.remote_index;
	changes = rc.changes;

	/* many forged answers in one second: one initiation */
	idx[0] = (uint8_t)remote;
	idx[1] = (uint8_t)(remote >> 8);
	idx[2] = (uint8_t)(remote >> 16);
	idx[3] = (uint8_t)(remote >> 24);
	for (int i = 0; i < 20; i++) {
		wm_relay_unknown_session_build(ans, idx);
		CHECK(!wm_relay_client_receive_udp(&rc, ans, sizeof(ans),
						   &relay_addr,
						   t + (uint64_t)i * NS / 40,
						   &ev));
	}
	CHECK(relay_pump(false, t) == 1);
	CHECK(rc.stats.unknown_session == 20);
	CHECK(wm_relay_client_up(&rc) && rc.session.kp.local_index == local);
	CHECK(rc.changes == changes);
	/* a second later, another */
	wm_relay_unknown_session_build(ans, idx);
	wm_relay_client_receive_udp(&rc, ans, sizeof(ans), &relay_addr,
				    t + NS + NS / 10, &ev);
	CHECK(relay_pump(false, t) == 1);
	/* another index, or another source: nothing */
	idx[0] ^= 1;
	wm_relay_unknown_session_build(ans, idx);
	wm_relay_client_receive_udp(&rc, ans, sizeof(ans), &relay_addr,
				    t + 5 * NS, &ev);
	idx[0] ^= 1;
	wm_relay_unknown_session_build(ans, idx);
	elsewhere.in.sin_port = htons((uint16_t)(ntohs(elsewhere.in.sin_port) + 1));
	wm_relay_client_receive_udp(&rc, ans, sizeof(ans), &elsewhere,
				    t + 5 * NS, &ev);
	CHECK(relay_pump(false, t) == 0);
	CHECK(rc.stats.unknown_session == 21);
	CHECK(wm_relay_client_up(&rc) && rc.session.kp.local_index == local);

	wm_relay_client_free(&rc);
	wm_relay_free(relay);
	relay = NULL;
	close(relay_fd);
	close(cudp.fd);
}

/* Frames go out and nothing comes back: a PING after WM_RELAY_QUIET_S,
 * handshakes from WM_RELAY_PROBE_WAIT_S on, down WM_RELAY_UDP_WAIT_S after
 * that; an answered probe changes nothing. Idle, nothing early. */
TEST(unanswered_traffic_probed)
{
	struct wm_relay_client rc;
	uint64_t t = wm_now_ns();
	unsigned changes;

	CHECK(setup(&rc));
	relay = relay_start();
	wm_relay_client_tick(&rc, t);
	exchange(&rc, t);
	CHECK(wm_relay_client_up(&rc));
	changes = rc.changes;

	/* idle for 4 s: no probe */
	wm_relay_client_tick(&rc, t + 4 * NS);
	CHECK(rc.stats.probes == 0);
	exchange(&rc, t + 4 * NS);

	/* a frame, answered probe: still up (the client stamps a frame's
	 * time with its own clock; the test moves it onto the virtual one) */
	t = t + 5 * NS;
	CHECK(wm_relay_client_send(&rc, other_pub, body, sizeof(body)) == 0);
	rc.last_tx = rc.unanswered_since = t;
	relay_pump(false, t); /* lost, as is GONE */
	wm_relay_client_tick(&rc, t + NS);
	CHECK(rc.stats.probes == 0);
	wm_relay_client_tick(&rc, t + 2 * NS + 1);
	CHECK(rc.stats.probes == 1);
	exchange(&rc, t + 2 * NS + 2); /* PING, PONG */
	wm_relay_client_tick(&rc, t + 3 * NS + 2);
	CHECK(relay_pump(false, t) == 0); /* no handshake */
	CHECK(rc.stats.probes == 1 && rc.probe_at == 0);
	CHECK(rc.changes == changes);

	/* the relay dies; frames go on */
	t = t + 4 * NS;
	CHECK(wm_relay_client_send(&rc, other_pub, body, sizeof(body)) == 0);
	rc.last_tx = rc.unanswered_since = t;
	relay_pump(false, t);
	wm_relay_client_tick(&rc, t + NS);
	CHECK(rc.stats.probes == 1);
	wm_relay_client_tick(&rc, t + 2 * NS + 1);
	CHECK(rc.stats.probes == 2);
	CHECK(relay_pump(false, t) == 1); /* the PING */
	wm_relay_client_tick(&rc, rc.probe_at + NS + 1);
	CHECK(relay_pump(false, t) == 1); /* an initiation */
	CHECK(wm_relay_client_up(&rc));
	wm_relay_client_tick(&rc, rc.probe_at + NS + NS / 2);
	CHECK(relay_pump(false, t) == 0); /* not twice in a second */
	wm_relay_client_tick(&rc, rc.probe_at + 2 * NS + 1);
	CHECK(relay_pump(false, t) == 1); /* another, a second later */
	wm_relay_client_tick(&rc, rc.probe_at + 4 * NS + 1);
	CHECK(!wm_relay_client_up(&rc));
	CHECK(rc.changes == changes + 1);

	wm_relay_client_free(&rc);
	wm_relay_free(relay);
	relay = NULL;
	close(relay_fd);
	close(cudp.fd);
}

/* The next datagram at the relay's socket (not delivered). */
static ssize_t relay_take(uint8_t *buf, size_t cap)
{
	return recv(relay_fd, buf, cap, MSG_DONTWAIT);
}

TEST(forwarding_frames_negotiated)
{
	struct wm_relay_client rc;
	uint64_t t = wm_now_ns();
	uint8_t got[2048], dgram[WM_RELAY_FWD_MAX];
	ssize_t n;
	size_t m;

	CHECK(setup(&rc));
	relay = relay_start();
	CHECK(!wm_relay_client_batchable(&rc));
	CHECK(wm_relay_client_wrap(&rc, dgram, other_pub, 32, t) == 0);
	/* The handshake, then the first PING with the offer: until the
	 * PONG accepts it, SENDs are sealed. */
	wm_relay_client_tick(&rc, t);
	relay_pump(true, t);
	client_pump(&rc, t); /* the response; our PING goes out */
	CHECK(wm_relay_client_up(&rc) && !rc.relay_fwd);
	CHECK(wm_relay_client_send(&rc, other_pub, body, sizeof(body)) == 0);
	n = relay_take(got, sizeof(got)); /* the PING */
	CHECK(n > 4 && memcmp(got, "WMR\x01", 4) == 0);
	n = relay_take(got, sizeof(got)); /* the SEND */
	CHECK(n == (ssize_t)(WM_RELAY_OVERHEAD + sizeof(body)) &&
	      memcmp(got, "WMR\x01", 4) == 0);
	/* the next PING, this time to the relay: its PONG accepts */
	wm_relay_client_tick(&rc, t + 6 * NS);
	relay_pump(true, t + 6 * NS);
	client_pump(&rc, t + 6 * NS);
	CHECK(rc.relay_fwd);
	/* SENDs are forwarding frames now, the same length as before */
	CHECK(wm_relay_client_send(&rc, other_pub, body, sizeof(body)) == 0);
	n = relay_take(got, sizeof(got));
	CHECK(n == (ssize_t)(WM_RELAY_OVERHEAD + sizeof(body)) &&
	      memcmp(got, "WMR\x02", 4) == 0 && got[20] == WM_RELAY_SEND &&
	      memcmp(got + 21, other_pub, 32) == 0 &&
	      memcmp(got + WM_RELAY_FWD_BODY, body, sizeof(body)) == 0);
	/* framed in the caller's buffer: the same, for its batch */
	CHECK(wm_relay_client_batchable(&rc));
	memcpy(dgram + WM_RELAY_FWD_BODY, body, sizeof(body));
	m = wm_relay_client_wrap(&rc, dgram, other_pub, sizeof(body), t + 6 * NS);
	CHECK(m == WM_RELAY_OVERHEAD + sizeof(body) &&
	      memcmp(dgram, "WMR\x02", 4) == 0 &&
	      memcmp(dgram + 12, got + 12, 8) != 0); /* the next counter */
	CHECK(wm_sockaddr_equal(wm_relay_client_addr(&rc), &relay_addr));
	/* the relay takes it: the destination is offline, so GONE back */
	relay_sent = 0;
	CHECK(wm_udp_send(&cudp, &relay_addr, dgram, m) == 0);
	CHECK(relay_pump(true, t + 6 * NS) == 1);
	CHECK(relay_sent == 1);

	wm_relay_client_free(&rc);
	wm_relay_free(relay);
	relay = NULL;
	close(relay_fd);
	close(cudp.fd);
}

/* A relay under load answers a client's first initiation with a cookie:
 * the client sends again at once, with mac2, and is up within that same
 * exchange rather than a second (or a UDP wait) later. */
TEST(cookie_then_up_at_once)
{
	struct wm_relay_client rc;
	struct wm_relay_path flooder = { .transport = WM_RELAY_UDP };
	struct wm_cookie_maker m;
	struct wm_relay_counters k;
	uint64_t t = wm_now_ns();
	uint8_t buf[4 + sizeof(struct wm_msg_initiation)];

	CHECK(setup(&rc));
	relay = relay_start();
	/* 300 initiations with a valid mac1 from elsewhere: under load */
	CHECK(wm_sockaddr_parse(&flooder.addr, "192.0.2.9:1000"));
	wm_cookie_maker_init(&m, relay_pub);
	for (int i = 0; i < 300; i++) {
		memcpy(buf, WM_RELAY_MAGIC, 4);
		memset(buf + 4, i + 1, sizeof(buf) - 4);
		memset(buf + 4, 0, 4);
		buf[4] = WM_MSG_INITIATION;
		wm_cookie_add_macs(&m, buf + 4, sizeof(buf) - 4, t);
		wm_relay_input(relay, &flooder, buf, sizeof(buf), t);
	}
	wm_relay_get_counters(relay, &k);
	CHECK(k.cookie_replies == 300 - 256);
	wm_relay_client_tick(&rc, t);
	exchange(&rc, t);
	wm_relay_get_counters(relay, &k);
	CHECK(k.cookie_replies == 300 - 256 + 1);
	CHECK(wm_relay_client_up(&rc) && rc.transport == WM_RC_UDP);
	CHECK(k.handshakes == 1);

	wm_relay_client_free(&rc);
	wm_relay_free(relay);
	relay = NULL;
	close(relay_fd);
	close(cudp.fd);
}

/* Logs and the API name a TCP-only relay by its RelayTCP. */
TEST(named_by_tcp_when_no_udp)
{
	static struct wm_relay_client rc;

	snprintf(rc.tcp_text, sizeof(rc.tcp_text), "relay.example:443");
	CHECK(strcmp(wm_relay_client_text(&rc), "relay.example:443") == 0);
	snprintf(rc.udp_text, sizeof(rc.udp_text), "relay.example:3478");
	CHECK(strcmp(wm_relay_client_text(&rc), "relay.example:3478") == 0);
}

int main(void)
{
	if (!test_own_netns()) {
		fprintf(stderr, "cannot make a network namespace: %s\n",
			strerror(errno));
		printf("0 passed, 1 failed\n");
		return 1;
	}
	RUN(restart_unknown_session_rehandshake);
	RUN(forged_unknown_session);
	RUN(unanswered_traffic_probed);
	RUN(forwarding_frames_negotiated);
	RUN(cookie_then_up_at_once);
	RUN(named_by_tcp_when_no_udp);
	return check_summary();
}
