/* The wg UAPI: exact get output for a known device, every set key and its
 * order rules against an in-memory device, bad input, then the real socket
 * driven by the real `wg` tool (a failure when /usr/bin/wg is missing or we
 * may not create /var/run/wireguard: build.sh installs wg, runs as root). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "agent/uapi.h"
#include "agent/uapi_proto.h"
#include "crypto/ct.h"
#include "crypto/encoding.h"

/* Keys as hex: a clamped private key, two peers, a psk. */
#define PRIV_HEX "4848484848484848484848484848484848484848484848484848484848484848"
#define PEER_A_HEX "1111111111111111111111111111111111111111111111111111111111111111"
#define PEER_B_HEX "2222222222222222222222222222222222222222222222222222222222222222"
#define PSK_HEX "3333333333333333333333333333333333333333333333333333333333333333"
#define ZERO_HEX "0000000000000000000000000000000000000000000000000000000000000000"

static uint8_t keybuf[8][32];
static unsigned keynext;

/* A key from hex, in a rotating static buffer (test data is trusted). */
static uint8_t (*key_of(const char *hex))[32]
{
	uint8_t (*k)[32] = &keybuf[keynext++ % 8];

	if (!wm_key_from_hex(*k, hex))
		abort();
	return k;
}

static struct wm_cidr cidr(const char *text)
{
	struct wm_cidr c;

	if (!wm_cidr_parse(&c, text))
		abort();
	wm_cidr_mask(&c);
	return c;
}

/* The peer's prefixes, formatted and joined by ",". */
static const char *prefixes(struct wm_device *dev, struct wm_peer *p)
{
	static char out[512];
	struct wm_cidr list[16];
	char buf[WM_CIDR_STRLEN];
	size_t n = wm_allowedips_list(&dev->allowedips, p, list, 16);

	out[0] = '\0';
	for (size_t i = 0; i < n && i < 16; i++) {
		if (i)
			strcat(out, ",");
		strcat(out, wm_cidr_format(buf, sizeof(buf), &list[i]));
	}
	return out;
}

/* The known device of get_exact and the socket tests. */
static void known_device(struct wm_device *dev)
{
	struct wm_cidr c;
	struct wm_peer *a, *b;

	CHECK(wm_device_init(dev, "wmtest") == 0);
	wm_device_set_private_key(dev, *key_of(PRIV_HEX));
	dev->listen_port = 51820;
	a = wm_device_add_peer(dev, *key_of(PEER_A_HEX));
	b = wm_device_add_peer(dev, *key_of(PEER_B_HEX));
	CHECK(a && b);
	wm_peer_set_psk(a, *key_of(PSK_HEX));
	CHECK(wm_sockaddr_parse(&a->endpoint, "192.0.2.1:51820"));
	c = cidr("10.0.0.2/32");
	CHECK(wm_device_add_allowed_ip(dev, a, &c) == 0);
	c = cidr("fd00::2/128");
	CHECK(wm_device_add_allowed_ip(dev, a, &c) == 0);
	wm_device_set_keepalive(dev, a, 25);
	a->rx_bytes = 1000;
	a->tx_bytes = 2000;
	a->last_handshake_sec = 1700000000;
	a->last_handshake_nsec = 123;
	CHECK(wm_sockaddr_parse(&b->endpoint, "[2001:db8::1]:4242"));
	c = cidr("10.0.1.0/24");
	CHECK(wm_device_add_allowed_ip(dev, b, &c) == 0);
}

static const char known_get[] =
	"private_key=" PRIV_HEX "\n"
	"listen_port=51820\n"
	"public_key=" PEER_A_HEX "\n"
	"preshared_key=" PSK_HEX "\n"
	"protocol_version=1\n"
	"endpoint=192.0.2.1:51820\n"
	"last_handshake_time_sec=1700000000\n"
	"last_handshake_time_nsec=123\n"
	"tx_bytes=2000\n"
	"rx_bytes=1000\n"
	"persistent_keepalive_interval=25\n"
	"allowed_ip=10.0.0.2/32\n"
	"allowed_ip=fd00::2/128\n"
	"public_key=" PEER_B_HEX "\n"
	"protocol_version=1\n"
	"endpoint=[2001:db8::1]:4242\n"
	"last_handshake_time_sec=0\n"
	"last_handshake_time_nsec=0\n"
	"tx_bytes=0\n"
	"rx_bytes=0\n"
	"persistent_keepalive_interval=0\n"
	"allowed_ip=10.0.1.0/24\n"
	"errno=0\n\n";

static bool get_is(struct wm_device *dev, const char *want)
{
	char *text;
	size_t n = wm_uapi_get(dev, &text);
	bool same = text && n == strlen(want) && memcmp(text, want, n) == 0;

	if (!same)
		fprintf(stderr, "get gave:\n%.*s---\nwanted:\n%s---\n",
			(int)n, text ? text : "", want);
	free(text);
	return same;
}

