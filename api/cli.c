/* See cli.h. */
#include "api/cli.h"
#include "api/curl_dl.h"
#include "crypto/encoding.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct opts {
	bool json;
	char socket[108];
	long count;      /* ping: rounds */
	long timeout_ms; /* ping: per round */
};

/* ----------------------------------------------------------- pure parts */

int wm_cli_find_socket(const char *dir, char *out, size_t cap)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t used = 0;
	int n = 0;

	if (!d)
		return -errno;
	if (cap)
		out[0] = '\0';
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char path[512];
		struct stat st;

		if (len < 6 || strcmp(e->d_name + len - 5, ".sock") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		if (n == 0)
			snprintf(out, cap, "%s", path);
		else if (used < cap)
			snprintf(out + used, cap - used, ", %s", path);
		used = strlen(out);
		n++;
	}
	closedir(d);
	if (n == 0)
		return -ENOENT;
	return n == 1 ? 0 : -E2BIG;
}

/* arg in the standard alphabet, without padding. */
static void normalize(char *out, size_t cap, const char *arg)
{
	size_t n = 0;

	for (; *arg && n + 1 < cap; arg++) {
		char c = *arg == '-' ? '+' : *arg == '_' ? '/' : *arg;
		if (c != '=')
			out[n++] = c;
	}
	out[n] = '\0';
}

int wm_cli_match_peer(const json_t *peers, const char *arg, uint8_t key[32])
{
	char want[64];
	size_t i, wlen;
	json_t *p;
	int found = 0;

	/* A peer's name, exactly, comes first. */
	json_array_foreach(peers, i, p) {
		const char *name = json_string_value(json_object_get(p, "name"));
		const char *k = json_string_value(json_object_get(p, "public_key"));

		if (name && k && strcmp(name, arg) == 0 &&
		    wm_key_from_base64(key, k))
			return 0;
	}
	normalize(want, sizeof(want), arg);
	wlen = strlen(want);
	if (wlen == 0)
		return -ENOENT;
	json_array_foreach(peers, i, p) {
		const char *k = json_string_value(json_object_get(p, "public_key"));
		char have[64];

		if (!k)
			continue;
		normalize(have, sizeof(have), k);
		if (strncmp(have, want, wlen) != 0)
			continue;
		/* A full key is never ambiguous, even if it is a prefix. */
		if (strlen(have) == wlen) {
			found = 1;
			wm_key_from_base64(key, k);
			break;
		}
		if (found++ == 0)
			wm_key_from_base64(key, k);
	}
	if (found == 0)
		return -ENOENT;
	return found == 1 ? 0 : -EEXIST;
}

void wm_cli_bytes(char *out, size_t cap, uint64_t n)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)n / 1024;
	int u = 0;

	if (n < 1024) {
		snprintf(out, cap, "%" PRIu64 " B", n);
		return;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, cap, "%.1f %s", v, units[u]);
}

void wm_cli_age(char *out, size_t cap, const char *rfc3339, int64_t now)
{
	struct tm tm;
	int64_t age;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (!rfc3339 ||
	    !(end = strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ", &tm)) || *end) {
		snprintf(out, cap, "never");
		return;
	}
	age = now - (int64_t)timegm(&tm);
	if (age < 0)
		age = 0;
	if (age < 60)
		snprintf(out, cap, "%" PRId64 "s ago", age);
	else if (age < 3600)
		snprintf(out, cap, "%" PRId64 "m %" PRId64 "s ago", age / 60,
			 age % 60);
	else if (age < 86400)
		snprintf(out, cap, "%" PRId64 "h %" PRId64 "m ago", age / 3600,
			 age % 3600 / 60);
	else
		snprintf(out, cap, "%" PRId64 "d %" PRId64 "h ago", age / 86400,
			 age % 86400 / 3600);
}

void wm_cli_rtt(char *out, size_t cap, const json_t *rtt_us)
{
	double ms;

	if (!json_is_integer(rtt_us) || json_integer_value(rtt_us) < 0) {
		snprintf(out, cap, "-");
		return;
	}
	ms = (double)json_integer_value(rtt_us) / 1000.0;
	/* LAN paths are well under a millisecond: keep their digits. */
	snprintf(out, cap, ms < 10 ? "%.2f ms" : "%.0f ms", ms);
}

void wm_cli_peer_label(char *out, size_t cap, const json_t *peer)
{
	const char *name = json_string_value(json_object_get(peer, "name"));
	const char *key = json_string_value(json_object_get(peer, "public_key"));

	if (name)
		snprintf(out, cap, "%s", name);
	else
		snprintf(out, cap, "%.8s..", key ? key : "?");
}

void wm_cli_tunnel_addr(char *out, size_t cap, const json_t *peer)
{
	const char *a = json_string_value(
		json_array_get(json_object_get(peer, "allowed_ips"), 0));
	size_t n;

	if (!a) {
		snprintf(out, cap, "-");
		return;
	}
	n = strcspn(a, "/");
	/* A host prefix is the peer's own address; show it bare. */
	if (strcmp(a + n, "/32") == 0 || strcmp(a + n, "/128") == 0)
		snprintf(out, cap, "%.*s", (int)n, a);
	else
		snprintf(out, cap, "%s", a);
}

/* ---------------------------------------------------------------- HTTP */

struct buf {
	char *data;
	size_t len;
};

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;
	size_t add = size * n;
	char *d;

	if (b->len + add > (64u << 20))
		return 0; /* an agent never sends this much; stop */
	d = realloc(b->data, b->len + add + 1);
	if (!d)
		return 0;
	memcpy(d + b->len, p, add);
	b->data = d;
	b->len += add;
	d[b->len] = '\0';
	return add;
}

