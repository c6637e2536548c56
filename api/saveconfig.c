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

/* Like open_memstream, but the text holds keys: a copy left behind when
 * the buffer grows is wiped before it is freed, and the stream has no
 * stdio buffer of its own (unbuffered). *text and *len are current after
 * every write; the caller wipes and frees *text. */
struct secret_stream {
	char **text;
	size_t *len, cap;
};

static ssize_t secret_write(void *cookie, const char *buf, size_t n)
{
	struct secret_stream *s = cookie;
	size_t len = *s->len;

	if (len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 1024;
		char *b;
		while (cap < len + n + 1)
			cap *= 2;
		b = malloc(cap);
		if (!b)
			return -1;
		if (*s->text) {
			memcpy(b, *s->text, len);
			wm_memzero(*s->text, s->cap);
			free(*s->text);
		}
		*s->text = b;
		s->cap = cap;
	}
	memcpy(*s->text + len, buf, n);
	*s->len = len + n;
	(*s->text)[len + n] = '\0';
	return (ssize_t)n;
}

static int secret_close(void *cookie)
{
	free(cookie);
	return 0;
}

static FILE *secret_stream(char **text, size_t *len)
{
	static const cookie_io_functions_t io = { .write = secret_write,
						   .close = secret_close };
	struct secret_stream *s = calloc(1, sizeof(*s));
	FILE *f;

	if (!s)
		return NULL;
	*text = NULL;
	*len = 0;
	s->text = text;
	s->len = len;
	f = fopencookie(s, "w", io);
	if (!f) {
		free(s);
		return NULL;
	}
	setvbuf(f, NULL, _IONBF, 0);
	return f;
}

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

/* The [Interface] keys whose running value wins over the file's: `wg set`
 * changes them (private-key, listen-port, fwmark) and they must survive a
 * restart. */
enum { K_PRIVATE_KEY, K_LISTEN_PORT, K_FWMARK, K_N };
static const char *const running_keys[K_N] = { "PrivateKey", "ListenPort",
					       "FwMark" };

/* Which running key line is ("  Key = value"), K_N for any other. */
static int running_key_of(const char *line, size_t len)
{
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	for (int k = 0; k < K_N; k++) {
		size_t kl = strlen(running_keys[k]), i = kl;
		if (len <= kl || strncasecmp(line, running_keys[k], kl) != 0)
			continue;
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i < len && line[i] == '=')
			return k;
	}
	return K_N;
}

/* The running value of key k as a whole line, or nothing when it is the
 * default (no private key, a random port, no mark). A random port is not
 * pinned: cfg->listen_port is set only by the file or by `wg set`. */
static void put_running(FILE *f, int k, const struct wm_config *cfg,
			const struct wm_device *dev)
{
	char b64[WM_KEY_B64_LEN + 1];

	switch (k) {
	case K_PRIVATE_KEY:
		if (!dev->has_private_key)
			return;
		wm_key_to_base64(b64, dev->local.private_key);
		fprintf(f, "PrivateKey = %s\n", b64);
		wm_memzero(b64, sizeof(b64));
		return;
	case K_LISTEN_PORT:
		if (cfg->listen_port && dev->listen_port)
			fprintf(f, "ListenPort = %u\n", dev->listen_port);
		return;
	case K_FWMARK:
		if (dev->fwmark)
			fprintf(f, "FwMark = 0x%x\n", dev->fwmark);
		return;
	}
}

/* A running value that says nothing the file's line should be replaced
 * by: no private key (a file without one would not load again) or a port
 * nobody pinned. */
static bool keep_file_line(int k, const struct wm_config *cfg,
			   const struct wm_device *dev)
{
	return (k == K_PRIVATE_KEY && !dev->has_private_key) ||
	       (k == K_LISTEN_PORT && !(cfg->listen_port && dev->listen_port));
}

/* orig without its [Peer] sections and trailing blank lines; in
 * [Interface], the running keys replace the file's lines in place, and
 * those the file lacks follow its header. */
static char *interface_part(const char *orig, const struct wm_config *cfg,
			    const struct wm_device *dev, size_t *len)
{
	char *text = NULL;
	bool skipping = false, in_iface = false, had[K_N] = { false };
	FILE *f = secret_stream(&text, len);
	const char *first_iface = NULL;

	if (!f)
		return NULL;
	/* Which running keys the file has, to add the others. */
	for (const char *line = orig; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);
		bool peer;
		int k;

		if (section_line(line, n, &peer)) {
			in_iface = !peer && strncasecmp(line + strspn(line, " \t"),
							"[Interface]", 11) == 0;
			if (in_iface && !first_iface)
				first_iface = line;
		} else if (in_iface && (k = running_key_of(line, n)) < K_N) {
			had[k] = true;
		}
		line += n;
	}
	in_iface = false;
	for (const char *line = orig; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);
		bool peer;
		int k;

		if (section_line(line, n, &peer)) {
			skipping = peer;
			in_iface = line == first_iface;
		}
		if (skipping) {
			line += n;
			continue;
		}
		if (in_iface && line != first_iface &&
		    (k = running_key_of(line, n)) < K_N && !keep_file_line(k, cfg, dev)) {
			put_running(f, k, cfg, dev);
		} else {
			fwrite(line, 1, n, f);
			if (!nl && line == first_iface)
				fputc('\n', f);
		}
		if (line == first_iface)
			for (k = 0; k < K_N; k++)
				if (!had[k])
					put_running(f, k, cfg, dev);
		line += n;
	}
	if (fclose(f) != 0) {
		if (text)
			wm_memzero(text, *len);
		free(text);
		return NULL;
	}
	if (!text) /* nothing outside [Peer] sections */
		return strdup("");
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

	head = interface_part(orig, cfg, dev, &head_len);
	if (!head)
		return NULL;
	f = secret_stream(&text, &len);
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
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *text = NULL;
	size_t len = 0;
	FILE *m;
	char buf[4096];
	ssize_t n;
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	m = secret_stream(&text, &len);
	if (!m) {
		close(fd);
		return -ENOMEM;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (fwrite(buf, 1, (size_t)n, m) != (size_t)n) {
			r = -ENOMEM;
			break;
		}
	}
	wm_memzero(buf, sizeof(buf));
	close(fd);
	if (fclose(m) != 0 && r == 0)
		r = -ENOMEM;
	if (r == 0 && !text)
		text = strdup(""); /* an empty file */
	if (r < 0 || !text) {
		if (text)
			wm_memzero(text, len);
		free(text);
		return r < 0 ? r : -ENOMEM;
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