TEST(get_exact)
{
	struct wm_device dev;

	known_device(&dev);
	CHECK(get_is(&dev, known_get));
	dev.fwmark = 0x42;
	dev.listen_port = 0;
	wm_device_remove_all_peers(&dev);
	CHECK(get_is(&dev, "private_key=" PRIV_HEX "\nlisten_port=0\n"
			   "fwmark=66\nerrno=0\n\n"));
	wm_device_free(&dev);
}

TEST(get_empty_device)
{
	struct wm_device dev;

	CHECK(wm_device_init(&dev, "wmtest") == 0);
	CHECK(get_is(&dev, "listen_port=0\nerrno=0\n\n"));
	wm_device_free(&dev);
}

/* Records what the set asked of the agent. */
struct fake_agent {
	struct wm_device *dev;
	int port_calls, changed_calls, mark_calls;
	uint16_t port;
	int port_result;
	uint32_t mark;
	int mark_result;
};

static int fake_port(void *ctx, uint16_t port)
{
	struct fake_agent *f = ctx;

	f->port_calls++;
	f->port = port;
	if (f->port_result == 0)
		f->dev->listen_port = port;
	return f->port_result;
}

static int fake_fwmark(void *ctx, uint32_t mark)
{
	struct fake_agent *f = ctx;

	f->mark_calls++;
	f->mark = mark;
	if (f->mark_result == 0)
		f->dev->fwmark = mark;
	return f->mark_result;
}

static void fake_changed(void *ctx)
{
	struct fake_agent *f = ctx;

	f->changed_calls++;
}

static struct wm_uapi_ops fake_ops(struct fake_agent *f, struct wm_device *dev)
{
	memset(f, 0, sizeof(*f));
	f->dev = dev;
	return (struct wm_uapi_ops){ .set_listen_port = fake_port,
				     .set_fwmark = fake_fwmark,
				     .changed = fake_changed,
				     .ctx = f };
}

TEST(set_every_key)
{
	struct wm_device dev;
	struct fake_agent f;
	struct wm_uapi_ops ops;
	struct wm_peer *a;
	char ep[WM_SOCKADDR_STRLEN];

	CHECK(wm_device_init(&dev, "wmtest") == 0);
	ops = fake_ops(&f, &dev);
	CHECK(wm_uapi_set(&dev,
			  "private_key=" PRIV_HEX "\n"
			  "listen_port=51820\n"
			  "fwmark=7\n"
			  "replace_peers=true\n"
			  "public_key=" PEER_A_HEX "\n"
			  "protocol_version=1\n"
			  "preshared_key=" PSK_HEX "\n"
			  "endpoint=192.0.2.1:51820\n"
			  "persistent_keepalive_interval=25\n"
			  "replace_allowed_ips=true\n"
			  "allowed_ip=10.0.0.2/32\n"
			  "allowed_ip=fd00::2/128\n"
			  "\n"
			  "ignored=after the blank line\n",
			  &ops) == 0);
	CHECK(dev.has_private_key);
	CHECK_MEM(dev.local.private_key, *key_of(PRIV_HEX), 32);
	CHECK(f.port_calls == 1 && f.port == 51820 && dev.listen_port == 51820);
	CHECK(f.mark_calls == 1 && f.mark == 7 && dev.fwmark == 7);
	CHECK(f.changed_calls == 1);
	CHECK(dev.peer_count == 1);
	a = wm_device_find_peer(&dev, *key_of(PEER_A_HEX));
	CHECK(a != NULL);
	if (!a)
		goto out;
	CHECK_MEM(a->noise.preshared_key, *key_of(PSK_HEX), 32);
	CHECK(strcmp(wm_sockaddr_format(ep, sizeof(ep), &a->endpoint),
		     "192.0.2.1:51820") == 0);
	CHECK(a->persistent_keepalive == 25);
	CHECK(strcmp(prefixes(&dev, a), "10.0.0.2/32,fd00::2/128") == 0);

	/* Without ops, listen_port is just stored; psk zero clears it. */
	CHECK(wm_uapi_set(&dev, "listen_port=1234\npublic_key=" PEER_A_HEX
				"\npreshared_key=" ZERO_HEX
				"\nendpoint=[2001:db8::7]:9\n"
				"persistent_keepalive_interval=0\n",
			  NULL) == 0);
	CHECK(dev.listen_port == 1234);
	CHECK(wm_ct_is_zero(a->noise.preshared_key, 32));
	CHECK(a->persistent_keepalive == 0);
	CHECK(strcmp(wm_sockaddr_format(ep, sizeof(ep), &a->endpoint),
		     "[2001:db8::7]:9") == 0);
	/* A request without a final newline still counts. */
	CHECK(wm_uapi_set(&dev, "fwmark=0", NULL) == 0);
	CHECK(dev.fwmark == 0);
out:
	wm_device_free(&dev);
}