/* One request. 0 with *status and *out (parsed JSON or NULL for an empty
 * body), or 1 after printing why the agent could not be reached. */
static int request(const struct opts *o, const char *method, const char *path,
		   const char *body, long *status, json_t **out)
{
	struct curl_slist *hdrs = NULL;
	struct buf b = { NULL, 0 };
	struct wm_curl cu;
	char url[256], err[256];
	CURLcode rc;
	CURL *c;

	*out = NULL;
	if (wm_curl_load(&cu, err, sizeof(err)) < 0) {
		fprintf(stderr, "wiremesh: cannot load libcurl: %s\n", err);
		return 1;
	}
	c = cu.easy_init();
	if (!c) {
		fprintf(stderr, "wiremesh: cannot start libcurl\n");
		wm_curl_unload(&cu);
		return 1;
	}
	snprintf(url, sizeof(url), "http://localhost%s", path);
	cu.easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, o->socket);
	cu.easy_setopt(c, CURLOPT_URL, url);
	cu.easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	cu.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 3L);
	cu.easy_setopt(c, CURLOPT_TIMEOUT, 15L);
	/* POST without a body is still a POST. */
	if (!body && strcmp(method, "POST") == 0)
		cu.easy_setopt(c, CURLOPT_POSTFIELDS, "");
	cu.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	cu.easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (body) {
		hdrs = cu.slist_append(hdrs, "Content-Type: application/json");
		cu.easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		cu.easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	rc = cu.easy_perform(c);
	if (rc == CURLE_OK)
		cu.easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	cu.slist_free_all(hdrs);
	cu.easy_cleanup(c);
	if (rc != CURLE_OK) {
		fprintf(stderr, "wiremesh: cannot reach the agent on %s: %s "
				"(is `wiremesh agent` running?)\n",
			o->socket, cu.easy_strerror(rc));
		wm_curl_unload(&cu);
		free(b.data);
		return 1;
	}
	wm_curl_unload(&cu);
	if (b.len)
		*out = json_loadb(b.data, b.len, 0, NULL);
	free(b.data);
	if (b.len && !*out) {
		fprintf(stderr, "wiremesh: the agent on %s answered HTTP %ld "
				"with something that is not JSON\n",
			o->socket, *status);
		return 1;
	}
	return 0;
}

/* A non-2xx answer: the API's error message. Returns 1. */
static int refused(long status, const json_t *j)
{
	const json_t *e = json_object_get(j, "error");
	const char *msg = json_string_value(json_object_get(e, "message"));
	const char *code = json_string_value(json_object_get(e, "code"));

	fprintf(stderr, "wiremesh: the agent refused: %s (HTTP %ld%s%s)\n",
		msg ? msg : "no reason given", status, code ? " " : "",
		code ? code : "");
	return 1;
}

static int get(const struct opts *o, const char *path, json_t **out)
{
	long status = 0;
	int r = request(o, "GET", path, NULL, &status, out);

	if (r)
		return r;
	if (status / 100 != 2) {
		r = refused(status, *out);
		json_decref(*out);
		*out = NULL;
	}
	return r;
}

