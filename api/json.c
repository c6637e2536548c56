/* See json.h. */
#include "api/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const struct {
	unsigned status;
	const char *code;
} codes[] = {
	{ 400, "bad_request" },
	{ 401, "unauthorized" },
	{ 403, "forbidden" },
	{ 404, "not_found" },
	{ 405, "method_not_allowed" },
	{ 409, "conflict" },
	{ 413, "payload_too_large" },
	{ 415, "unsupported_media_type" },
	{ 422, "unprocessable" },
	{ 500, "internal" },
	{ 503, "unavailable" },
};

const char *wm_json_error_code(unsigned status)
{
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].status == status)
			return codes[i].code;
	return "error";
}

json_t *wm_json_error_body(unsigned status, const char *message)
{
	return json_pack("{s:{s:s,s:s}}", "error", "code",
			 wm_json_error_code(status), "message", message);
}

/* Every response passes here: one place for the common headers. */
static wm_mhd_result queue(struct MHD_Connection *c, unsigned status,
			   struct MHD_Response *r, const char *content_type,
			   const char *header, const char *value)
{
	wm_mhd_result ret;

	if (!r)
		return MHD_NO;
	if (content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					content_type);
	/* State changes under the client's feet; no cache may keep it. */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (header)
		MHD_add_response_header(r, header, value);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

wm_mhd_result wm_json_respond_text(struct MHD_Connection *c, unsigned status,
				   const char *content_type, char *text,
				   size_t len)
{
	struct MHD_Response *r;

	if (!text)
		return MHD_NO;
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	return queue(c, status, r, content_type, NULL, NULL);
}

#define DUMP_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER)

static wm_mhd_result respond_json_hdr(struct MHD_Connection *c,
				      unsigned status, json_t *body,
				      const char *header, const char *value)
{
	struct MHD_Response *r;
	char *text;
	size_t len;

	if (!body) {
		status = 500;
		body = wm_json_error_body(500, "out of memory");
		if (!body)
			return MHD_NO;
	}
	/* Sized first so the trailing newline curl users expect fits. */
	len = json_dumpb(body, NULL, 0, DUMP_FLAGS);
	text = len ? malloc(len + 1) : NULL;
	if (text && json_dumpb(body, text, len, DUMP_FLAGS) == len) {
		text[len++] = '\n';
	} else {
		free(text);
		text = NULL;
	}
	json_decref(body);
	if (!text)
		return MHD_NO;
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	return queue(c, status, r, "application/json", header, value);
}

wm_mhd_result wm_json_respond(struct MHD_Connection *c, unsigned status,
			      json_t *body)
{
	return respond_json_hdr(c, status, body, NULL, NULL);
}

static wm_mhd_result verror(struct MHD_Connection *c, unsigned status,
			    const char *header, const char *value,
			    const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return respond_json_hdr(c, status, wm_json_error_body(status, msg),
				header, value);
}

wm_mhd_result wm_json_respond_error(struct MHD_Connection *c, unsigned status,
				    const char *fmt, ...)
{
	wm_mhd_result r;
	va_list ap;

	va_start(ap, fmt);
	r = verror(c, status, NULL, NULL, fmt, ap);
	va_end(ap);
	return r;
}

wm_mhd_result wm_json_respond_error_hdr(struct MHD_Connection *c,
					unsigned status, const char *header,
					const char *value, const char *fmt,
					...)
{
	wm_mhd_result r;
	va_list ap;

	va_start(ap, fmt);
	r = verror(c, status, header, value, fmt, ap);
	va_end(ap);
	return r;
}

wm_mhd_result wm_json_respond_empty(struct MHD_Connection *c, unsigned status)
{
	return wm_json_respond_empty_hdr(c, status, NULL, NULL);
}

wm_mhd_result wm_json_respond_empty_hdr(struct MHD_Connection *c,
					unsigned status, const char *header,
					const char *value)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	return queue(c, status, r, NULL, header, value);
}

wm_mhd_result wm_json_respond_page(struct MHD_Connection *c, const char *html,
				   size_t len)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(len, (void *)html,
					    MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	/* The page is all inline and talks only to its own origin; no
	 * other site may frame it (no clicking its buttons from afar). */
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'none'; script-src 'unsafe-inline'; "
				"style-src 'unsafe-inline'; connect-src 'self'; "
				"img-src data:; frame-ancestors 'none'; "
				"base-uri 'none'; form-action 'none'");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	return queue(c, 200, r, "text/html; charset=utf-8", NULL, NULL);
}

bool wm_json_media_type_ok(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

unsigned wm_json_parse_body(const char *content_type, const char *body,
			    size_t len, json_t **out, char *msg, size_t cap)
{
	json_error_t err;
	json_t *j;

	*out = NULL;
	if (!wm_json_media_type_ok(content_type)) {
		snprintf(msg, cap, "the body must be application/json, not '%s'",
			 content_type ? content_type : "(none)");
		return 415;
	}
	if (len > WM_JSON_BODY_MAX) {
		snprintf(msg, cap, "the body exceeds %d bytes", WM_JSON_BODY_MAX);
		return 413;
	}
	if (len == 0) {
		snprintf(msg, cap, "the body is empty; a JSON object is expected");
		return 400;
	}
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
	if (!j) {
		snprintf(msg, cap, "invalid JSON at line %d column %d: %s",
			 err.line, err.column, err.text);
		return 400;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		snprintf(msg, cap, "the body must be a JSON object");
		return 422;
	}
	*out = j;
	return 0;
}

char *wm_json_rfc3339(char out[32], int64_t secs)
{
	struct tm tm;
	time_t t = (time_t)secs;

	if (secs < 0 || !gmtime_r(&t, &tm) ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return NULL;
	return out;
}
