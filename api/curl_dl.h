/*
 * curl_dl.h - libcurl, loaded only when the CLI needs it.
 *
 * The agent and the relay never speak HTTP as clients, yet linking libcurl
 * maps it and its twenty-odd dependencies (OpenSSL, Kerberos, LDAP, SSH...)
 * into every long-running process: several megabytes of resident pages
 * for nothing. So the CLI opens libcurl.so.4 at run time; the package
 * depends on it explicitly. <curl/curl.h> is used for its types only.
 */
#ifndef WM_API_CURL_DL_H
#define WM_API_CURL_DL_H

#include <curl/curl.h>
#include <stddef.h>

struct wm_curl {
	void *lib;
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	curl_version_info_data *(*version_info)(CURLversion);
};

/* Opens libcurl.so.4 and resolves what the CLI uses. 0, or -1 with the
 * loader's message in err. */
int wm_curl_load(struct wm_curl *c, char *err, size_t errlen);
void wm_curl_unload(struct wm_curl *c);

#endif
