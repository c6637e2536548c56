/*
 * fuzz_config.c - the agent and relay config files (agent/config.h,
 * agent/relay/config.h, both read by agent/config_ini.h).
 *
 * Each input is one file's text, fed to all four entry points the
 * programs use: wm_config_parse_string and wm_relay_config_parse_string
 * (as the unit tests and the API's save path do), and wm_config_load /
 * wm_relay_config_load on the same bytes as a file (what
 * `wiremesh agent --config` and `wiremesh relay --config` call; NUL bytes
 * and long lines reach their line reader). The file is a memory stream
 * (fuzz_memfile: fopen is wrapped), so no input costs a file write. Errors are printed to
 * /dev/null so the message formatting runs too.
 *
 * Checked besides "no crash": a file without NUL bytes, CR or long lines
 * gets the same verdict from the string and the file reader; an accepted
 * agent config has an ifname of "wm0", masked AllowedIPs, a public key,
 * no duplicate peers, and each Endpoint either an address or a name left
 * for wm_config_resolve, never both.
 *
 * Side effects are contained: parsing asks no DNS (an Endpoint = name is
 * kept as text, and this target never calls wm_config_resolve), so it
 * does not rely on build.sh's --wrap=getaddrinfo, which stays for the
 * other targets; and AllowedClientsFile = is only allowed
 * without a '/', so it names a file in this target's own (nonexistent)
 * directory: "clients" and "bad-clients" are served from memory, any
 * other name is missing, and never /dev/stdin or a FIFO; inputs with such
 * a line skip the relay parsers.
 */
#include "common.h"
#include "agent/config.h"
#include "agent/relay/config.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { INPUT_MAX = 64 * 1024 };

/* Nothing is written: the "files" are served from memory by the fopen
 * wrapper (common.h), under a directory that does not exist, so any other
 * name a config gives fails to open like a missing file. */
#define DIR "/nonexistent-wm-fuzz-config"
static const char agent_path[] = DIR "/wm0.conf";
static const char relay_path[] = DIR "/relay.conf";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char clients[] =
		"# relay clients\n"
		"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
		"\n"
		"HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw= # b\n"
		"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\r\n";
	static const char bad[] = "not-a-key\n";

	(void)argc;
	(void)argv;
	fuzz_memfile(DIR "/clients", clients, sizeof(clients) - 1);
	fuzz_memfile(DIR "/bad-clients", bad, sizeof(bad) - 1);
	return 0;
}

/* True when some line names AllowedClientsFile and holds a '/' (a path
 * out of our directory). Deliberately broader than the parser's own
 * rules: any case, anywhere in the line, NULs skipped. */
static bool opens_outside(const uint8_t *data, size_t size)
{
	static const char word[] = "allowedclientsfile";
	size_t match = 0;
	bool named = false, slash = false;

	for (size_t i = 0; i <= size; i++) {
		int c = i < size ? data[i] : '\n';

		if (c == '\n') {
			if (named && slash)
				return true;
			named = slash = false;
			match = 0;
			continue;
		}
		if (c == '/')
			slash = true;
		if (c == '\0')
			continue;
		if (tolower(c) == word[match]) {
			if (++match == sizeof(word) - 1) {
				named = true;
				match = 0;
			}
		} else {
			match = tolower(c) == word[0];
		}
	}
	return false;
}

/* No NUL, no CR and no line near the limit: both readers must agree. */
static bool plain_text(const uint8_t *data, size_t size)
{
	size_t line = 0;

	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\0' || data[i] == '\r')
			return false;
		line = data[i] == '\n' ? 0 : line + 1;
		if (line >= WM_CONFIG_LINE_MAX - 8)
			return false;
	}
	return true;
}

static void check_agent(const struct wm_config *cfg)
{
	static const uint8_t zero[32];

	if (strcmp(cfg->ifname, "wm0") != 0)
		fuzz_fail("ifname '%s'", cfg->ifname);
	if (memcmp(cfg->private_key, zero, 32) != 0 &&
	    memcmp(cfg->public_key, zero, 32) == 0)
		fuzz_fail("private key without a public key");
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct wm_peer_config *p = &cfg->peers[i];

		for (size_t j = 0; j < p->allowed_ips.len; j++) {
			struct wm_cidr c = p->allowed_ips.items[j];

			wm_cidr_mask(&c);
			if (!wm_cidr_equal(&c, &p->allowed_ips.items[j]))
				fuzz_fail("peer %zu: AllowedIPs %zu not masked", i, j);
		}
		for (size_t j = 0; j < i; j++)
			if (memcmp(cfg->peers[j].public_key, p->public_key, 32) == 0)
				fuzz_fail("peers %zu and %zu share a key", j, i);
		if (p->has_endpoint && p->endpoint_unresolved)
			fuzz_fail("peer %zu: endpoint both parsed and pending", i);
		if ((p->has_endpoint || p->endpoint_unresolved) &&
		    (!p->endpoint_text[0] || !p->endpoint_line))
			fuzz_fail("peer %zu: endpoint without its text or line", i);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wm_config cfg;
	struct wm_relay_config *rcfg;
	bool relay_ok = !opens_outside(data, size);
	bool s_ok, f_ok;
	char *text;

	if (size > INPUT_MAX)
		return 0;
	text = fuzz_cstr(data, size);
	rcfg = malloc(sizeof(*rcfg));
	if (!rcfg)
		abort();

	s_ok = wm_config_parse_string(&cfg, "wm0.conf", text, fuzz_devnull());
	if (s_ok) {
		check_agent(&cfg);
		wm_config_free(&cfg);
	}
	fuzz_memfile(agent_path, data, size);
	f_ok = wm_config_load(&cfg, agent_path, fuzz_devnull());
	if (f_ok) {
		check_agent(&cfg);
		wm_config_free(&cfg);
	}
	if (plain_text(data, size) && s_ok != f_ok)
		fuzz_fail("agent config: parse_string says %d, load says %d",
			  s_ok, f_ok);

	if (relay_ok) {
		s_ok = wm_relay_config_parse_string(rcfg, relay_path, text,
						    fuzz_devnull());
		if (s_ok)
			wm_relay_config_free(rcfg);
		fuzz_memfile(relay_path, data, size);
		f_ok = wm_relay_config_load(rcfg, relay_path, fuzz_devnull());
		if (f_ok)
			wm_relay_config_free(rcfg);
		if (plain_text(data, size) && s_ok != f_ok)
			fuzz_fail("relay config: parse_string says %d, load says %d",
				  s_ok, f_ok);
	}
	free(rcfg);
	free(text);
	return 0;
}
