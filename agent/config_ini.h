/*
 * config_ini.h - reads wg-quick style INI text: "[Section]" headers,
 * "Key = Value" pairs and comments, from a file or a string, one line at a
 * time, and reports errors as "FILE:LINE: KEY: message".
 *
 * The reader knows no section or key names. It hands every header and
 * pair to the caller's callbacks (the agent's schema in agent/config.c,
 * the relay's in agent/relay/config.c), which give them a meaning and
 * report through wm_ini_fail. What it enforces itself: lines are UTF-8
 * without control characters (tab allowed) and at most WM_CONFIG_LINE_MAX
 * bytes; "#" starts a comment anywhere, ";" only at the start of a line
 * (wg-quick's PostUp commands use it); a key name is letters and digits;
 * spaces and tabs around names and values are dropped.
 *
 * Every message goes to ini->err (NULL: silent) as "PATH[:LINE][: KEY]:
 * message", and the call returns false; a program exits 2 on it.
 */
#ifndef WM_AGENT_CONFIG_INI_H
#define WM_AGENT_CONFIG_INI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum {
	WM_CONFIG_LINE_MAX = 4096, /* bytes per line, newline excluded */
	WM_CONFIG_PATH_MAX = 4096,
};

/* Where the reader is, for messages; callers own it. */
struct wm_ini {
	FILE *err;          /* NULL: silent */
	const char *path;   /* prefixes every message; must outlive ini */
	unsigned lineno;    /* 0: the message names no line */
	const char *key;    /* NULL: the message names no key */
	bool failed;        /* set by wm_ini_fail */
};

/* What a schema does with the lines; both return false after reporting
 * through wm_ini_fail. name and value are trimmed, in a buffer that is
 * wiped when the line is done (values may be secrets). */
struct wm_ini_ops {
	bool (*section)(void *arg, const char *name);
	bool (*pair)(void *arg, const char *name, const char *value);
};

/* Zeroes ini; path is the file's name as messages should show it. */
void wm_ini_init(struct wm_ini *ini, const char *path, FILE *err);

/* Prints "PATH[:LINE][: KEY]: message" to ini->err, marks ini failed and
 * returns false, so that `return wm_ini_fail(...)` ends a parser. */
__attribute__((format(printf, 2, 3)))
bool wm_ini_fail(struct wm_ini *ini, const char *fmt, ...);

/* One line numbered lineno, "\n" or "\r\n" optional: a comment or blank
 * line, a header (ops->section) or a pair (ops->pair). ini->key is NULL
 * when it starts and after a pair that succeeds. */
bool wm_ini_line(struct wm_ini *ini, const struct wm_ini_ops *ops, void *arg,
		 const char *line, unsigned lineno);

/* Every line of the file at ini->path. secret: warn (not fail) when every
 * user may read the file, as it holds a private key. */
bool wm_ini_read_file(struct wm_ini *ini, const struct wm_ini_ops *ops,
		      void *arg, bool secret);
/* Every line of text, as if it were the file at ini->path. */
bool wm_ini_read_string(struct wm_ini *ini, const struct wm_ini_ops *ops,
			void *arg, const char *text);

/* Called with each item of a list file; false after reporting (with
 * wm_ini_fail, naming path and lineno in the message). */
typedef bool (*wm_ini_item_fn)(void *arg, const char *item, const char *path,
			       unsigned lineno);
/*
 * Reads the list file a value names (like AllowedClientsFile = clients):
 * a path relative to ini->path's directory, one item per line, "#"
 * comments, blank lines skipped. Errors name the current key's line and
 * then "LISTPATH:LINE: ...".
 */
bool wm_ini_read_list(struct wm_ini *ini, const char *value,
		      wm_ini_item_fn item, void *arg);

/* Spaces and tabs off both ends, in place; returns the new start. */
char *wm_ini_trim(char *s);
/* ASCII case-insensitive equality, whatever the locale. */
bool wm_ini_eq_nocase(const char *a, const char *b);

#endif
