/* See config_ini.h. */
#include "agent/config_ini.h"
#include "crypto/ct.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

/* --- characters, locale-independent ------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool wm_ini_eq_nocase(const char *a, const char *b)
{
	while (*a && lower(*a) == lower(*b))
		a++, b++;
	return lower(*a) == lower(*b);
}

char *wm_ini_trim(char *s)
{
	size_t n;

	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n && is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* NULL when s is valid UTF-8 without control characters (tab allowed). */
static const char *text_problem(const unsigned char *s, size_t *col)
{
	const unsigned char *start = s;

	while (*s) {
		unsigned c = *s, cp, min;
		size_t n;

		*col = (size_t)(s - start) + 1;
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return "control character";
			s++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			n = 1, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			n = 2, cp = c & 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			n = 3, cp = c & 0x07, min = 0x10000;
		else
			return "invalid UTF-8";
		/* Stops at a NUL too: it is not a continuation byte. */
		for (size_t i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return "invalid UTF-8";
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return "invalid UTF-8";
		s += n + 1;
	}
	return NULL;
}

/* --- errors ------------------------------------------------------------- */

void wm_ini_init(struct wm_ini *ini, const char *path, FILE *err)
{
	memset(ini, 0, sizeof(*ini));
	ini->path = path;
	ini->err = err;
}

bool wm_ini_fail(struct wm_ini *ini, const char *fmt, ...)
{
	va_list ap;

	ini->failed = true;
	if (!ini->err)
		return false;
	fputs(ini->path, ini->err);
	if (ini->lineno)
		fprintf(ini->err, ":%u", ini->lineno);
	if (ini->key)
		fprintf(ini->err, ": %s", ini->key);
	fputs(": ", ini->err);
	va_start(ap, fmt);
	vfprintf(ini->err, fmt, ap);
	va_end(ap);
	fputc('\n', ini->err);
	return false;
}

/* --- lines -------------------------------------------------------------- */

static bool header(struct wm_ini *ini, const struct wm_ini_ops *ops, void *arg,
		   char *s)
{
	char *close = strchr(s, ']');

	if (!close || *wm_ini_trim(close + 1))
		return wm_ini_fail(ini, "not a section header: '%s'", s);
	*close = '\0';
	return ops->section(arg, wm_ini_trim(s + 1));
}

/* Quotes only the first word: "PrivateKey <key>" lacks its '=' and the
 * key's base64 padding would pass for one. */
static bool malformed(struct wm_ini *ini, const char *s, size_t w)
{
	return wm_ini_fail(ini, "expected 'Key = Value' or '[Section]', got "
				"'%.*s%s'", (int)(w > 24 ? 24 : w), s,
			   w > 24 ? "..." : "");
}

static bool pair(struct wm_ini *ini, const struct wm_ini_ops *ops, void *arg,
		 char *s)
{
	char *eq = strchr(s, '='), *name, *value;
	size_t w = strcspn(s, " \t=");

	if (!eq)
		return malformed(ini, s, w);
	*eq = '\0';
	name = wm_ini_trim(s);
	value = wm_ini_trim(eq + 1);
	if (!*name)
		return wm_ini_fail(ini, "no key name before '='");
	for (const char *c = name; *c; c++)
		if (!is_alnum(*c))
			return malformed(ini, s, w);
	if (!ops->pair(arg, name, value))
		return false;
	ini->key = NULL;
	return true;
}

bool wm_ini_line(struct wm_ini *ini, const struct wm_ini_ops *ops, void *arg,
		 const char *line, unsigned lineno)
{
	char buf[WM_CONFIG_LINE_MAX + 1], *s, *hash;
	size_t len = strlen(line), col;
	const char *why;
	bool ok;

	ini->lineno = lineno;
	ini->key = NULL;
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	if (len > WM_CONFIG_LINE_MAX)
		return wm_ini_fail(ini, "line too long (%zu bytes, at most %d)",
				   len, WM_CONFIG_LINE_MAX);
	memcpy(buf, line, len);
	buf[len] = '\0';
	why = text_problem((const unsigned char *)buf, &col);
	if (why) {
		ok = wm_ini_fail(ini, "%s at column %zu", why, col);
		goto out;
	}
	hash = strchr(buf, '#');
	if (hash)
		*hash = '\0';
	s = wm_ini_trim(buf);
	if (!*s || *s == ';')
		ok = true;
	else if (*s == '[')
		ok = header(ini, ops, arg, s);
	else
		ok = pair(ini, ops, arg, s);
out:
	wm_memzero(buf, sizeof(buf));
	return ok;
}

/* --- reading ------------------------------------------------------------ */

/*
 * Reads one line without its '\n' into buf. Returns 1 for a line, 0 at
 * the end, -1 for a line longer than cap - 1, -2 for a NUL byte, -3 for a
 * read error (errno set). Bounded, unlike getline: a config may be
 * /dev/zero by mistake.
 */
static int read_line(FILE *f, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (c == '\0')
			return -2;
		if (n + 1 >= cap)
			return -1;
		buf[n++] = (char)c;
	}
	if (ferror(f))
		return -3;
	buf[n] = '\0';
	*len = n;
	return c == EOF && n == 0 ? 0 : 1;
}