static void print_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
}

/* ------------------------------------------------------------- options */

/* Parses --json, --socket and -h; leaves the operands at argv[optind..].
 * Returns 0, or the exit status (2 after usage). */
static long number(const char *what, const char *text, long lo, long hi)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (*text < '0' || *text > '9' || *end || v < lo || v > hi) {
		fprintf(stderr, "wiremesh: %s: %ld..%ld, not '%s'\n", what, lo,
			hi, text);
		return -1;
	}
	return v;
}

static int parse_opts_x(int argc, char **argv, struct opts *o,
			const char *usage, bool ping)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int c, r;

	memset(o, 0, sizeof(*o));
	o->count = 3;
	o->timeout_ms = 1000;
	optind = 1;
	while ((c = getopt_long(argc, argv, ping ? "js:hc:t:" : "js:h", lo,
				NULL)) != -1) {
		if (!ping && (c == 'c' || c == 't'))
			c = '?';
		switch (c) {
		case 'c':
			o->count = number("--count", optarg, 1, 100);
			if (o->count < 0)
				return 2;
			break;
		case 't':
			o->timeout_ms = number("--timeout (ms)", optarg, 1, 5000);
			if (o->timeout_ms < 0)
				return 2;
			break;
		case 'j':
			o->json = true;
			break;
		case 's':
			if (strlen(optarg) >= sizeof(o->socket)) {
				fprintf(stderr, "wiremesh: --socket: path too "
						"long\n");
				return 2;
			}
			snprintf(o->socket, sizeof(o->socket), "%s", optarg);
			break;
		case 'h':
			printf("usage: %s\n", usage);
			exit(0);
		default:
			fprintf(stderr, "usage: %s\n", usage);
			return 2;
		}
	}
	if (o->socket[0])
		return 0;
	r = wm_cli_find_socket(WM_CLI_SOCKET_DIR, o->socket, sizeof(o->socket));
	if (r == -E2BIG) {
		fprintf(stderr, "wiremesh: several agents in %s (%s); choose "
				"one with --socket PATH\n",
			WM_CLI_SOCKET_DIR, o->socket);
		return 2;
	}
	if (r < 0) {
		fprintf(stderr, "wiremesh: no agent socket in %s (%s); is "
				"`wiremesh agent` running? Or pass --socket "
				"PATH\n",
			WM_CLI_SOCKET_DIR,
			r == -ENOENT ? "no *.sock" : strerror(-r));
		return 1;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o, const char *usage)
{
	return parse_opts_x(argc, argv, o, usage, false);
}

/* Options only, no operand: a stray word is a usage error (2). */
static int parse_opts_only(int argc, char **argv, struct opts *o,
			   const char *usage)
{
	int r = parse_opts(argc, argv, o, usage);

	if (r)
		return r;
	if (optind != argc) {
		fprintf(stderr, "usage: %s\n", usage);
		return 2;
	}
	return 0;
}

/* ------------------------------------------------------------ commands */

static const char *str(const json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : dflt;
}

