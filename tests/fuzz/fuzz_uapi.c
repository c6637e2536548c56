/*
 * fuzz_uapi.c - the wg UAPI "set=1" request (agent/uapi_proto.h).
 *
 * Each input is the body of a set request (the lines after "set=1", as
 * the socket layer hands them to wm_uapi_set). It is applied to a fresh
 * in-memory device like tests/unit/test_uapi.c's known_device (a private
 * key, two peers with a psk, endpoints, v4 and v6 allowed IPs), through
 * ops whose set_listen_port refuses port 1 (EADDRINUSE, a failed rebind)
 * and stores the rest. Then wm_uapi_get renders the device.
 *
 * Checked besides "no crash": set answers 0 or a positive errno; get ends
 * in "errno=0\n\n"; and get is a fixed point of set: the settable lines
 * of the answer, applied with replace_peers to a second fresh device,
 * give the same settable lines back (what `wg showconf | wg setconf`
 * relies on). No socket is opened: the device's fds stay -1.
 */
#include "common.h"
#include "agent/uapi_proto.h"
#include "crypto/ct.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { INPUT_MAX = 16 * 1024 };

#define PRIV_HEX "4848484848484848484848484848484848484848484848484848484848484848"
#define PEER_A_HEX "1111111111111111111111111111111111111111111111111111111111111111"
#define PEER_B_HEX "2222222222222222222222222222222222222222222222222222222222222222"
#define PSK_HEX "3333333333333333333333333333333333333333333333333333333333333333"

static int set_listen_port(void *ctx, uint16_t port)
{
	struct wm_device *dev = ctx;

	if (port == 1)
		return -EADDRINUSE;
	dev->listen_port = port;
	return 0;
}

static void changed(void *ctx)
{
	(void)ctx;
}

static void add_ip(struct wm_device *dev, struct wm_peer *p, const char *text)
{
	struct wm_cidr c;

	if (!wm_cidr_parse(&c, text))
		fuzz_fail("bad prefix %s", text);
	wm_cidr_mask(&c);
	if (wm_device_add_allowed_ip(dev, p, &c) < 0)
		fuzz_fail("add_allowed_ip");
}

static void known_device(struct wm_device *dev)
{
	uint8_t k[32];
	struct wm_peer *a, *b;

	if (wm_device_init(dev, "wmfuzz") < 0)
		fuzz_fail("wm_device_init");
	fuzz_key(k, PRIV_HEX);
	wm_device_set_private_key(dev, k);
	dev->listen_port = 51820;
	fuzz_key(k, PEER_A_HEX);
	a = wm_device_add_peer(dev, k);
	fuzz_key(k, PEER_B_HEX);
	b = wm_device_add_peer(dev, k);
	if (!a || !b)
		fuzz_fail("wm_device_add_peer");
	fuzz_key(k, PSK_HEX);
	wm_peer_set_psk(a, k);
	if (!wm_sockaddr_parse(&a->endpoint, "192.0.2.1:51820") ||
	    !wm_sockaddr_parse(&b->endpoint, "[2001:db8::1]:4242"))
		fuzz_fail("wm_sockaddr_parse");
	add_ip(dev, a, "10.0.0.2/32");
	add_ip(dev, a, "fd00::2/128");
	add_ip(dev, b, "10.0.1.0/24");
	a->persistent_keepalive = 25;
	a->rx_bytes = 1000;
	a->tx_bytes = 2000;
}

/* The lines of a get answer that set accepts, in order; malloc'd. */
static char *settable(const char *get, size_t len)
{
	static const char *const keys[] = {
		"private_key=", "listen_port=", "fwmark=", "public_key=",
		"preshared_key=", "endpoint=", "persistent_keepalive_interval=",
		"allowed_ip=", "protocol_version=",
	};
	char *out = malloc(len + 1), *o = out;
	const char *p = get, *end = get + len;

	if (!out)
		abort();
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) + 1 : (size_t)(end - p);

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strncmp(p, keys[i], strlen(keys[i])) == 0) {
				memcpy(o, p, n);
				o += n;
				break;
			}
		p += n;
	}
	*o = '\0';
	return out;
}

static char *get_text(struct wm_device *dev, size_t *len)
{
	char *out = NULL;
	static const char tail[] = "errno=0\n\n";

	*len = wm_uapi_get(dev, &out);
	if (!out)
		fuzz_fail("wm_uapi_get returned NULL");
	if (*len < sizeof(tail) - 1 ||
	    memcmp(out + *len - (sizeof(tail) - 1), tail, sizeof(tail) - 1) != 0)
		fuzz_fail("get does not end in errno=0: %.*s", (int)*len, out);
	return out;
}

static void wipe_free(char *s, size_t len)
{
	wm_memzero(s, len);
	free(s);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wm_device dev, dev2;
	struct wm_uapi_ops ops = { .set_listen_port = set_listen_port,
				   .changed = changed, .ctx = &dev };
	struct wm_uapi_ops ops2 = { .set_listen_port = set_listen_port,
				    .changed = changed, .ctx = &dev2 };
	char *req, *got, *got2, *conf, *conf2, *again;
	size_t len, len2, clen;
	int r;

	if (size > INPUT_MAX)
		return 0;
	req = fuzz_cstr(data, size);
	known_device(&dev);
	r = wm_uapi_set(&dev, req, &ops);
	if (r < 0 || r > 4095)
		fuzz_fail("wm_uapi_set returned %d", r);
	got = get_text(&dev, &len);
	if (fuzz_verbose())
		fprintf(stderr, "set: errno=%d\nget:\n%s", r, got);

	/* get -> set -> get keeps every settable line. */
	conf = settable(got, len);
	clen = strlen(conf);
	again = malloc(clen + sizeof("replace_peers=true\n"));
	if (!again)
		abort();
	/* Device keys first: replace_peers goes after them. */
	{
		const char *first_peer = strstr(conf, "public_key=");
		size_t head = first_peer ? (size_t)(first_peer - conf) : clen;

		memcpy(again, conf, head);
		strcpy(again + head, "replace_peers=true\n");
		strcat(again, conf + head);
	}
	known_device(&dev2);
	if (!dev.has_private_key)
		wm_device_clear_private_key(&dev2);
	r = wm_uapi_set(&dev2, again, &ops2);
	if (r != 0)
		fuzz_fail("get answer not accepted by set (errno %d):\n%s", r,
			  again);
	got2 = get_text(&dev2, &len2);
	conf2 = settable(got2, len2);
	if (strcmp(conf, conf2) != 0)
		fuzz_fail("get/set/get differs:\n--- first\n%s--- second\n%s",
			  conf, conf2);

	wipe_free(got2, len2);
	wipe_free(conf2, strlen(conf2));
	wipe_free(again, strlen(again));
	wipe_free(conf, clen);
	wipe_free(got, len);
	wm_device_free(&dev2);
	wm_device_free(&dev);
	free(req);
	return 0;
}