TEST(set_private_key_removal)
{
	struct wm_device dev;
	struct fake_agent f;
	struct wm_uapi_ops ops;

	known_device(&dev);
	ops = fake_ops(&f, &dev);
	CHECK(wm_uapi_set(&dev, "private_key=" ZERO_HEX "\n", &ops) == 0);
	CHECK(!dev.has_private_key);
	CHECK(wm_ct_is_zero(&dev.local, sizeof(dev.local)));
	CHECK(f.changed_calls == 1);
	CHECK(dev.peer_count == 2); /* peers stay, sessions go */
	CHECK(wm_uapi_set(&dev, "private_key=" PRIV_HEX "\n", NULL) == 0);
	CHECK(dev.has_private_key);
	CHECK(wm_uapi_set(&dev, "private_key=\n", NULL) == 0);
	CHECK(!dev.has_private_key);
	wm_device_free(&dev);
}

TEST(set_replace_peers)
{
	struct wm_device dev;
	struct wm_peer *b;

	known_device(&dev);
	CHECK(wm_uapi_set(&dev, "replace_peers=true\npublic_key=" PEER_B_HEX
				"\nallowed_ip=10.5.0.0/16\n",
			  NULL) == 0);
	CHECK(dev.peer_count == 1);
	CHECK(wm_device_find_peer(&dev, *key_of(PEER_A_HEX)) == NULL);
	b = wm_device_find_peer(&dev, *key_of(PEER_B_HEX));
	CHECK(b && b->endpoint.sa.sa_family == AF_UNSPEC);
	if (b)
		CHECK(strcmp(prefixes(&dev, b), "10.5.0.0/16") == 0);
	CHECK(dev.allowedips.count == 1);
	/* Only "true" is accepted. */
	CHECK(wm_uapi_set(&dev, "replace_peers=false\n", NULL) == EINVAL);
	CHECK(dev.peer_count == 1);
	wm_device_free(&dev);
}

TEST(set_remove)
{
	struct wm_device dev;
	struct fake_agent f;
	struct wm_uapi_ops ops;

	known_device(&dev);
	ops = fake_ops(&f, &dev);
	CHECK(wm_uapi_set(&dev, "public_key=" PEER_A_HEX "\nremove=true\n"
				"allowed_ip=10.7.0.0/16\n",
			  &ops) == 0);
	CHECK(dev.peer_count == 1);
	CHECK(wm_device_find_peer(&dev, *key_of(PEER_A_HEX)) == NULL);
	CHECK(dev.allowedips.count == 1); /* only B's; the 10.7 line was ignored */
	CHECK(f.changed_calls == 1);
	/* Removing an unknown peer leaves nothing behind. */
	CHECK(wm_uapi_set(&dev, "public_key=" PEER_A_HEX "\nremove=true\n",
			  NULL) == 0);
	CHECK(dev.peer_count == 1);
	CHECK(wm_uapi_set(&dev, "public_key=" PEER_B_HEX "\nremove=yes\n",
			  NULL) == EINVAL);
	CHECK(dev.peer_count == 1);
	wm_device_free(&dev);
}

TEST(set_update_only)
{
	struct wm_device dev;
	struct wm_peer *b;
	char ep[WM_SOCKADDR_STRLEN];

	known_device(&dev);
	CHECK(wm_uapi_set(&dev, "public_key=" PSK_HEX "\nupdate_only=true\n"
				"endpoint=192.0.2.9:1\nallowed_ip=10.8.0.0/16\n",
			  NULL) == 0);
	CHECK(dev.peer_count == 2);
	CHECK(wm_device_find_peer(&dev, *key_of(PSK_HEX)) == NULL);
	CHECK(dev.allowedips.count == 3);
	CHECK(wm_uapi_set(&dev, "public_key=" PEER_B_HEX "\nupdate_only=true\n"
				"endpoint=192.0.2.9:1\n",
			  NULL) == 0);
	b = wm_device_find_peer(&dev, *key_of(PEER_B_HEX));
	CHECK(b != NULL);
	if (b)
		CHECK(strcmp(wm_sockaddr_format(ep, sizeof(ep), &b->endpoint),
			     "192.0.2.9:1") == 0);
	wm_device_free(&dev);
}

/* Peers created and removed by a set request are announced: created
 * ones at its end (with their endpoint set), removed ones before they go. */
static char announced[256];

static void on_added(void *ctx, const struct wm_peer *p)
{
	(void)ctx;
	snprintf(announced + strlen(announced), sizeof(announced) - strlen(announced),
		 "+%02x%s ", p->public_key[0],
		 p->endpoint.sa.sa_family == AF_UNSPEC ? "" : "@");
}

