/* See events.h. */
#include "api/events.h"
#include "api/json.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* One queued record. */
struct rec {
	struct rec *next;
	size_t len;
	char text[];
};

struct wm_events_client {
	struct wm_events_client *next;
	struct wm_events *hub;
	struct MHD_Connection *conn;
	struct rec *head, **tail; /* records not yet sent, oldest first */
	size_t queued;            /* their bytes */
	size_t off;               /* bytes of head already sent */
	bool suspended;
	bool closing;             /* end the stream cleanly */
	bool dropped;             /* too slow: end it with an error */
};

void wm_events_init(struct wm_events *h)
{
	memset(h, 0, sizeof(*h));
	h->next_id = 1;
}

static void pop(struct wm_events_client *c)
{
	struct rec *r = c->head;

	c->head = r->next;
	if (!c->head)
		c->tail = &c->head;
	c->queued -= r->len;
	c->off = 0;
	free(r);
}

static void clear_queue(struct wm_events_client *c)
{
	while (c->head)
		pop(c);
}

static void wake(struct wm_events_client *c)
{
	if (c->suspended) {
		c->suspended = false;
		MHD_resume_connection(c->conn);
	}
}

static void push(struct wm_events_client *c, const char *text, size_t len)
{
	struct rec *r;

	if (c->dropped || c->closing)
		return;
	if (c->queued + len > WM_EVENTS_QUEUE_BYTES) {
		clear_queue(c);
		c->dropped = true;
		wake(c);
		return;
	}
	r = malloc(sizeof(*r) + len);
	if (!r)
		return;
	r->next = NULL;
	r->len = len;
	memcpy(r->text, text, len);
	*c->tail = r;
	c->tail = &r->next;
	c->queued += len;
	wake(c);
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct wm_events_client *c = cls;
	size_t n = 0;

	(void)pos;
	if (c->dropped)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	while (c->head && n < max) {
		struct rec *r = c->head;
		size_t take = r->len - c->off;

		if (take > max - n)
			take = max - n;
		memcpy(buf + n, r->text + c->off, take);
		n += take;
		c->off += take;
		if (c->off == r->len)
			pop(c);
	}
	if (n)
		return (ssize_t)n;
	if (c->closing)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* Nothing to send: park the connection until push() wakes it,
	 * rather than have MHD call us again at once. */
	MHD_suspend_connection(c->conn);
	c->suspended = true;
	return 0;
}

/* MHD drops the response when the connection ends, for whatever reason. */
static void client_free(void *cls)
{
	struct wm_events_client *c = cls;
	struct wm_events_client **pp;

	for (pp = &c->hub->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			c->hub->n_clients--;
			break;
		}
	}
	clear_queue(c);
	free(c);
}

/* A client that hung up while its stream was parked: nothing tells MHD
 * until the stream next writes (the keepalive, up to 15 s on). */
static bool hung_up(const struct wm_events_client *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		c->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	char b;

	return ci && recv(ci->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* Streams still wanted; those whose client hung up are ended now, so a
 * client that comes back finds its slot free. */
static unsigned live_clients(struct wm_events *h)
{
	unsigned n = 0;

	for (struct wm_events_client *c = h->clients; c; c = c->next) {
		if (!c->closing && !c->dropped && hung_up(c)) {
			c->closing = true;
			wake(c);
		}
		n += !c->closing && !c->dropped;
	}
	return n;
}

wm_mhd_result wm_events_start(struct wm_events *h, struct MHD_Connection *conn)
{
	struct wm_events_client *c;
	static const char hello[] = ": wiremesh events\nretry: 2000\n\n";
	struct MHD_Response *r;
	wm_mhd_result ret;

	if (h->n_clients >= WM_EVENTS_MAX_CLIENTS &&
	    live_clients(h) >= WM_EVENTS_MAX_CLIENTS)
		return wm_json_respond_error_hdr(conn, 503, "Retry-After", "10",
						 "%d event streams are open "
						 "already",
						 WM_EVENTS_MAX_CLIENTS);
	c = calloc(1, sizeof(*c));
	if (!c)
		return wm_json_respond(conn, 500, NULL);
	c->hub = h;
	c->conn = conn;
	c->tail = &c->head;
	/* The first bytes go out at once, so clients see the stream open. */
	push(c, hello, strlen(hello));
	if (!c->head) {
		free(c);
		return wm_json_respond(conn, 500, NULL);
	}
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, reader, c,
					      client_free);
	if (!r) {
		clear_queue(c);
		free(c);
		return wm_json_respond(conn, 500, NULL);
	}
	c->next = h->clients;
	h->clients = c;
	h->n_clients++;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/event-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, 200, r);
	/* On failure this frees c through client_free. */
	MHD_destroy_response(r);
	return ret;
}

char *wm_events_format(uint64_t id, const char *type, const json_t *data)
{
	json_t *empty = data ? NULL : json_object();
	const json_t *j = data ? data : empty;
	const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
	size_t n = json_dumpb(j, NULL, 0, flags);
	char *json = n ? malloc(n + 1) : NULL, *out = NULL;

	/* Compact JSON never holds a raw newline, so one data: line does.
	 * Dumped into our buffer: json_dumps' would need jansson's free
	 * (json_wipe.h). */
	if (json && json_dumpb(j, json, n, flags) == n)
		json[n] = '\0';
	else {
		free(json);
		json = NULL;
	}
	json_decref(empty);
	if (!json)
		return NULL;
	if (asprintf(&out, "id: %" PRIu64 "\nevent: %s\ndata: %s\n\n", id,
		     type, json) < 0)
		out = NULL;
	free(json);
	return out;
}

void wm_events_publish(struct wm_events *h, const char *type,
		       const json_t *data)
{
	uint64_t id = h->next_id++;
	char *text;

	if (!h->clients)
		return;
	text = wm_events_format(id, type, data);
	if (!text)
		return;
	for (struct wm_events_client *c = h->clients; c; c = c->next)
		push(c, text, strlen(text));
	free(text);
}

void wm_events_keepalive(struct wm_events *h)
{
	static const char ka[] = ": keepalive\n\n";

	for (struct wm_events_client *c = h->clients; c; c = c->next)
		push(c, ka, sizeof(ka) - 1);
}

void wm_events_close_all(struct wm_events *h)
{
	for (struct wm_events_client *c = h->clients; c; c = c->next) {
		c->closing = true;
		wake(c);
	}
}