static void print_status(const json_t *st)
{
	const json_t *relay = json_object_get(st, "relay");
	const json_t *refl = json_object_get(st, "reflexive");
	const char *rep = str(relay, "endpoint", NULL);
	size_t i;
	json_t *v;

	printf("interface: %s\n", str(st, "interface", "?"));
	printf("  public key: %s\n", str(st, "public_key", "(none)"));
	printf("  listening port: %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(st, "listen_port")));
	if (!rep)
		printf("  relay: not configured\n");
	else if (json_is_true(json_object_get(relay, "connected")))
		printf("  relay: %s (connected, %s)\n", rep,
		       str(relay, "transport", "?"));
	else
		printf("  relay: %s (not connected)\n", rep);
	printf("  reflexive addresses:");
	if (!json_array_size(refl))
		printf(" none");
	json_array_foreach(refl, i, v)
		printf("%s %s", i ? "," : "", json_string_value(v) ? json_string_value(v) : "?");
	printf("\n  nat mapping: %s\n",
	       str(json_object_get(st, "nat"), "mapping", "unknown"));
	printf("  peers: %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(st, "peer_count")));
	printf("  version: %s\n", str(st, "version", "?"));
}

/* One line per peer, as `tailscale status` does: address, name (or key),
 * path, where it goes (endpoint or relay), rtt, last handshake, bytes. */
static void print_peer_lines(const json_t *st, const json_t *peers)
{
	const char *relay = str(json_object_get(st, "relay"), "endpoint", "-");
	int64_t now = (int64_t)time(NULL);
	size_t i;
	json_t *p;

	if (!json_array_size(peers)) {
		printf("\n(no peers)\n");
		return;
	}
	printf("\n%-16s %-16s %-7s %-24s %-9s %-13s %-10s %s\n", "ADDRESS",
	       "PEER", "PATH", "VIA", "RTT", "HANDSHAKE", "RX", "TX");
	json_array_foreach(peers, i, p) {
		char addr[64], who[WM_KEY_B64_LEN + 8], via[80], rtt[24],
			age[32], rx[16], tx[16];
		const char *path = str(p, "path", "none");
		const char *ep = str(p, "endpoint", NULL);

		wm_cli_tunnel_addr(addr, sizeof(addr), p);
		wm_cli_peer_label(who, sizeof(who), p);
		if (strcmp(path, "relay") == 0)
			snprintf(via, sizeof(via), "relay %s", relay);
		else if (ep)
			/* none with an endpoint: it is tried, not answering */
			snprintf(via, sizeof(via), "%s%s", ep,
				 strcmp(path, "none") == 0 ? " (silent)" : "");
		else
			snprintf(via, sizeof(via), "-");
		wm_cli_rtt(rtt, sizeof(rtt), json_object_get(p, "rtt_us"));
		wm_cli_age(age, sizeof(age), str(p, "last_handshake", NULL), now);
		wm_cli_bytes(rx, sizeof(rx), (uint64_t)json_integer_value(
						     json_object_get(p, "rx_bytes")));
		wm_cli_bytes(tx, sizeof(tx), (uint64_t)json_integer_value(
						     json_object_get(p, "tx_bytes")));
		printf("%-16s %-16s %-7s %-24s %-9s %-13s %-10s %s\n", addr, who,
		       path, via, rtt, age, rx, tx);
	}
}

int wm_cmd_status(int argc, char **argv)
{
	static const char usage[] = "wiremesh status [--json] [--socket PATH]";
	struct opts o;
	json_t *st, *peers;
	int r;

	r = parse_opts_only(argc, argv, &o, usage);
	if (r)
		return r;
	r = get(&o, "/v1/status", &st);
	if (r)
		return r;
	r = get(&o, "/v1/peers", &peers);
	if (r) {
		json_decref(st);
		return r;
	}
	if (o.json) {
		/* /v1/status with the peers of /v1/peers added. */
		json_object_set(st, "peers", json_object_get(peers, "peers"));
		print_json(st);
	} else {
		print_status(st);
		print_peer_lines(st, json_object_get(peers, "peers"));
	}
	json_decref(peers);
	json_decref(st);
	return 0;
}

static void print_peers(const json_t *peers)
{
	int64_t now = (int64_t)time(NULL);
	size_t i;
	json_t *p;

	printf("%-16s %-7s %-23s %-12s %-10s %-10s %s\n", "PEER", "PATH",
	       "ENDPOINT", "HANDSHAKE", "RX", "TX", "RTT");
	json_array_foreach(peers, i, p) {
		char key[WM_KEY_B64_LEN + 8], age[32], rx[16], tx[16], rtt[24];

		wm_cli_peer_label(key, sizeof(key), p);
		wm_cli_age(age, sizeof(age), str(p, "last_handshake", NULL), now);
		wm_cli_bytes(rx, sizeof(rx), (uint64_t)json_integer_value(
						     json_object_get(p, "rx_bytes")));
		wm_cli_bytes(tx, sizeof(tx), (uint64_t)json_integer_value(
						     json_object_get(p, "tx_bytes")));
		wm_cli_rtt(rtt, sizeof(rtt), json_object_get(p, "rtt_us"));
		printf("%-16s %-7s %-23s %-12s %-10s %-10s %s\n", key,
		       str(p, "path", "?"), str(p, "endpoint", "-"), age, rx,
		       tx, rtt);
	}
	if (!json_array_size(peers))
		printf("(no peers)\n");
}

int wm_cmd_peers(int argc, char **argv)
{
	struct opts o;
	json_t *j;
	int r;

	r = parse_opts_only(argc, argv, &o,
			    "wiremesh peers [--json] [--socket PATH]");
	if (r)
		return r;
	r = get(&o, "/v1/peers", &j);
	if (r)
		return r;
	if (o.json)
		print_json(j);
	else
		print_peers(json_object_get(j, "peers"));
	json_decref(j);
	return 0;
}

/* PEER (a key, a prefix of one, or a peer's name) as the base64url key
 * for a URL. 0, or the exit status after saying why. */
static int resolve_peer(const struct opts *o, const char *peer,
			char b64[WM_KEY_B64_LEN + 1])
{
	uint8_t key[32];
	json_t *j;
	int r;

	r = get(o, "/v1/peers", &j);
	if (r)
		return r;
	r = wm_cli_match_peer(json_object_get(j, "peers"), peer, key);
	json_decref(j);
	if (r == -ENOENT) {
		fprintf(stderr, "wiremesh: no peer matches '%s'\n", peer);
		return 1;
	}
	if (r == -EEXIST) {
		fprintf(stderr, "wiremesh: '%s' matches several peers; give "
				"more of the key\n", peer);
		return 2;
	}
	/* base64url in the path: no escaping needed. */
	wm_key_to_base64(b64, key);
	for (char *c = b64; *c; c++)
		*c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
	b64[43] = '\0';
	return 0;
}

int wm_cmd_path(int argc, char **argv)
{
	static const char usage[] =
		"wiremesh path PEER auto|direct|relay [--json] [--socket PATH]";
	char b64[WM_KEY_B64_LEN + 1], url[128], body[64];
	const char *peer, *mode;
	struct opts o;
	json_t *p;
	long status = 0;
	int r;

	r = parse_opts(argc, argv, &o, usage);
	if (r)
		return r;
	if (argc - optind != 2) {
		fprintf(stderr, "usage: %s\n", usage);
		return 2;
	}
	peer = argv[optind];
	mode = argv[optind + 1];
	if (strcmp(mode, "auto") && strcmp(mode, "direct") && strcmp(mode, "relay")) {
		fprintf(stderr, "wiremesh: mode '%s' is not auto, direct or "
				"relay\nusage: %s\n", mode, usage);
		return 2;
	}
	r = resolve_peer(&o, peer, b64);
	if (r)
		return r;
	snprintf(url, sizeof(url), "/v1/peers/%s/path", b64);
	snprintf(body, sizeof(body), "{\"mode\":\"%s\"}", mode);
	r = request(&o, "PUT", url, body, &status, &p);
	if (r)
		return r;
	if (status / 100 != 2) {
		r = refused(status, p);
	} else if (o.json) {
		print_json(p);
	} else {
		printf("peer %.8s..: path mode %s, path now %s\n",
		       str(p, "public_key", "?"), str(p, "path_mode", "?"),
		       str(p, "path", "?"));
	}
	json_decref(p);
	return r;
}

/* ---------------------------------------------------------- ping, netcheck */

/* One round's answer as lines: a pong per answered target, a timeout
 * per silent one. Returns how many pongs. */
static int print_round(const json_t *ans, const char *peer)
{
	const json_t *res = json_object_get(ans, "results");
	char who[WM_KEY_B64_LEN + 8], rtt[24];
	int pongs = 0;
	size_t i;
	json_t *t;

	if (json_string_value(json_object_get(ans, "name")))
		snprintf(who, sizeof(who), "%s", str(ans, "name", "?"));
	else
		snprintf(who, sizeof(who), "%.8s..", peer);
	json_array_foreach(res, i, t) {
		bool relay = strcmp(str(t, "via", ""), "relay") == 0;
		const char *cur = json_is_true(json_object_get(t, "current"))
					  ? " (current path)" : "";

		if (!json_is_integer(json_object_get(t, "rtt_us"))) {
			printf("no pong from %s via %s%s (%s)%s\n", who,
			       relay ? "relay " : "", str(t, "to", "?"),
			       json_is_true(json_object_get(t, "sent"))
				       ? "timeout" : "send failed", cur);
			continue;
		}
		wm_cli_rtt(rtt, sizeof(rtt), json_object_get(t, "rtt_us"));
		printf("pong from %s via %s%s in %s%s\n", who,
		       relay ? "relay " : "", str(t, "to", "?"), rtt, cur);
		pongs++;
	}
	return pongs;
}

int wm_cmd_ping(int argc, char **argv)
{
	static const char usage[] =
		"wiremesh ping PEER [-c COUNT] [-t TIMEOUT_MS] [--json] "
		"[--socket PATH]";
	char b64[WM_KEY_B64_LEN + 1], url[160];
	json_t *all = NULL, *ans;
	int r, pongs = 0;
	struct opts o;
	long status;

	r = parse_opts_x(argc, argv, &o, usage, true);
	if (r)
		return r;
	if (argc - optind != 1) {
		fprintf(stderr, "usage: %s\n", usage);
		return 2;
	}
	r = resolve_peer(&o, argv[optind], b64);
	if (r)
		return r;
	snprintf(url, sizeof(url), "/v1/peers/%s/ping?timeout_ms=%ld", b64,
		 o.timeout_ms);
	if (o.json)
		all = json_array();
	for (long n = 0; n < o.count; n++) {
		struct timespec t0, t1, pause;
		long ms;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		status = 0;
		r = request(&o, "POST", url, NULL, &status, &ans);
		if (r)
			break;
		if (status / 100 != 2) {
			r = refused(status, ans);
			json_decref(ans);
			break;
		}
		if (o.json) {
			size_t i;
			json_t *t;

			json_array_append(all, ans);
			json_array_foreach(json_object_get(ans, "results"), i, t)
				pongs += json_is_integer(json_object_get(t, "rtt_us"));
		} else {
			pongs += print_round(ans, b64);
		}
		json_decref(ans);
		/* Rounds a second apart, as ping(8) does. */
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		     (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (n + 1 < o.count && ms < 1000) {
			pause.tv_sec = 0;
			pause.tv_nsec = (1000 - ms) * 1000000L;
			nanosleep(&pause, NULL);
		}
	}
	if (o.json) {
		print_json(all);
		json_decref(all);
	}
	if (r)
		return r;
	return pongs ? 0 : 1;
}

int wm_cmd_netcheck(int argc, char **argv)
{
	static const char usage[] = "wiremesh netcheck [--json] [--socket PATH]";
	const json_t *refl, *v;
	struct opts o;
	char rtt[24];
	json_t *j;
	size_t i;
	int r;

	r = parse_opts_only(argc, argv, &o, usage);
	if (r)
		return r;
	r = get(&o, "/v1/netcheck", &j);
	if (r)
		return r;
	if (o.json) {
		print_json(j);
		json_decref(j);
		return 0;
	}
	printf("netcheck:\n");
	printf("  UDP: %s\n",
	       json_is_true(json_object_get(j, "udp")) ? "yes" : "no");
	refl = json_object_get(j, "reflexive");
	printf("  reflexive addresses:");
	if (!json_array_size(refl))
		printf(" none");
	json_array_foreach(refl, i, v)
		printf("%s %s", i ? "," : "", json_string_value(v) ? json_string_value(v) : "?");
	printf("\n  mapping: %s\n", str(j, "mapping", "unknown"));
	json_array_foreach(json_object_get(j, "stun"), i, v) {
		wm_cli_rtt(rtt, sizeof(rtt), json_object_get(v, "latency_us"));
		if (json_is_true(json_object_get(v, "answered")))
			printf("  STUN %s: sees %s, latency %s\n",
			       str(v, "server", "?"), str(v, "reflexive", "?"),
			       rtt);
		else
			printf("  STUN %s: no answer\n", str(v, "server", "?"));
	}
	if (!json_array_size(json_object_get(j, "relays")))
		printf("  relay: none configured\n");
	json_array_foreach(json_object_get(j, "relays"), i, v) {
		wm_cli_rtt(rtt, sizeof(rtt), json_object_get(v, "latency_us"));
		if (json_is_true(json_object_get(v, "connected")))
			printf("  relay %s: connected (%s), latency %s\n",
			       str(v, "endpoint", "?"), str(v, "transport", "?"),
			       rtt);
		else
			printf("  relay %s: not connected\n",
			       str(v, "endpoint", "?"));
	}
	v = json_object_get(j, "port_mapping");
	if (str(v, "external", NULL))
		printf("  port mapping: %s, %s\n", str(v, "method", "?"),
		       str(v, "external", "?"));
	else if (strcmp(str(v, "method", "off"), "off") == 0)
		printf("  port mapping: off (PortMapping = off)\n");
	else
		printf("  port mapping: none (no NAT-PMP or UPnP IGD answered)\n");
	json_decref(j);
	return 0;
}