static void on_removing(void *ctx, const struct wm_peer *p)
{
	(void)ctx;
	snprintf(announced + strlen(announced), sizeof(announced) - strlen(announced),
		 "-%02x ", p->public_key[0]);
}

TEST(set_announces_peers)
{
	static const struct wm_uapi_ops ops = { .peer_added = on_added,
						.peer_removing = on_removing };
	struct wm_device dev;
	char want[64];
	uint8_t a0 = (*key_of(PEER_A_HEX))[0], b0 = (*key_of(PEER_B_HEX))[0],
		n0 = (*key_of(PSK_HEX))[0];

	known_device(&dev);
	announced[0] = '\0';
	CHECK(wm_uapi_set(&dev, "public_key=" PSK_HEX "\nendpoint=192.0.2.9:1\n"
				"public_key=" PEER_A_HEX "\nremove=true\n", &ops) == 0);
	snprintf(want, sizeof(want), "-%02x +%02x@ ", a0, n0);
	CHECK(strcmp(announced, want) == 0);
	/* created and removed again in one request: no "added" */
	announced[0] = '\0';
	CHECK(wm_uapi_set(&dev, "public_key=" PEER_A_HEX "\n"
				"public_key=" PEER_A_HEX "\nremove=true\n", &ops) == 0);
	snprintf(want, sizeof(want), "-%02x ", a0);
	CHECK(strcmp(announced, want) == 0);
	/* replace_peers: every peer goes */
	announced[0] = '\0';
	CHECK(wm_uapi_set(&dev, "replace_peers=true\n", &ops) == 0);
	CHECK(strstr(announced, "-") && strlen(announced) == 8);
	snprintf(want, sizeof(want), "-%02x ", b0);
	CHECK(strstr(announced, want) != NULL);
	CHECK(dev.peer_count == 0);
	wm_device_free(&dev);
}

TEST(set_allowed_ips)
{
	struct wm_device dev;
	struct wm_peer *a, *b;

	known_device(&dev);
	a = wm_device_find_peer(&dev, *key_of(PEER_A_HEX));
	b = wm_device_find_peer(&dev, *key_of(PEER_B_HEX));
	/* Without replace, prefixes add up; host bits are dropped. */
	CHECK(wm_uapi_set(&dev, "public_key=" PEER_A_HEX
				"\nallowed_ip=10.3.0.77/16\n",
			  NULL) == 0);
	CHECK(strcmp(prefixes(&dev, a), "10.0.0.2/32,10.3.0.0/16,fd00::2/128") == 0);
	/* replace, then add: only what follows remains. */
	CHECK(wm_uapi_set(&dev, "public_key=" PEER_A_HEX
				"\nallowed_ip=10.4.0.0/16"
				"\nreplace_allowed_ips=true"
				"\nallowed_ip=10.1.0.0/16\n",
			  NULL) == 0);
	CHECK(strcmp(prefixes(&dev, a), "10.1.0.0/16") == 0);
	/* A prefix has one owner: taking B's moves it. */
	CHECK(wm_uapi_set(&dev, "public_key=" PEER_A_HEX
				"\nallowed_ip=10.0.1.0/24\n",
			  NULL) == 0);
	CHECK(strcmp(prefixes(&dev, a), "10.0.1.0/24,10.1.0.0/16") == 0);
	CHECK(strcmp(prefixes(&dev, b), "") == 0);
	/* Replace with nothing. */
	CHECK(wm_uapi_set(&dev, "public_key=" PEER_A_HEX
				"\nreplace_allowed_ips=true\n",
			  NULL) == 0);
	CHECK(strcmp(prefixes(&dev, a), "") == 0);
	CHECK(dev.allowedips.count == 0);
	wm_device_free(&dev);
}

TEST(set_own_key_ignored)
{
	struct wm_device dev;
	char req[256], pub[WM_KEY_HEX_LEN + 1];

	known_device(&dev);
	wm_key_to_hex(pub, dev.local.public_key);
	snprintf(req, sizeof(req),
		 "public_key=%s\nallowed_ip=10.9.9.0/24\nendpoint=1.2.3.4:5\n"
		 "public_key=" PSK_HEX "\nallowed_ip=10.9.8.0/24\n",
		 pub);
	CHECK(wm_uapi_set(&dev, req, NULL) == 0);
	CHECK(dev.peer_count == 3);
	CHECK(wm_device_find_peer(&dev, dev.local.public_key) == NULL);
	CHECK(dev.allowedips.count == 4);
	/* Bad values are still refused in an ignored section. */
	snprintf(req, sizeof(req), "public_key=%s\nallowed_ip=bad\n", pub);
	CHECK(wm_uapi_set(&dev, req, NULL) == EINVAL);
	wm_device_free(&dev);
}

