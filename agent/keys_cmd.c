/* See keys_cmd.h. */
#include "agent/keys_cmd.h"
#include "crypto/ct.h"
#include "crypto/encoding.h"
#include "crypto/random.h"
#include "crypto/x25519.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int usage(const char *name, int argc)
{
	if (argc == 1)
		return 0;
	fprintf(stderr, "Usage: wiremesh %s\n", name);
	return 2;
}

static int print_key(const uint8_t key[32])
{
	char b64[WM_KEY_B64_LEN + 1];

	wm_key_to_base64(b64, key);
	puts(b64);
	wm_memzero(b64, sizeof(b64));
	return fflush(stdout) == 0 ? 0 : 1;
}

/* Like wg: warn when the key would land in a world-readable file. */
static void warn_if_world_readable(void)
{
	struct stat st;

	if (fstat(fileno(stdout), &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & S_IRWXO))
		fputs("Warning: writing private key to world accessible file.\n",
		      stderr);
}

static int gen(const char *name, int argc, bool clamp)
{
	uint8_t key[32];
	int r = usage(name, argc);

	if (r)
		return r;
	if (wm_random_bytes(key, sizeof(key)) < 0) {
		perror("getrandom");
		return 1;
	}
	if (clamp) {
		warn_if_world_readable();
		wm_x25519_clamp(key);
	}
	r = print_key(key);
	wm_memzero(key, sizeof(key));
	return r;
}

int wm_cmd_genkey(int argc, char **argv)
{
	(void)argv;
	return gen("genkey", argc, true);
}

int wm_cmd_genpsk(int argc, char **argv)
{
	(void)argv;
	return gen("genpsk", argc, false);
}

int wm_cmd_pubkey(int argc, char **argv)
{
	char line[WM_KEY_B64_LEN + 2];
	uint8_t priv[32], pub[32];
	size_t n;
	int r = usage("pubkey", argc), c;

	(void)argv;
	if (r)
		return r;
	n = fread(line, 1, sizeof(line) - 1, stdin);
	line[n] = '\0';
	/* wg accepts trailing whitespace only, nothing after the key. */
	while (n > 0 && isspace((unsigned char)line[n - 1]))
		line[--n] = '\0';
	c = getchar();
	while (c != EOF && isspace(c))
		c = getchar();
	if (c != EOF || !wm_key_from_base64(priv, line)) {
		fputs("pubkey: Key is not the correct length or format\n",
		      stderr);
		wm_memzero(line, sizeof(line));
		return 1;
	}
	wm_x25519_clamp(priv);
	wm_x25519_public(pub, priv);
	r = print_key(pub);
	wm_memzero(priv, sizeof(priv));
	wm_memzero(line, sizeof(line));
	return r;
}
