/*
 * The STUN client (agent/nat/stun_client.h) on a virtual clock: one
 * request per server with its own transaction id, retries backing off
 * 1, 2, 4 .. WM_STUN_BACKOFF_MAX_S, answers taken only with the right
 * txid from the right address and only once, refreshes every
 * WM_STUN_REFRESH_S, and the NAT mapping classification with answers
 * going stale; a second port learnt from OTHER-ADDRESS follows its
 * server's name to a new IP. Answers are built by stun.c's wm_stun_build_response (its
 * bytes are checked against RFC 5769 in test_stun). Servers are numeric
 * addresses only: nothing here reaches DNS.
 */
#include "check.h"
#include "agent/nat/stun_client.h"
#include "agent/wg/messages.h"

#define S(x) ((uint64_t)(x) * WM_NSEC_PER_SEC)
#define MS(x) ((uint64_t)(x) * 1000000ULL)

static const uint64_t t0 = S(1000);
static const char *const srv1 = "198.51.100.7:3478";
static const char *const srv2 = "203.0.113.9:3478";
static const char *const srv1_port2 = "198.51.100.7:3479";
static const char *const srv_v6 = "[2001:db8::7]:3478";

static uint64_t rnd_counter;
static int rnd(void *buf, size_t len)
{
	uint64_t c = ++rnd_counter;

	memset(buf, 0xa5, len);
	memcpy(buf, &c, len < sizeof(c) ? len : sizeof(c));
	return 0;
}

static int rnd_fail(void *buf, size_t len)
{
	(void)buf;
	(void)len;
	return -5; /* -EIO */
}

static union wm_sockaddr A(const char *text)
{
	union wm_sockaddr a;

	if (!wm_sockaddr_parse(&a, text)) {
		fprintf(stderr, "bad address in test data: %s\n", text);
		abort();
	}
	return a;
}

static size_t tick(struct wm_stun_client *sc, uint64_t now,
		   struct wm_stun_request *out, size_t cap)
{
	return wm_stun_client_tick(sc, now, rnd, out, cap);
}

/* The server at `from` answers txid, reporting `mapped`. */
static void answer(struct wm_stun_client *sc, const uint8_t *txid,
		   const char *from, const char *mapped, uint64_t now)
{
	uint8_t buf[WM_STUN_RESPONSE_MAX];
	union wm_sockaddr m = A(mapped), src = A(from);
	size_t n = wm_stun_build_response(buf, sizeof(buf), txid, &m);

	CHECK(n > 0);
	wm_stun_client_receive(sc, buf, n, &src, now);
}

static size_t reflexive(const struct wm_stun_client *sc, union wm_sockaddr *out,
			uint64_t now)
{
	return wm_stun_client_reflexive(sc, out, WM_STUN_MAX_SERVERS, now);
}

TEST(first_tick_one_request_per_server)
{
	struct wm_stun_client sc;
	struct wm_stun_request req[WM_STUN_MAX_SERVERS];
	struct wm_stun_msg m0, m1;
	union wm_sockaddr a1 = A(srv1), a2 = A(srv2);

	wm_stun_client_init(&sc);
	CHECK(wm_stun_client_add(&sc, srv1));
	CHECK(wm_stun_client_add(&sc, srv2));
	CHECK(tick(&sc, t0, req, WM_STUN_MAX_SERVERS) == 2);
	CHECK(wm_sockaddr_equal(&req[0].to, &a1));
	CHECK(wm_sockaddr_equal(&req[1].to, &a2));
	CHECK(wm_stun_parse(&m0, req[0].msg, sizeof(req[0].msg)));
	CHECK(wm_stun_parse(&m1, req[1].msg, sizeof(req[1].msg)));
	CHECK(m0.type == WM_STUN_BINDING_REQUEST && m1.type == WM_STUN_BINDING_REQUEST);
	CHECK(m0.has_fingerprint && m1.has_fingerprint);
	CHECK(memcmp(m0.txid, m1.txid, WM_STUN_TXID_LEN) != 0);
	CHECK_MEM(m0.txid, sc.servers[0].txid, WM_STUN_TXID_LEN);
	CHECK_MEM(m1.txid, sc.servers[1].txid, WM_STUN_TXID_LEN);
	/* nothing more is due at once */
	CHECK(tick(&sc, t0, req, WM_STUN_MAX_SERVERS) == 0);
	CHECK(tick(&sc, t0 + S(1) - 1, req, WM_STUN_MAX_SERVERS) == 0);
}

