/*
 * main.c - subcommand dispatch. One table drives both dispatch and help.
 */
#include "agent/agent.h"
#include "agent/keys_cmd.h"
#include "agent/relay/server.h"
#include "api/cli.h"
#include "api/curl_dl.h"
#include "api/json_wipe.h"
#include "agent/version.h"
#include "crypto/aead.h"
#include "crypto/x25519.h"

#include <bearssl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netlink/version.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int cmd_version(int argc, char **argv)
{
	struct wm_curl cu;
	char err[256];
	const char *curl = "not installed";

	(void)argc;
	(void)argv;
	if (wm_curl_load(&cu, err, sizeof(err)) == 0)
		curl = cu.version_info(CURLVERSION_NOW)->version;
	printf("wiremesh %s\n", WM_VERSION);
	printf("crypto: %s, %s, blake2s/hchacha20 built in\n",
	       wm_aead_impl_name(), wm_x25519_impl_name());
	printf("libraries: libmicrohttpd %s, jansson %s, libcurl %s, libnl %s\n",
	       MHD_get_version(), jansson_version_str(), curl, LIBNL_VERSION);
	printf("build: gcc %d.%d, %s, fortify %d, stack-protector-strong %s, CET %s, PIE %s%s%s\n",
	       __GNUC__, __GNUC_MINOR__,
#ifdef __OPTIMIZE__
	       "optimized",
#else
	       "not optimized",
#endif
#ifdef _FORTIFY_SOURCE
	       _FORTIFY_SOURCE,
#else
	       0,
#endif
#ifdef __SSP_STRONG__
	       "on",
#else
	       "off",
#endif
#ifdef __CET__
	       "on",
#else
	       "off",
#endif
#ifdef __PIE__
	       "on",
#else
	       "off",
#endif
#ifdef __SANITIZE_ADDRESS__
	       ", ASan",
#else
	       "",
#endif
#ifdef WM_TEST_FAST_TIMERS
	       ", TEST BUILD with shortened protocol timers"
#else
	       ""
#endif
	);
	if (cu.lib)
		wm_curl_unload(&cu);
	return 0;
}

static int cmd_help(int argc, char **argv);

static const struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "agent", wm_cmd_agent, "run the mesh agent: agent --config FILE [--check-config]" },
	{ "relay", wm_cmd_relay, "run a relay + STUN server: relay --config FILE [--check-config]" },
	{ "status", wm_cmd_status, "show the agent's status (--json, --socket PATH)" },
	{ "peers", wm_cmd_peers, "list peers: path, endpoint, handshake, bytes, rtt (--json)" },
	{ "path", wm_cmd_path, "force a peer's path: path PEER auto|direct|relay" },
	{ "ping", wm_cmd_ping, "disco-ping a peer on every path: ping PEER [-c N] [-t MS]" },
	{ "netcheck", wm_cmd_netcheck, "UDP, reflexive addresses, NAT mapping, relay latency" },
	{ "genkey", wm_cmd_genkey, "print a new private key (base64)" },
	{ "pubkey", wm_cmd_pubkey, "read a private key on stdin, print its public key" },
	{ "genpsk", wm_cmd_genpsk, "print a new preshared key (base64)" },
	{ "version", cmd_version, "print version and build details" },
	{ "help", cmd_help, "show this help" },
};

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("usage: wiremesh <command> [arguments]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-10s %s\n", commands[i].name, commands[i].help);
	return 0;
}

/* The one binary is also `wiremesh-wg` when called by that name (a link
 * to it), as wireguard-go is called by wg-quick. */
static bool called_as(const char *argv0, const char *name)
{
	const char *base = argv0 ? strrchr(argv0, '/') : NULL;

	base = base ? base + 1 : argv0;
	return base && strcmp(base, name) == 0;
}

int main(int argc, char **argv)
{
	/* Before any JSON exists: API bodies carry preshared keys. */
	wm_json_wipe_on_free();
	if (called_as(argv[0], "wiremesh-wg"))
		return wm_cmd_wg(argc, argv);
	if (argc < 2) {
		cmd_help(argc, argv);
		return 2;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(argc, argv);
	fprintf(stderr, "wiremesh: unknown command '%s' (try 'wiremesh help')\n",
		argv[1]);
	return 2;
}
