/* See saveconfig.h. */
#include "api/saveconfig.h"
#include "crypto/ct.h"
#include "crypto/encoding.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* A section header line: "[Name]" after optional blanks. */
static bool section_line(const char *line, size_t len, bool *is_peer)
{
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	if (!len || *line != '[')
		return false;
	*is_peer = len >= 6 && strncasecmp(line, "[Peer]", 6) == 0;
	return true;
}

static void put_peer(FILE *f, const struct wm_config *cfg,
		     const struct wm_peer *p)
{
	const struct wm_peer_config *pc = NULL;
	char b64[WM_KEY_B64_LEN + 1], buf[WM_SOCKADDR_STRLEN];
	size_t n = wm_allowedips_list(&p->dev->allowedips, p, NULL, 0);
	struct wm_cidr *c = n ? calloc(n, sizeof(*c)) : NULL;

	for (size_t i = 0; i < cfg->n_peers && !pc; i++)
		if (memcmp(cfg->peers[i].public_key, p->public_key, 32) == 0)
			pc = &cfg->peers[i];
	wm_key_to_base64(b64, p->public_key);
	fprintf(f, "\n[Peer]\nPublicKey = %s\n", b64);
	if (p->name[0])
		fprintf(f, "Name = %s\n", p->name);
	if (!wm_ct_is_zero(p->noise.preshared_key, 32)) {
		wm_key_to_base64(b64, p->noise.preshared_key);
		fprintf(f, "PresharedKey = %s\n", b64);
		wm_memzero(b64, sizeof(b64));
	}
	if (c) {
		n = wm_allowedips_list(&p->dev->allowedips, p, c, n);
		fputs("AllowedIPs = ", f);
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%s%s", i ? ", " : "",
				wm_cidr_format(buf, sizeof(buf), &c[i]));
		fputc('\n', f);
		free(c);
	}
	if (p->endpoint.sa.sa_family != AF_UNSPEC) {
		if (pc && pc->has_endpoint &&
		    wm_sockaddr_equal(&pc->endpoint, &p->endpoint))
			fprintf(f, "Endpoint = %s\n", pc->endpoint_text);
		else
			fprintf(f, "Endpoint = %s\n",
				wm_sockaddr_format(buf, sizeof(buf),
						   &p->endpoint));
	}
	if (p->persistent_keepalive)
		fprintf(f, "PersistentKeepalive = %u\n", p->persistent_keepalive);
	if (p->path_mode != WM_PATH_AUTO)
		fprintf(f, "Path = %s\n", wm_path_mode_name(p->path_mode));
}

/* orig without its [Peer] sections and trailing blank lines. */
static char *interface_part(const char *orig, size_t *len)
{
	char *text = NULL;
	bool skipping = false;
	FILE *f = open_memstream(&text, len);

	if (!f)
		return NULL;
	for (const char *line = orig; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);
		bool peer;

		if (section_line(line, n, &peer))
			skipping = peer;
		if (!skipping)
			fwrite(line, 1, n, f);
		line += n;
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	while (*len && strchr("\r\n \t", text[*len - 1]))
		(*len)--;
	return text;
}

char *wm_saveconfig_render(const char *orig, const struct wm_config *cfg,
			   const struct wm_device *dev)
{
	char *head, *text = NULL;
	size_t head_len = 0, len = 0;
	FILE *f;
	bool bad;

	head = interface_part(orig, &head_len);
	if (!head)
		return NULL;
	f = open_memstream(&text, &len);
	if (f) {
		fwrite(head, 1, head_len, f);
		fputc('\n', f);
		for (const struct wm_peer *p = dev->peers; p; p = p->next)
			put_peer(f, cfg, p);
		bad = ferror(f) != 0;
		if (fclose(f) != 0 || bad) {
			if (text)
				wm_memzero(text, len);
			free(text);
			text = NULL;
		}
	}
	wm_memzero(head, head_len);
	free(head);
	return text;
}

static int read_file(const char *path, char **out, struct stat *st)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len = 0;
	FILE *m;
	char buf[4096];
	size_t n;
	int r = 0;

	if (!f)
		return -errno;
	if (fstat(fileno(f), st) < 0) {
		r = -errno;
		fclose(f);
		return r;
	}
	m = open_memstream(&text, &len);
	if (!m) {
		fclose(f);
		return -ENOMEM;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, m);
	if (ferror(f))
		r = -EIO;
	wm_memzero(buf, sizeof(buf));
	fclose(f);
	if (fclose(m) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		if (text)
			wm_memzero(text, len);
		free(text);
		return r;
	}
	*out = text;
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int wm_saveconfig_write(const struct wm_config *cfg,
			const struct wm_device *dev)
{
	char target[PATH_MAX], tmp[PATH_MAX + 16], dir[PATH_MAX];
	char *orig = NULL, *text;
	struct stat st;
	int fd, dfd, r;

	/* A symlinked config is updated at its target, not replaced. */
	if (!realpath(cfg->path, target))
		return -errno;
	r = read_file(target, &orig, &st);
	if (r < 0)
		return r;
	if (!orig)
		return -ENOMEM;
	text = wm_saveconfig_render(orig, cfg, dev);
	wm_memzero(orig, strlen(orig));
	free(orig);
	if (!text)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", target);
	/* mkstemp makes it 0600: the file holds the private key. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	/* Keep the old owner where we may; a non-root agent may not, and
	 * saving matters more. */
	r = 0;
	if (fchown(fd, st.st_uid, st.st_gid) < 0 && errno != EPERM)
		r = -errno;
	if (r == 0)
		r = write_all(fd, text, strlen(text));
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, target) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s", target);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd) < 0)
			r = -errno;
		close(dfd);
	}
out:
	wm_memzero(text, strlen(text));
	free(text);
	return r;
}