TEST(tick_respects_cap)
{
	struct wm_stun_client sc;
	struct wm_stun_request req[1];
	union wm_sockaddr a2 = A(srv2);

	wm_stun_client_init(&sc);
	CHECK(wm_stun_client_add(&sc, srv1));
	CHECK(wm_stun_client_add(&sc, srv2));
	CHECK(tick(&sc, t0, req, 1) == 1);
	/* the second is still due */
	CHECK(tick(&sc, t0 + 1, req, 1) == 1);
	CHECK(wm_sockaddr_equal(&req[0].to, &a2));
}

TEST(add_refuses_when_full_or_too_long)
{
	struct wm_stun_client sc;
	char longtext[WM_STUN_SERVER_TEXT + 1];

	wm_stun_client_init(&sc);
	memset(longtext, '1', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = 0;
	CHECK(!wm_stun_client_add(&sc, longtext));
	longtext[WM_STUN_SERVER_TEXT - 1] = 0;
	CHECK(wm_stun_client_add(&sc, longtext)); /* 255 characters fit */
	for (unsigned i = 1; i < WM_STUN_MAX_SERVERS; i++)
		CHECK(wm_stun_client_add(&sc, srv1));
	CHECK(!wm_stun_client_add(&sc, srv2));
	CHECK(sc.n == WM_STUN_MAX_SERVERS);
}

/* Send times of one unanswered server, ticking every 100 ms. */
TEST(retries_back_off_to_max)
{
	static const unsigned want[] = { 1, 2, 4, 8, 16, 30, 30, 30 };
	enum { N = sizeof(want) / sizeof(want[0]) };
	struct wm_stun_client sc;
	struct wm_stun_request req[1];
	uint8_t prev[WM_STUN_TXID_LEN];
	uint64_t at[N + 1];
	size_t n = 0;

	CHECK(want[N - 1] == WM_STUN_BACKOFF_MAX_S);
	wm_stun_client_init(&sc);
	CHECK(wm_stun_client_add(&sc, srv1));
	for (uint64_t t = t0; n <= N && t < t0 + S(300); t += MS(100)) {
		if (!tick(&sc, t, req, 1))
			continue;
		if (n)
			CHECK(memcmp(prev, sc.servers[0].txid, sizeof(prev)) != 0);
		memcpy(prev, sc.servers[0].txid, sizeof(prev));
		at[n++] = t;
	}
	CHECK(n == N + 1);
	for (size_t i = 0; i + 1 < n; i++)
		if (at[i + 1] - at[i] != S(want[i])) {
			fprintf(stderr, "gap %zu: %llu ns, want %u s\n", i,
				(unsigned long long)(at[i + 1] - at[i]), want[i]);
			CHECK(at[i + 1] - at[i] == S(want[i]));
		}
	CHECK(sc.rx == 0 && sc.generation == 0);
}

TEST(failing_random_sends_nothing_and_retries)
{
	struct wm_stun_client sc;
	struct wm_stun_request req[1];

	wm_stun_client_init(&sc);
	CHECK(wm_stun_client_add(&sc, srv1));
	CHECK(wm_stun_client_tick(&sc, t0, rnd_fail, req, 1) == 0);
	CHECK(sc.servers[0].sent_ns == 0);
	CHECK(tick(&sc, t0 + S(1) - 1, req, 1) == 0);
	CHECK(tick(&sc, t0 + S(1), req, 1) == 1);
}

TEST(answer_taken_then_refresh)
{
	struct wm_stun_client sc;
	struct wm_stun_request req[1];
	union wm_sockaddr got[WM_STUN_MAX_SERVERS], mapped = A("192.0.2.77:40000");
	uint64_t ta = t0 + MS(30);

	wm_stun_client_init(&sc);
	CHECK(wm_stun_client_add(&sc, srv1));
	CHECK(tick(&sc, t0, req, 1) == 1);
	CHECK(reflexive(&sc, got, t0) == 0);
	answer(&sc, sc.servers[0].txid, srv1, "192.0.2.77:40000", ta);
	CHECK(sc.rx == 1 && sc.rx_bad == 0);
	CHECK(sc.generation == 1);
	CHECK(reflexive(&sc, got, ta) == 1);
	CHECK(wm_sockaddr_equal(&got[0], &mapped));
	/* the retry due at t0 + 1 s is off: next is the refresh */
	CHECK(tick(&sc, t0 + S(1), req, 1) == 0);
	CHECK(tick(&sc, ta + S(WM_STUN_REFRESH_S) - 1, req, 1) == 0);
	CHECK(tick(&sc, ta + S(WM_STUN_REFRESH_S), req, 1) == 1);
	/* the same mapping again: nothing changed */
	answer(&sc, sc.servers[0].txid, srv1, "192.0.2.77:40000",
	       ta + S(WM_STUN_REFRESH_S) + MS(30));
	CHECK(sc.rx == 2 && sc.generation == 1);
	/* an unanswered refresh retries from 1 s again */
	{
		uint64_t t2 = ta + S(2 * WM_STUN_REFRESH_S) + MS(30);
		CHECK(tick(&sc, t2, req, 1) == 1);
		CHECK(tick(&sc, t2 + S(1) - 1, req, 1) == 0);
		CHECK(tick(&sc, t2 + S(1), req, 1) == 1);
	}
	/* a new mapping bumps the generation */
	answer(&sc, sc.servers[0].txid, srv1, "192.0.2.77:40001",
	       ta + S(2 * WM_STUN_REFRESH_S) + S(2));
	CHECK(sc.rx == 3 && sc.generation == 2);
}

TEST(wrong_txid_or_source_refused)
{
	struct wm_stun_client sc;
	struct wm_stun_request req[1];
	union wm_sockaddr got[WM_STUN_MAX_SERVERS];
	uint8_t wrong[WM_STUN_TXID_LEN];
	static const char *const impostors[] = {
		"198.51.100.8:3478", /* another IP */
		"198.51.100.7:3479", /* another port */
		"[2001:db8::7]:3478",
	};

	wm_stun_client_init(&sc);
	CHECK(wm_stun_client_add(&sc, srv1));
	CHECK(tick(&sc, t0, req, 1) == 1);
	memcpy(wrong, sc.servers[0].txid, sizeof(wrong));
	wrong[WM_STUN_TXID_LEN - 1] ^= 1;
	answer(&sc, wrong, srv1, "192.0.2.66:1", t0 + MS(10));
	CHECK(sc.rx == 0 && sc.rx_bad == 1);
	for (size_t i = 0; i < sizeof(impostors) / sizeof(impostors[0]); i++) {
		answer(&sc, sc.servers[0].txid, impostors[i], "192.0.2.66:1",
		       t0 + MS(10));
		CHECK(sc.rx == 0 && sc.rx_bad == 2 + i);
	}
	CHECK(sc.generation == 0);
	CHECK(reflexive(&sc, got, t0 + MS(10)) == 0);
	CHECK(wm_stun_client_mapping(&sc, t0 + MS(10)) == WM_NAT_UNKNOWN);
	/* the retry is still due: nothing was taken */
	CHECK(tick(&sc, t0 + S(1), req, 1) == 1);
	/* garbage from the server is bad too */
	{
		union wm_sockaddr src = A(srv1);
		static const uint8_t junk[] = { 1, 2, 3 };
		wm_stun_client_receive(&sc, junk, sizeof(junk), &src, t0 + S(1));
		CHECK(sc.rx_bad == 5 && sc.rx == 0);
	}
	/* and the genuine answer is still taken */
	answer(&sc, sc.servers[0].txid, srv1, "192.0.2.77:40000", t0 + S(1) + MS(10));
	CHECK(sc.rx == 1 && sc.generation == 1);
}

/* After an answer is taken the request is no longer outstanding: neither
 * a second copy nor a spoof with the all-zero txid left behind counts. */
TEST(answered_request_not_outstanding)
{
	static const uint8_t zero[WM_STUN_TXID_LEN];
	struct wm_stun_client sc;
	struct wm_stun_request req[1];
	union wm_sockaddr got[WM_STUN_MAX_SERVERS], mapped = A("192.0.2.77:40000");
	uint8_t txid[WM_STUN_TXID_LEN];

	wm_stun_client_init(&sc);
	CHECK(wm_stun_client_add(&sc, srv1));
	CHECK(tick(&sc, t0, req, 1) == 1);
	memcpy(txid, sc.servers[0].txid, sizeof(txid));
	answer(&sc, txid, srv1, "192.0.2.77:40000", t0 + MS(10));
	CHECK(sc.rx == 1 && sc.generation == 1);
	CHECK(sc.servers[0].sent_ns == 0);

	answer(&sc, txid, srv1, "192.0.2.77:40000", t0 + MS(20));
	CHECK(sc.rx == 1 && sc.rx_bad == 1);
	answer(&sc, zero, srv1, "192.0.2.99:6666", t0 + MS(30));
	CHECK(sc.rx == 1 && sc.rx_bad == 2);
	CHECK(sc.generation == 1);
	CHECK(reflexive(&sc, got, t0 + MS(30)) == 1);
	CHECK(wm_sockaddr_equal(&got[0], &mapped));
	/* the refresh is not moved either */
	CHECK(tick(&sc, t0 + MS(10) + S(WM_STUN_REFRESH_S), req, 1) == 1);
}

/* A zero txid from the random source is never accepted as an answer. */
static int rnd_zero(void *buf, size_t len)
{
	memset(buf, 0, len);
	return 0;
}

TEST(all_zero_txid_never_answers)
{
	static const uint8_t zero[WM_STUN_TXID_LEN];
	struct wm_stun_client sc;
	struct wm_stun_request req[1];

	wm_stun_client_init(&sc);
	CHECK(wm_stun_client_add(&sc, srv1));
	/* before any request */
	answer(&sc, zero, srv1, "192.0.2.99:6666", t0);
	CHECK(sc.rx == 0 && sc.rx_bad == 1);
	CHECK(wm_stun_client_tick(&sc, t0, rnd_zero, req, 1) == 1);
	answer(&sc, zero, srv1, "192.0.2.99:6666", t0 + MS(10));
	CHECK(sc.rx == 0 && sc.rx_bad == 2 && sc.generation == 0);
}

/* Two servers answer at t; what do they say of the NAT? */
static enum wm_nat_mapping classify(const char *s1, const char *m1,
				    const char *s2, const char *m2,
				    uint64_t t, uint64_t asked_at)
{
	struct wm_stun_client sc;
	struct wm_stun_request req[2];
	size_t n;

	wm_stun_client_init(&sc);
	CHECK(wm_stun_client_add(&sc, s1));
	if (s2)
		CHECK(wm_stun_client_add(&sc, s2));
	n = tick(&sc, t, req, 2);
	CHECK(n == sc.n);
	answer(&sc, sc.servers[0].txid, s1, m1, t + MS(10));
	if (s2)
		answer(&sc, sc.servers[1].txid, s2, m2, t + MS(20));
	CHECK(sc.rx == sc.n);
	return wm_stun_client_mapping(&sc, asked_at);
}

TEST(mapping_classification)
{
	static const struct {
		const char *s1, *m1, *s2, *m2;
		enum wm_nat_mapping want;
	} rows[] = {
		{ srv1, "192.0.2.1:4000", srv2, "192.0.2.1:4000", WM_NAT_ENDPOINT_INDEPENDENT },
		{ srv1, "192.0.2.1:4000", srv2, "192.0.2.1:4001", WM_NAT_ENDPOINT_DEPENDENT },
		{ srv1, "192.0.2.1:4000", srv2, "192.0.2.2:4000", WM_NAT_ENDPOINT_DEPENDENT },
		{ srv1, "192.0.2.1:4000", NULL, NULL, WM_NAT_UNKNOWN },
		/* same server IP, another port: a port-dependent mapping shows */
		{ srv1, "192.0.2.1:4000", srv1_port2, "192.0.2.1:4001", WM_NAT_ENDPOINT_DEPENDENT },
		{ srv1, "192.0.2.1:4000", srv1_port2, "192.0.2.1:4000", WM_NAT_ENDPOINT_INDEPENDENT },
		/* the same server twice: one destination */
		{ srv1, "192.0.2.1:4000", srv1, "192.0.2.1:4001", WM_NAT_UNKNOWN },
		/* one v4 and one v6 mapping: not comparable */
		{ srv1, "192.0.2.1:4000", srv_v6, "[2001:db8::99]:4000", WM_NAT_UNKNOWN },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum wm_nat_mapping got = classify(rows[i].s1, rows[i].m1,
						   rows[i].s2, rows[i].m2, t0,
						   t0 + S(1));
		if (got != rows[i].want) {
			fprintf(stderr, "row %zu: %s, want %s\n", i,
				wm_nat_mapping_name(got),
				wm_nat_mapping_name(rows[i].want));
			CHECK(got == rows[i].want);
		}
	}
	CHECK(strcmp(wm_nat_mapping_name(WM_NAT_UNKNOWN), "unknown") == 0);
	CHECK(strcmp(wm_nat_mapping_name(WM_NAT_ENDPOINT_INDEPENDENT),
		     "endpoint-independent") == 0);
	CHECK(strcmp(wm_nat_mapping_name(WM_NAT_ENDPOINT_DEPENDENT),
		     "endpoint-dependent") == 0);
}

TEST(stale_answers_forgotten)
{
	uint64_t stale = S(3 * WM_STUN_REFRESH_S);
	/* both answered by t0 + 20 ms */
	uint64_t last = t0 + MS(20), first = t0 + MS(10);
	struct wm_stun_client sc;
	struct wm_stun_request req[2];
	union wm_sockaddr got[WM_STUN_MAX_SERVERS];

	CHECK(classify(srv1, "192.0.2.1:4000", srv2, "192.0.2.1:4000", t0,
		       first + stale - 1) == WM_NAT_ENDPOINT_INDEPENDENT);
	CHECK(classify(srv1, "192.0.2.1:4000", srv2, "192.0.2.1:4000", t0,
		       first + stale) == WM_NAT_UNKNOWN);
	CHECK(classify(srv1, "192.0.2.1:4000", srv2, "192.0.2.1:4001", t0,
		       last + stale) == WM_NAT_UNKNOWN);

	wm_stun_client_init(&sc);
	CHECK(wm_stun_client_add(&sc, srv1));
	CHECK(wm_stun_client_add(&sc, srv2));
	CHECK(tick(&sc, t0, req, 2) == 2);
	answer(&sc, sc.servers[0].txid, srv1, "192.0.2.1:4000", first);
	answer(&sc, sc.servers[1].txid, srv2, "192.0.2.1:4001", last);
	CHECK(reflexive(&sc, got, last) == 2);
	CHECK(reflexive(&sc, got, first + stale) == 1);
	CHECK(reflexive(&sc, got, last + stale) == 0);
	/* a stale answer with the same mapping still bumps the generation:
	 * it comes back into the set */
	{
		unsigned g = sc.generation;
		uint64_t t = last + stale;
		CHECK(tick(&sc, t, req, 2) == 2);
		answer(&sc, sc.servers[0].txid, srv1, "192.0.2.1:4000", t + MS(5));
		CHECK(sc.generation == g + 1);
		CHECK(reflexive(&sc, got, t + MS(5)) == 1);
	}
}

TEST(reflexive_lists_distinct)
{
	struct wm_stun_client sc;
	struct wm_stun_request req[3];
	union wm_sockaddr got[WM_STUN_MAX_SERVERS];

	wm_stun_client_init(&sc);
	CHECK(wm_stun_client_add(&sc, srv1));
	CHECK(wm_stun_client_add(&sc, srv2));
	CHECK(wm_stun_client_add(&sc, srv1_port2));
	CHECK(tick(&sc, t0, req, 3) == 3);
	answer(&sc, sc.servers[0].txid, srv1, "192.0.2.1:4000", t0 + MS(1));
	answer(&sc, sc.servers[1].txid, srv2, "192.0.2.1:4000", t0 + MS(2));
	answer(&sc, sc.servers[2].txid, srv1_port2, "[2001:db8::5]:4000", t0 + MS(3));
	CHECK(reflexive(&sc, got, t0 + MS(3)) == 2);
	CHECK(wm_stun_client_reflexive(&sc, got, 1, t0 + MS(3)) == 1);
}

/* The server at `from` answers txid with mapped and OTHER-ADDRESS other. */
static void answer_other(struct wm_stun_client *sc, const uint8_t *txid,
			 const char *from, const char *mapped,
			 const char *other, uint64_t now)
{
	uint8_t buf[WM_STUN_ANSWER_MAX];
	union wm_sockaddr m = A(mapped), src = A(from), o = A(other);
	struct wm_stun_msg req = { .type = WM_STUN_BINDING_REQUEST,
				   .id_head = { 0x21, 0x12, 0xa4, 0x42 } };
	size_t n;

	memcpy(req.txid, txid, WM_STUN_TXID_LEN);
	n = wm_stun_build_answer(buf, sizeof(buf), &req, &m, &o);
	CHECK(n > 0);
	wm_stun_client_receive(sc, buf, n, &src, now);
}

/* One relay with a second port is enough: its OTHER-ADDRESS adds an entry
 * at the same IP (never the IP the answer names), probed on the next
 * tick, and the two mappings classify the NAT. */
TEST(other_address_gives_second_destination)
{
	struct wm_stun_client sc;
	struct wm_stun_request req[WM_STUN_MAX_SERVERS];
	union wm_sockaddr alt = A(srv1_port2);

	wm_stun_client_init(&sc);
	CHECK(wm_stun_client_add(&sc, srv1));
	CHECK(tick(&sc, t0, req, WM_STUN_MAX_SERVERS) == 1);
	answer_other(&sc, sc.servers[0].txid, srv1, "192.0.2.1:4000",
		     "203.0.113.250:3479", t0 + MS(1));
	CHECK(sc.n == 2);
	CHECK(wm_sockaddr_equal(&sc.servers[1].addr, &alt));
	CHECK(wm_stun_client_mapping(&sc, t0 + MS(1)) == WM_NAT_UNKNOWN);
	CHECK(tick(&sc, t0 + MS(2), req, WM_STUN_MAX_SERVERS) == 1);
	CHECK(wm_sockaddr_equal(&req[0].to, &alt));
	/* its own OTHER-ADDRESS adds nothing more */
	answer_other(&sc, sc.servers[1].txid, srv1_port2, "192.0.2.1:4711",
		     "198.51.100.7:3478", t0 + MS(3));
	CHECK(sc.n == 2);
	CHECK(wm_stun_client_mapping(&sc, t0 + MS(3)) == WM_NAT_ENDPOINT_DEPENDENT);
	/* a later answer of the first naming the same port: still two */
	CHECK(tick(&sc, t0 + S(WM_STUN_REFRESH_S) + MS(5), req,
		   WM_STUN_MAX_SERVERS) == 2);
	answer_other(&sc, sc.servers[0].txid, srv1, "192.0.2.1:4000",
		     "198.51.100.7:3479", t0 + S(WM_STUN_REFRESH_S) + MS(6));
	CHECK(sc.n == 2);
}

/* Without a resolver only numeric servers get requests; with one, its
 * answer is used and a name it does not know (yet) waits. */
static int fake_resolve(void *ctx, const char *text, union wm_sockaddr *out)
{
	(void)ctx;
	if (strcmp(text, "stun.example.net:3478") != 0)
		return -1;
	*out = A(srv2);
	return 0;
}

TEST(names_go_through_the_resolver)
{
	struct wm_stun_client sc;
	struct wm_stun_request req[WM_STUN_MAX_SERVERS];
	union wm_sockaddr a2 = A(srv2);

	wm_stun_client_init(&sc);
	CHECK(wm_stun_client_add(&sc, "stun.example.net:3478"));
	CHECK(wm_stun_client_add(&sc, "unknown.example.net:3478"));
	CHECK(tick(&sc, t0, req, WM_STUN_MAX_SERVERS) == 0);
	wm_stun_client_set_resolver(&sc, fake_resolve, NULL);
	CHECK(tick(&sc, t0 + S(2), req, WM_STUN_MAX_SERVERS) == 1);
	CHECK(wm_sockaddr_equal(&req[0].to, &a2));
}

/* A server's name that moves takes its derived second port along, the
 * port unchanged: the old IP no longer speaks for it. */
static const char *moving_ip = "198.51.100.7:3478";

static int moving_resolve(void *ctx, const char *text, union wm_sockaddr *out)
{
	(void)ctx;
	if (strcmp(text, "stun.example.net:3478") != 0)
		return -1;
	*out = A(moving_ip);
	return 0;
}

TEST(other_address_follows_a_moved_name)
{
	struct wm_stun_client sc;
	struct wm_stun_request req[WM_STUN_MAX_SERVERS];
	union wm_sockaddr alt1 = A("198.51.100.7:3479");
	union wm_sockaddr alt2 = A("203.0.113.9:3479");
	uint64_t t = t0;

	moving_ip = "198.51.100.7:3478";
	wm_stun_client_init(&sc);
	wm_stun_client_set_resolver(&sc, moving_resolve, NULL);
	CHECK(wm_stun_client_add(&sc, "stun.example.net:3478"));
	CHECK(tick(&sc, t, req, WM_STUN_MAX_SERVERS) == 1);
	answer_other(&sc, sc.servers[0].txid, moving_ip, "192.0.2.1:4000",
		     "198.51.100.7:3479", t + MS(1));
	CHECK(sc.n == 2 && wm_sockaddr_equal(&sc.servers[1].addr, &alt1));
	/* the name moves; the server still names 3479 */
	moving_ip = "203.0.113.9:3478";
	t += S(WM_STUN_REFRESH_S) + MS(5);
	CHECK(tick(&sc, t, req, WM_STUN_MAX_SERVERS) >= 1);
	answer_other(&sc, sc.servers[0].txid, moving_ip, "192.0.2.1:4000",
		     "203.0.113.9:3479", t + MS(1));
	CHECK(sc.n == 2);
	CHECK(wm_sockaddr_equal(&sc.servers[1].addr, &alt2));
	CHECK(strcmp(sc.servers[1].text, "203.0.113.9:3479") == 0);
	CHECK(sc.servers[1].answered_ns == 0);
	/* probed at the next tick, at its new address */
	CHECK(tick(&sc, t + MS(2), req, WM_STUN_MAX_SERVERS) == 1);
	CHECK(wm_sockaddr_equal(&req[0].to, &alt2));
}

int main(void)
{
	RUN(first_tick_one_request_per_server);
	RUN(tick_respects_cap);
	RUN(add_refuses_when_full_or_too_long);
	RUN(retries_back_off_to_max);
	RUN(failing_random_sends_nothing_and_retries);
	RUN(answer_taken_then_refresh);
	RUN(wrong_txid_or_source_refused);
	RUN(answered_request_not_outstanding);
	RUN(all_zero_txid_never_answers);
	RUN(mapping_classification);
	RUN(stale_answers_forgotten);
	RUN(reflexive_lists_distinct);
	RUN(other_address_gives_second_destination);
	RUN(names_go_through_the_resolver);
	RUN(other_address_follows_a_moved_name);
	return check_summary();
}