/* Each bad request fails with its errno and leaves the device as the
 * lines before the bad one made it. */
TEST(set_bad_input)
{
	static const struct {
		const char *req;
		int err;
	} cases[] = {
		{ "private_key=zz" PRIV_HEX "\n", EINVAL },
		{ "private_key=4848\n", EINVAL },
		{ "listen_port=65536\n", EINVAL },
		{ "listen_port=-1\n", EINVAL },
		{ "listen_port=\n", EINVAL },
		{ "listen_port= 1\n", EINVAL },
		{ "fwmark=4294967296\n", EINVAL },
		{ "bogus=1\n", EINVAL },
		{ "allowed_ip=10.0.0.0/8\n", EINVAL },
		{ "endpoint=1.2.3.4:5\n", EINVAL },
		{ "listen_port\n", EPROTO },
		{ "public_key=" PEER_A_HEX "x\n", EINVAL },
		{ "public_key=\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\nendpoint=1.2.3.4\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\nendpoint=host.example:5\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\nendpoint=[::1:5\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\nendpoint=1.2.3.4:70000\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\npreshared_key=\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\npreshared_key=12\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\npersistent_keepalive_interval=65536\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\npersistent_keepalive_interval=off\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\nallowed_ip=10.0.0.0/33\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\nallowed_ip=10.0.0.1\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\nallowed_ip=fd00::/129\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\nallowed_ip=/8\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\nreplace_allowed_ips=1\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\nupdate_only=false\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\nprotocol_version=2\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\nlisten_port=1\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\nreplace_peers=true\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\nnope=1\n", EINVAL },
		{ "public_key=" PEER_A_HEX "\n=\n", EINVAL },
	};
	char big[2048];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wm_device dev;
		int err;

		known_device(&dev);
		err = wm_uapi_set(&dev, cases[i].req, NULL);
		if (err != cases[i].err) {
			fprintf(stderr, "case %zu: got %d\n", i, err);
			CHECK(err == cases[i].err);
		}
		/* Nothing was applied: every case fails on its first
		 * change, and public_key A exists already. */
		CHECK(get_is(&dev, known_get));
		wm_device_free(&dev);
	}

	/* Lines before the bad one stay; lines after it do not run. */
	{
		struct wm_device dev;
		struct fake_agent f;
		struct wm_uapi_ops ops;

		known_device(&dev);
		ops = fake_ops(&f, &dev);
		CHECK(wm_uapi_set(&dev, "public_key=" PEER_A_HEX
					"\npersistent_keepalive_interval=9"
					"\nallowed_ip=nonsense"
					"\npersistent_keepalive_interval=10\n",
				  &ops) == EINVAL);
		CHECK(wm_device_find_peer(&dev, *key_of(PEER_A_HEX))
			      ->persistent_keepalive == 9);
		CHECK(f.changed_calls == 1);
		/* A failing rebind reports the agent's errno. */
		f.port_result = -EADDRINUSE;
		CHECK(wm_uapi_set(&dev, "listen_port=1\nfwmark=5\n", &ops) ==
		      EADDRINUSE);
		CHECK(dev.fwmark == 0 && dev.listen_port == 51820);
		/* So does a mark the socket refuses. */
		f.mark_result = -EPERM;
		CHECK(wm_uapi_set(&dev, "fwmark=5\n", &ops) == EPERM);
		CHECK(f.mark_calls == 1 && dev.fwmark == 0);
		wm_device_free(&dev);
	}

	/* An over-long line, and a NUL-free but binary-ish one. */
	{
		struct wm_device dev;

		known_device(&dev);
		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		big[10] = '=';
		CHECK(wm_uapi_set(&dev, big, NULL) == EINVAL);
		CHECK(wm_uapi_set(&dev, "\x01\xff=\x80\n", NULL) == EINVAL);
		CHECK(wm_uapi_set(&dev, "", NULL) == 0);
		CHECK(wm_uapi_set(&dev, "\n", NULL) == 0);
		CHECK(get_is(&dev, known_get));
		wm_device_free(&dev);
	}
}

/* ---- the socket, with the real wg ---- */

static struct wm_loop loop;
static pid_t waiting_for;
static int child_status;
static uint64_t loop_deadline;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void watch_child(void *ctx, uint64_t now_ns)
{
	(void)ctx;
	(void)now_ns;
	if (waiting_for > 0 &&
	    waitpid(waiting_for, &child_status, WNOHANG) == waiting_for) {
		waiting_for = 0;
		wm_loop_stop(&loop);
	}
	if (now_ms() > loop_deadline)
		wm_loop_stop(&loop);
}

/* Runs the loop until the child exits (10 s at most). Its exit status,
 * or -1 when it had to be killed. */