/* The file ini->path itself is named by the message prefix alone. */
static FILE *open_file(struct wm_ini *ini, const char *path)
{
	FILE *f = fopen(path, "re");
	struct stat st;

	if (path == ini->path)
		path = "";
	if (!f) {
		wm_ini_fail(ini, "cannot open%s%s%s: %s", *path ? " '" : "",
			    path, *path ? "'" : "", strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		wm_ini_fail(ini, "%s%s%sis a directory", *path ? "'" : "", path,
			    *path ? "' " : "");
		return NULL;
	}
	return f;
}

bool wm_ini_read_file(struct wm_ini *ini, const struct wm_ini_ops *ops,
		      void *arg, bool secret)
{
	char line[WM_CONFIG_LINE_MAX + 2], iobuf[4096];
	unsigned lineno = 0;
	struct stat st;
	size_t len;
	bool ok = true;
	FILE *f;
	int r;

	f = open_file(ini, ini->path);
	if (!f)
		return false;
	/* stdio's own buffer would be freed unwiped with the private key in
	 * it: read through ours, wiped below. */
	setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
	if (secret && ini->err && fstat(fileno(f), &st) == 0 &&
	    (st.st_mode & S_IROTH))
		fprintf(ini->err, "%s: warning: readable by every user, and it "
				  "holds a private key\n", ini->path);
	while (ok && (r = read_line(f, line, sizeof(line), &len)) > 0)
		ok = wm_ini_line(ini, ops, arg, line, ++lineno);
	if (ok && r < 0) {
		ini->lineno = lineno + 1;
		ok = wm_ini_fail(ini, "%s", r == -1 ? "line too long (more than "
						      "4096 bytes)" :
					    r == -2 ? "NUL byte" : strerror(errno));
	}
	wm_memzero(line, sizeof(line));
	fclose(f);
	wm_memzero(iobuf, sizeof(iobuf));
	return ok;
}

bool wm_ini_read_string(struct wm_ini *ini, const struct wm_ini_ops *ops,
			void *arg, const char *text)
{
	char line[WM_CONFIG_LINE_MAX + 2];
	unsigned lineno = 0;
	bool ok = true;

	while (ok && *text) {
		size_t n = strcspn(text, "\n");

		lineno++;
		if (n >= sizeof(line)) {
			ini->lineno = lineno;
			ok = wm_ini_fail(ini, "line too long (%zu bytes, at most "
					      "%d)", n, WM_CONFIG_LINE_MAX);
			break;
		}
		memcpy(line, text, n);
		line[n] = '\0';
		ok = wm_ini_line(ini, ops, arg, line, lineno);
		text += n + (text[n] == '\n');
	}
	wm_memzero(line, sizeof(line));
	return ok;
}

bool wm_ini_read_list(struct wm_ini *ini, const char *value,
		      wm_ini_item_fn item, void *arg)
{
	char path[2 * WM_CONFIG_PATH_MAX + 2], line[WM_CONFIG_LINE_MAX + 1];
	const char *slash = strrchr(ini->path, '/'), *why;
	unsigned n = 0;
	size_t len, col;
	bool ok = true;
	FILE *f;
	int r;

	if (!value[0])
		return wm_ini_fail(ini, "empty value");
	/* Relative to the config file, where an operator would keep it. */
	if (value[0] != '/' && slash)
		snprintf(path, sizeof(path), "%.*s/%s",
			 (int)(slash - ini->path), ini->path, value);
	else
		snprintf(path, sizeof(path), "%s", value);
	f = open_file(ini, path);
	if (!f)
		return false;
	while (ok && (r = read_line(f, line, sizeof(line), &len)) > 0) {
		char *hash = strchr(line, '#'), *s;

		n++;
		if (len && line[len - 1] == '\r')
			line[--len] = '\0';
		if ((why = text_problem((const unsigned char *)line, &col))) {
			ok = wm_ini_fail(ini, "%s:%u: %s at column %zu", path, n,
					 why, col);
			break;
		}
		if (hash)
			*hash = '\0';
		s = wm_ini_trim(line);
		if (*s)
			ok = item(arg, s, path, n);
	}
	if (ok && r < 0)
		ok = wm_ini_fail(ini, "%s:%u: %s", path, n + 1,
				 r == -1 ? "line too long" :
				 r == -2 ? "NUL byte" : strerror(errno));
	fclose(f);
	return ok;
}
