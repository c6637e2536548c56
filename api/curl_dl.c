/* See curl_dl.h. */
#include "api/curl_dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* POSIX allows converting dlsym's void * to a function pointer; the cast
 * goes through this union so -Wpedantic stays quiet too. */
static int sym(struct wm_curl *c, void *slot, size_t size, const char *name,
	       char *err, size_t errlen)
{
	void *p = dlsym(c->lib, name);

	if (!p) {
		snprintf(err, errlen, "libcurl.so.4 lacks %s", name);
		return -1;
	}
	memcpy(slot, &p, size);
	return 0;
}

int wm_curl_load(struct wm_curl *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!c->lib) {
		snprintf(err, errlen, "%s", dlerror());
		return -1;
	}
#define SYM(field, name)                                                      \
	if (sym(c, &c->field, sizeof(c->field), name, err, errlen) < 0)       \
		goto fail
	SYM(easy_init, "curl_easy_init");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
	SYM(version_info, "curl_version_info");
#undef SYM
	return 0;
fail:
	wm_curl_unload(c);
	return -1;
}

void wm_curl_unload(struct wm_curl *c)
{
	if (c->lib)
		dlclose(c->lib);
	memset(c, 0, sizeof(*c));
}