static int serve_until_exit(pid_t pid)
{
	waiting_for = pid;
	loop_deadline = now_ms() + 10000;
	loop.stop = false;
	wm_loop_run(&loop);
	if (waiting_for > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		waiting_for = 0;
		return -1;
	}
	return WIFEXITED(child_status) ? WEXITSTATUS(child_status) : -1;
}

/* Runs argv with stdout and stderr into out (cap bytes, NUL-terminated) while the
 * loop serves. Returns the exit status. */
static int run_wg(char *out, size_t cap, char *const argv[])
{
	char path[] = "/tmp/test_uapi.XXXXXX";
	int fd = mkstemp(path), st;
	pid_t pid;
	ssize_t n;

	if (fd < 0)
		return -1;
	unlink(path);
	pid = fork();
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	st = serve_until_exit(pid);
	n = pread(fd, out, cap - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return st;
}

static char ifname[IFNAMSIZ], sock_path[108];

static bool can_run_wg(void)
{
	return access("/usr/bin/wg", X_OK) == 0 &&
	       (mkdir(WM_UAPI_DIR, 0755) == 0 || errno == EEXIST) &&
	       access(WM_UAPI_DIR, W_OK) == 0;
}

TEST(socket_tests_cannot_run)
{
	fprintf(stderr, "socket tests cannot run: no /usr/bin/wg, or %s not "
			"writable (not root?)\n", WM_UAPI_DIR);
	check_case_failed = 1;
}

TEST(socket_with_wg)
{
	struct wm_device dev;
	struct wm_uapi *u = NULL, *u2 = NULL;
	struct fake_agent f;
	struct wm_uapi_ops ops;
	struct wm_peer *a;
	struct stat st;
	char out[4096], want[1024], b64a[WM_KEY_B64_LEN + 1],
		b64psk[WM_KEY_B64_LEN + 1];

	known_device(&dev);
	ops = fake_ops(&f, &dev);
	CHECK(wm_uapi_open(&u, &loop, &dev, ifname, &ops) == 0);
	if (!u)
		goto out;
	CHECK(lstat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	      (st.st_mode & 0777) == 0600);
	/* A second agent on the same name is refused. */
	CHECK(wm_uapi_open(&u2, &loop, &dev, ifname, &ops) == -EADDRINUSE);
	CHECK(u2 == NULL);

	wm_key_to_base64(b64a, *key_of(PEER_A_HEX));
	wm_key_to_base64(b64psk, *key_of(PSK_HEX));
	CHECK(run_wg(out, sizeof(out),
		     (char *[]){ "/usr/bin/wg", "show", ifname, "dump", NULL }) == 0);
	snprintf(want, sizeof(want),
		 "\n%s\t%s\t192.0.2.1:51820\t10.0.0.2/32,fd00::2/128\t"
		 "1700000000\t1000\t2000\t25\n",
		 b64a, b64psk);
	if (!strstr(out, want)) {
		fprintf(stderr, "wg show dump:\n%s---\nwanted line:%s", out, want);
		CHECK(!"peer line");
	}
	CHECK(strstr(out, "\t51820\toff\n") != NULL);

	CHECK(run_wg(out, sizeof(out),
		     (char *[]){ "/usr/bin/wg", "set", ifname, "peer", b64a,
				 "allowed-ips", "10.9.0.0/24", NULL }) == 0);
	a = wm_device_find_peer(&dev, *key_of(PEER_A_HEX));
	CHECK(a != NULL);
	if (a)
		CHECK(strcmp(prefixes(&dev, a), "10.9.0.0/24") == 0);
	CHECK(f.changed_calls == 1);

	CHECK(run_wg(out, sizeof(out),
		     (char *[]){ "/usr/bin/wg", "showconf", ifname, NULL }) == 0);
	CHECK(strstr(out, "AllowedIPs = 10.9.0.0/24\n") != NULL);
	CHECK(strstr(out, "ListenPort = 51820\n") != NULL);

	/* An error travels back: wg exits 1. */
	f.port_result = -EADDRINUSE;
	CHECK(run_wg(out, sizeof(out),
		     (char *[]){ "/usr/bin/wg", "set", ifname, "listen-port",
				 "1", NULL }) == 1);
	CHECK(f.port_calls == 1);
	CHECK(strstr(out, "Unable to modify interface") != NULL);

	CHECK(run_wg(out, sizeof(out),
		     (char *[]){ "/usr/bin/wg", "set", ifname, "peer", b64a,
				 "remove", NULL }) == 0);
	CHECK(dev.peer_count == 1);

	/* setconf: replace_peers, then each peer with replace_allowed_ips. */
	{
		char conf[] = "/tmp/test_uapi_conf.XXXXXX";
		int fd = mkstemp(conf);
		FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
		struct wm_peer *p;

		CHECK(fp != NULL);
		if (!fp)
			goto out;
		fprintf(fp, "[Interface]\nListenPort = 4000\n\n[Peer]\n"
			    "PublicKey = %s\nAllowedIPs = 10.20.0.0/16, fd20::/64\n"
			    "Endpoint = [2001:db8::9]:51000\n", b64psk);
		fclose(fp);
		f.port_result = 0;
		CHECK(run_wg(out, sizeof(out),
			     (char *[]){ "/usr/bin/wg", "setconf", ifname, conf,
					 NULL }) == 0);
		unlink(conf);
		CHECK(dev.peer_count == 1 && dev.listen_port == 4000);
		p = wm_device_find_peer(&dev, *key_of(PSK_HEX));
		CHECK(p != NULL);
		if (p)
			CHECK(strcmp(prefixes(&dev, p), "10.20.0.0/16,fd20::/64") == 0);
		/* setconf is declarative: no PrivateKey in the file sends an
		 * empty one, which removes ours. */
		CHECK(!dev.has_private_key);
	}
out:
	wm_uapi_close(u);
	CHECK(lstat(sock_path, &st) < 0 && errno == ENOENT);
	wm_device_free(&dev);
}

static int connect_to(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Several requests in one write, answered in order; then an unknown
 * operation, and an endless request, are hung up on. The client runs in
 * a child so the loop can serve it. */
TEST(socket_framing)
{
	struct wm_device dev;
	struct wm_uapi *u = NULL;
	pid_t pid;

	CHECK(wm_device_init(&dev, "wmtest") == 0);
	CHECK(wm_uapi_open(&u, &loop, &dev, ifname, NULL) == 0);
	if (!u)
		goto out;

	pid = fork();
	if (pid == 0) {
		static const char req[] =
			"get=1\n\n"
			"set=1\nlisten_port=77\nbogus=1\nfwmark=9\n\n"
			"get=1\nx\n\n"
			"set=1\nlisten_port=78\n\n"
			"get=1\n\n";
		static const char want[] =
			"listen_port=0\nerrno=0\n\n"
			"errno=-22\n\n"
			"errno=-22\n\n"
			"errno=0\n\n"
			"listen_port=78\nerrno=0\n\n";
		char got[1024];
		size_t len = 0;
		ssize_t n;
		int fd = connect_to(sock_path);

		signal(SIGPIPE, SIG_IGN);
		if (fd < 0 || write(fd, req, sizeof(req) - 1) != sizeof(req) - 1)
			_exit(2);
		shutdown(fd, SHUT_WR);
		while ((n = read(fd, got + len, sizeof(got) - 1 - len)) > 0)
			len += (size_t)n;
		close(fd);
		if (n < 0 || len != sizeof(want) - 1 || memcmp(got, want, len)) {
			fprintf(stderr, "framing got (%zd):\n%.*s", n, (int)len, got);
			_exit(3);
		}

		/* Not an operation: closed without an answer. */
		fd = connect_to(sock_path);
		if (fd < 0 || write(fd, "put=1\n\n", 7) != 7)
			_exit(4);
		if (read(fd, got, sizeof(got)) != 0)
			_exit(5);
		close(fd);

		/* More than WM_UAPI_REQUEST_MAX without an end: closed. */
		fd = connect_to(sock_path);
		if (fd < 0 || write(fd, "set=1\n", 6) != 6)
			_exit(6);
		memset(got, 'a', sizeof(got));
		for (size_t sent = 0; sent <= WM_UAPI_REQUEST_MAX;) {
			n = write(fd, got, sizeof(got));
			if (n < 0)
				break; /* EPIPE or ECONNRESET: it hung up */
			sent += (size_t)n;
		}
		if (read(fd, got, sizeof(got)) > 0)
			_exit(7);
		close(fd);
		_exit(0);
	}
	CHECK(serve_until_exit(pid) == 0);
	CHECK(dev.listen_port == 78);
	CHECK(dev.fwmark == 0);
out:
	wm_uapi_close(u);
	wm_device_free(&dev);
}

/* The UAPI's own tick runs once as if IDLE_S (30 s) had passed: every
 * connection open then is idle (later ones are not). */
static struct wm_uapi *skewed;

static void skew_tick(void *ctx, uint64_t now_ns)
{
	struct wm_uapi *u = skewed;

	(void)ctx;
	skewed = NULL;
	for (unsigned i = 0; u && i < loop.n_ticks; i++)
		if (loop.ticks[i].ctx == u)
			loop.ticks[i].fn(u, now_ns + 31 * 1000000000ULL);
}

/* Idle clients do not hold the socket's 32 slots for ever: each is
 * closed once silent for 30 s, and wg gets in again. */
TEST(socket_idle_closed)
{
	struct wm_device dev;
	struct wm_uapi *u = NULL;
	int ready[2];
	pid_t pid;
	char c;

	CHECK(wm_device_init(&dev, "wmtest") == 0);
	CHECK(wm_uapi_open(&u, &loop, &dev, ifname, NULL) == 0);
	CHECK(pipe(ready) == 0);
	if (!u)
		goto out;
	pid = fork();
	if (pid == 0) {
		int fds[32];
		char got[64];

		close(ready[0]);
		for (int i = 0; i < 32; i++)
			if ((fds[i] = connect_to(sock_path)) < 0)
				_exit(2);
		/* the agent has had time to accept them all */
		usleep(300000);
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		for (int i = 0; i < 32; i++) {
			struct timeval tv = { .tv_sec = 5 };

			setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			if (read(fds[i], got, sizeof(got)) != 0)
				_exit(4); /* not closed within 5 s */
		}
		/* and a new client is served */
		fds[0] = connect_to(sock_path);
		if (fds[0] < 0 || write(fds[0], "get=1\n\n", 7) != 7 ||
		    read(fds[0], got, sizeof(got)) <= 0)
			_exit(5);
		_exit(0);
	}
	close(ready[1]);
	/* Wait for the child's "ready" while the loop accepts: the loop
	 * serves until the child exits; the skew starts once it is ready. */
	CHECK(wm_loop_add_tick(&loop, skew_tick, NULL) == 0);
	{
		struct pollfd p = { .fd = ready[0], .events = POLLIN };
		uint64_t end = now_ms() + 5000;

		while (now_ms() < end && poll(&p, 1, 0) == 0) {
			loop_deadline = now_ms() + 50;
			loop.stop = false;
			wm_loop_run(&loop);
		}
		CHECK(read(ready[0], &c, 1) == 1);
	}
	skewed = u;
	CHECK(serve_until_exit(pid) == 0);
	skewed = NULL;
	wm_loop_del_tick(&loop, skew_tick, NULL);
	close(ready[0]);
out:
	wm_uapi_close(u);
	wm_device_free(&dev);
}

/* A stale socket file is replaced; a symlink or a plain file is not. */
TEST(socket_path_rules)
{
	struct wm_device dev;
	struct wm_uapi *u = NULL;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	CHECK(wm_device_init(&dev, "wmtest") == 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	close(fd); /* bound, never listened: nobody answers */
	CHECK(wm_uapi_open(&u, &loop, &dev, ifname, NULL) == 0);
	wm_uapi_close(u);
	u = NULL;

	CHECK(symlink("/tmp/wm-uapi-target", sock_path) == 0);
	CHECK(wm_uapi_open(&u, &loop, &dev, ifname, NULL) == -EEXIST);
	CHECK(lstat(sock_path, &st) == 0 && S_ISLNK(st.st_mode));
	unlink(sock_path);

	fd = open(sock_path, O_CREAT | O_WRONLY | O_EXCL, 0600);
	CHECK(fd >= 0);
	close(fd);
	CHECK(wm_uapi_open(&u, &loop, &dev, ifname, NULL) == -EEXIST);
	unlink(sock_path);

	CHECK(wm_uapi_open(&u, &loop, &dev, "", NULL) == -EINVAL);
	CHECK(wm_uapi_open(&u, &loop, &dev, "a/b", NULL) == -EINVAL);
	CHECK(wm_uapi_open(&u, &loop, &dev, "sixteen-chars-xx", NULL) == -EINVAL);
	CHECK(u == NULL);
	wm_device_free(&dev);
}

int main(void)
{
	RUN(get_exact);
	RUN(get_empty_device);
	RUN(set_every_key);
	RUN(set_private_key_removal);
	RUN(set_replace_peers);
	RUN(set_remove);
	RUN(set_update_only);
	RUN(set_announces_peers);
	RUN(set_allowed_ips);
	RUN(set_own_key_ignored);
	RUN(set_bad_input);

	snprintf(ifname, sizeof(ifname), "wmut%d", (int)(getpid() % 10000000));
	snprintf(sock_path, sizeof(sock_path), "%s/%s.sock", WM_UAPI_DIR, ifname);
	if (can_run_wg() && wm_loop_init(&loop, 20) == 0 &&
	    wm_loop_add_tick(&loop, watch_child, NULL) == 0) {
		RUN(socket_with_wg);
		RUN(socket_framing);
		RUN(socket_idle_closed);
		RUN(socket_path_rules);
		unlink(sock_path);
		wm_loop_close(&loop);
	} else {
		/* A failure, not a skip: build.sh installs wireguard-tools and
		 * runs as root, so this only happens on a broken setup. */
		RUN(socket_tests_cannot_run);
	}
	return check_summary();
}
