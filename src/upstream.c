/*
 * upstream.c: HTTP calls to upstream services with libcurl's multi
 * interface on the worker's libevent loop, after curl's hiperfifo
 * example: curl tells us which sockets to watch (sock_cb) and when to
 * wake it (timer_cb); libevent events call curl_multi_socket_action.
 *
 * Invariants:
 * - Only this file includes curl/curl.h.  curl_global_init runs in the
 *   worker after fork, never in the master.
 * - Finished transfers are collected in up_collect(), which runs after
 *   curl_multi_socket_action has returned, so curl_multi_remove_handle
 *   is never called from inside a curl callback.  The only other caller
 *   of curl_multi_remove_handle is upstream_cancel, which the HTTP layer
 *   calls from libevent callbacks, never from curl's.
 * - The multi handle owns the connection cache, so upstream connections
 *   stay alive across calls; easy handles are pooled and reused.
 * - A pooled easy handle has libcurl's built-in CA file and directory:
 *   a call with a caFile sets its own, and up_call_free puts the
 *   built-in ones back (read once in upstream_new), so calls without
 *   one pay nothing and never verify against another service's CAs.
 *   libcurl reuses a connection only for the same CA settings.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "h1client.h"
#include "log.h"
#include "upstream.h"
#include "util.h"

#define UP_POOL_MAX	64

struct upstream_call {
	struct upstream		*uc_up;
	CURL			*uc_easy;
	struct curl_slist	*uc_hdrs;
	char			*uc_body;
	struct sybuf		 uc_resp;
	int			 uc_toobig;
	size_t			 uc_max;
	int			 uc_hdrbig;
	int			 uc_hdrend;	/* the blank line came */
	size_t			 uc_hdrlen;	/* the header block so far */
	size_t			 uc_hdrmax;
	char			**uc_want;	/* response header names */
	size_t			 uc_nwant;
	char			**uc_got;	/* captured "Name: value" */
	size_t			 uc_ngot;
	upstream_cb		 uc_cb;
	void			*uc_arg;
	struct h1client_call	*uc_h1;		/* a native call */
	int			 uc_ca;		/* uc_easy has a caFile */
	char			 uc_err[CURL_ERROR_SIZE];
	TAILQ_ENTRY(upstream_call) uc_entry;
};

struct up_sock {
	struct event		*us_ev;
};

struct upstream {
	struct event_base	*up_base;
	CURLM			*up_multi;
	struct event		*up_timer;
	CURL			*up_pool[UP_POOL_MAX];
	size_t			 up_npool;
	size_t			 up_active;
	struct h1client		*up_h1;		/* made on first use */
	char			*up_cainfo;	/* libcurl's default, or NULL */
	char			*up_capath;
	TAILQ_HEAD(, upstream_call) up_calls;
};

static int	up_curl_ready;

static void	up_collect(struct upstream *);

static void
up_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upstream	*up = arg;
	int		 action = 0, running;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(up->up_multi, fd, action, &running);
	up_collect(up);
}

static void
up_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upstream	*up = arg;
	int		 running;

	curl_multi_socket_action(up->up_multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	up_collect(up);
}

/* CURLMOPT_TIMERFUNCTION: only schedule; never call back into curl. */
static int
up_curl_timer(CURLM *multi, long timeout_ms, void *arg)
{
	struct upstream	*up = arg;
	struct timeval	 tv;

	if (timeout_ms < 0) {
		evtimer_del(up->up_timer);
		return (0);
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(up->up_timer, &tv);
	return (0);
}

/* CURLMOPT_SOCKETFUNCTION: keep one persistent event per socket. */
static int
up_curl_sock(CURL *easy, curl_socket_t s, int what, void *arg, void *sockp)
{
	struct upstream	*up = arg;
	struct up_sock	*us = sockp;
	short		 kind;

	if (what == CURL_POLL_REMOVE) {
		if (us != NULL) {
			event_free(us->us_ev);
			free(us);
			curl_multi_assign(up->up_multi, s, NULL);
		}
		return (0);
	}
	kind = EV_PERSIST;
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (us == NULL) {
		if ((us = calloc(1, sizeof(*us))) == NULL)
			return (-1);
		us->us_ev = event_new(up->up_base, s, kind, up_event_cb, up);
		if (us->us_ev == NULL) {
			free(us);
			return (-1);
		}
		curl_multi_assign(up->up_multi, s, us);
	} else {
		event_del(us->us_ev);
		event_assign(us->us_ev, up->up_base, s, kind, up_event_cb, up);
	}
	event_add(us->us_ev, NULL);
	return (0);
}

/* libcurl's built-in CA file and directory (7.84 and later). */
static int
up_ca_defaults(struct upstream *up)
{
	CURL	*e;
	char	*info = NULL, *path = NULL;

	if ((e = curl_easy_init()) == NULL)
		return (-1);
	curl_easy_getinfo(e, CURLINFO_CAINFO, &info);
	curl_easy_getinfo(e, CURLINFO_CAPATH, &path);
	if (info != NULL)
		up->up_cainfo = strdup(info);
	if (path != NULL)
		up->up_capath = strdup(path);
	curl_easy_cleanup(e);
	return ((info != NULL && up->up_cainfo == NULL) ||
	    (path != NULL && up->up_capath == NULL) ? -1 : 0);
}

struct upstream *
upstream_new(struct event_base *base)
{
	struct upstream	*up;

	if (!up_curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			log_warnx("%s: curl_global_init failed", __func__);
			return (NULL);
		}
		up_curl_ready = 1;
	}
	if ((up = calloc(1, sizeof(*up))) == NULL)
		return (NULL);
	up->up_base = base;
	TAILQ_INIT(&up->up_calls);
	up->up_multi = curl_multi_init();
	up->up_timer = evtimer_new(base, up_timer_cb, up);
	if (up->up_multi == NULL || up->up_timer == NULL ||
	    up_ca_defaults(up) == -1) {
		log_warnx("%s: cannot create the curl multi handle", __func__);
		upstream_free(up);
		return (NULL);
	}
	curl_multi_setopt(up->up_multi, CURLMOPT_SOCKETFUNCTION, up_curl_sock);
	curl_multi_setopt(up->up_multi, CURLMOPT_SOCKETDATA, up);
	curl_multi_setopt(up->up_multi, CURLMOPT_TIMERFUNCTION, up_curl_timer);
	curl_multi_setopt(up->up_multi, CURLMOPT_TIMERDATA, up);
	/* keep-alive: enough cached connections for a busy worker */
	curl_multi_setopt(up->up_multi, CURLMOPT_MAXCONNECTS, 256L);
	return (up);
}

static void
up_call_free(struct upstream_call *uc)
{
	struct upstream	*up = uc->uc_up;
	size_t		 i;

	if (uc->uc_easy != NULL && up->up_npool < UP_POOL_MAX) {
		/* a pooled handle goes back with the built-in CAs */
		if (uc->uc_ca) {
			curl_easy_setopt(uc->uc_easy, CURLOPT_CAINFO,
			    up->up_cainfo);
			curl_easy_setopt(uc->uc_easy, CURLOPT_CAPATH,
			    up->up_capath);
		}
		up->up_pool[up->up_npool++] = uc->uc_easy;
	} else if (uc->uc_easy != NULL)
		curl_easy_cleanup(uc->uc_easy);
	curl_slist_free_all(uc->uc_hdrs);
	free(uc->uc_body);
	sybuf_free(&uc->uc_resp);
	for (i = 0; i < uc->uc_nwant; i++)
		free(uc->uc_want[i]);
	free(uc->uc_want);
	for (i = 0; i < uc->uc_ngot; i++)
		free(uc->uc_got[i]);
	free(uc->uc_got);
	free(uc);
}

void
upstream_cancel(struct upstream_call *uc)
{
	struct upstream	*up = uc->uc_up;

	if (uc->uc_h1 != NULL)
		h1client_cancel(uc->uc_h1);
	else
		curl_multi_remove_handle(up->up_multi, uc->uc_easy);
	TAILQ_REMOVE(&up->up_calls, uc, uc_entry);
	up->up_active--;
	up_call_free(uc);
}

void
upstream_free(struct upstream *up)
{
	struct upstream_call	*uc;
	size_t			 i;

	if (up == NULL)
		return;
	while ((uc = TAILQ_FIRST(&up->up_calls)) != NULL)
		upstream_cancel(uc);
	h1client_free(up->up_h1);
	for (i = 0; i < up->up_npool; i++)
		curl_easy_cleanup(up->up_pool[i]);
	if (up->up_multi != NULL)
		curl_multi_cleanup(up->up_multi);
	if (up->up_timer != NULL)
		event_free(up->up_timer);
	free(up->up_cainfo);
	free(up->up_capath);
	free(up);
}

size_t
upstream_active(const struct upstream *up)
{
	return (up->up_active);
}

static size_t
up_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct upstream_call	*uc = arg;
	size_t			 n = size * nmemb;

	if (uc->uc_resp.len + n > uc->uc_max) {
		uc->uc_toobig = 1;
		return (0);
	}
	if (sybuf_add(&uc->uc_resp, ptr, n) == -1)
		return (0);
	return (n);
}

static int
up_header_wanted(struct upstream_call *uc, const char *line, size_t len)
{
	size_t	i, n;

	for (i = 0; i < uc->uc_nwant; i++) {
		n = strlen(uc->uc_want[i]);
		if (n < len && line[n] == ':' &&
		    strncasecmp(line, uc->uc_want[i], n) == 0)
			return (1);
	}
	return (0);
}

static size_t
up_header_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct upstream_call	*uc = arg;
	size_t			 n = size * nmemb, len = n, i;
	char			**got;
	int			 status;

	while (len > 0 && (ptr[len - 1] == '\n' || ptr[len - 1] == '\r'))
		len--;
	if ((status = len >= 5 && strncmp(ptr, "HTTP/", 5) == 0)) {
		/* a new status line (after 100 Continue): start over */
		for (i = 0; i < uc->uc_ngot; i++)
			free(uc->uc_got[i]);
		uc->uc_ngot = 0;
		uc->uc_hdrlen = 0;
		uc->uc_hdrend = 0;
	}
	if (len == 0)
		uc->uc_hdrend = 1;
	if ((uc->uc_hdrlen += n) > uc->uc_hdrmax) {
		uc->uc_hdrbig = 1;
		return (0);
	}
	if (status || uc->uc_nwant == 0 || !up_header_wanted(uc, ptr, len))
		return (n);
	got = realloc(uc->uc_got, (uc->uc_ngot + 1) * sizeof(*got));
	if (got == NULL)
		return (0);
	uc->uc_got = got;
	if ((got[uc->uc_ngot] = strndup(ptr, len)) == NULL)
		return (0);
	uc->uc_ngot++;
	return (n);
}

/* Options that never change: set once per easy handle. */
static void
up_easy_init(CURL *e)
{
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, up_write_cb);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, up_header_cb);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	/* the path goes out as templated: no dot segments removed */
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
}

/*
 * A pooled easy handle keeps its constant options; the per-call ones
 * are all set again by up_set_common and up_set_method, which also
 * clear what a previous call of another method set.
 */
static CURL *
up_easy_get(struct upstream *up)
{
	CURL	*easy;

	if (up->up_npool > 0)
		return (up->up_pool[--up->up_npool]);
	if ((easy = curl_easy_init()) != NULL)
		up_easy_init(easy);
	return (easy);
}

static int
up_set_method(struct upstream_call *uc, const struct upstream_request *rq)
{
	CURL	*e = uc->uc_easy;

	/* undo what a pooled handle's previous call may have set */
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
	if (strcmp(rq->method, "GET") == 0)
		return (curl_easy_setopt(e, CURLOPT_HTTPGET, 1L));
	if (strcmp(rq->method, "HEAD") == 0)
		return (curl_easy_setopt(e, CURLOPT_NOBODY, 1L));
	if (!rq->has_body) {
		/* a bodiless POST-family call: an empty body */
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
	}
	if (rq->has_body) {
		if ((uc->uc_body = malloc(rq->body_len + 1)) == NULL)
			return (-1);
		memcpy(uc->uc_body, rq->body, rq->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)rq->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, uc->uc_body);
	}
	if (strcmp(rq->method, "POST") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, rq->method);
	return (0);
}

static int
up_set_headers(struct upstream_call *uc, const struct upstream_request *rq)
{
	struct curl_slist	*l;
	size_t			 i;

	/* no "Expect: 100-continue" round trip for bodies */
	if ((uc->uc_hdrs = curl_slist_append(NULL, "Expect:")) == NULL)
		return (-1);
	for (i = 0; i < rq->nheaders; i++) {
		if ((l = curl_slist_append(uc->uc_hdrs, rq->headers[i])) ==
		    NULL)
			return (-1);
		uc->uc_hdrs = l;
	}
	if (rq->nresp_headers > 0) {
		uc->uc_want = calloc(rq->nresp_headers, sizeof(char *));
		if (uc->uc_want == NULL)
			return (-1);
		for (i = 0; i < rq->nresp_headers; i++) {
			uc->uc_want[i] = strdup(rq->resp_headers[i]);
			if (uc->uc_want[i] == NULL)
				return (-1);
			uc->uc_nwant++;
		}
	}
	return (curl_easy_setopt(uc->uc_easy, CURLOPT_HTTPHEADER,
	    uc->uc_hdrs) == CURLE_OK ? 0 : -1);
}

static void
up_set_common(struct upstream_call *uc, const struct upstream_request *rq)
{
	CURL	*e = uc->uc_easy;

	curl_easy_setopt(e, CURLOPT_URL, rq->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, uc);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, uc->uc_err);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, uc);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, uc);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)rq->max_response);
}

/* A native call's end: the same bookkeeping as up_finish. */
static void
up_h1_done(const struct upstream_response *res, void *arg)
{
	struct upstream_call	*uc = arg;

	TAILQ_REMOVE(&uc->uc_up->up_calls, uc, uc_entry);
	uc->uc_up->up_active--;
	uc->uc_cb(res, uc->uc_arg);
	up_call_free(uc);
}

static int
up_start_native(struct upstream_call *uc, const struct upstream_request *rq)
{
	struct upstream	*up = uc->uc_up;

	if (up->up_h1 == NULL &&
	    (up->up_h1 = h1client_new(up->up_base, NULL)) == NULL)
		return (-1);
	uc->uc_h1 = h1client_start(up->up_h1, rq, up_h1_done, uc);
	return (uc->uc_h1 == NULL ? -1 : 0);
}

struct upstream_call *
upstream_start(struct upstream *up, const struct upstream_request *rq,
    upstream_cb cb, void *arg)
{
	struct upstream_call	*uc;
	CURLMcode		 mc;

	if ((uc = sy_zalloc(1, sizeof(*uc))) == NULL)
		return (NULL);
	uc->uc_up = up;
	uc->uc_cb = cb;
	uc->uc_arg = arg;
	if (rq->native) {
		if (up_start_native(uc, rq) == -1)
			goto fail;
		goto started;
	}
	uc->uc_max = rq->max_response;
	uc->uc_hdrmax = rq->max_headers;
	sybuf_init(&uc->uc_resp);
	if ((uc->uc_easy = up_easy_get(up)) == NULL)
		goto fail;
	up_set_common(uc, rq);
	if (rq->ca_file != NULL) {
		/* the service's CAs replace the built-in ones */
		uc->uc_ca = 1;
		if (curl_easy_setopt(uc->uc_easy, CURLOPT_CAINFO,
		    rq->ca_file) != CURLE_OK ||
		    curl_easy_setopt(uc->uc_easy, CURLOPT_CAPATH, NULL) !=
		    CURLE_OK)
			goto fail;
	}
	if (up_set_method(uc, rq) == -1 || up_set_headers(uc, rq) == -1)
		goto fail;
	if ((mc = curl_multi_add_handle(up->up_multi, uc->uc_easy)) !=
	    CURLM_OK) {
		log_warnx("%s: curl_multi_add_handle: %s", __func__,
		    curl_multi_strerror(mc));
		goto fail;
	}
started:
	TAILQ_INSERT_TAIL(&up->up_calls, uc, uc_entry);
	up->up_active++;
	return (uc);
fail:
	up_call_free(uc);
	return (NULL);
}

/*
 * libcurl 7.88 answers a header line over its 100 KiB limit with
 * CURLE_OUT_OF_MEMORY before our header callback sees it.  Such a line
 * is a header block over max_headers when that is smaller.
 */
static int
up_line_refused(const struct upstream_call *uc, CURLcode rc)
{
	return (rc == CURLE_OUT_OF_MEMORY && uc->uc_err[0] == '\0' &&
	    !uc->uc_hdrend);
}

static enum upstream_result
up_result(struct upstream_call *uc, CURLcode rc)
{
	if (up_line_refused(uc, rc))
		return (uc->uc_hdrmax < UPSTREAM_LINE_MAX ?
		    UPSTREAM_HDRS_TOOBIG : UPSTREAM_FAILED);
	switch (rc) {
	case CURLE_OK:
		return (UPSTREAM_OK);
	case CURLE_FILESIZE_EXCEEDED:
		return (UPSTREAM_TOOBIG);
	case CURLE_WRITE_ERROR:
		return (uc->uc_hdrbig ? UPSTREAM_HDRS_TOOBIG : uc->uc_toobig ?
		    UPSTREAM_TOOBIG : UPSTREAM_FAILED);
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return (UPSTREAM_REFUSED);
	case CURLE_OPERATION_TIMEDOUT:
		return (UPSTREAM_TIMEOUT);
	default:
		return (UPSTREAM_FAILED);
	}
}

static void
up_finish(struct upstream *up, CURL *easy, CURLcode rc)
{
	struct upstream_call		*uc;
	struct upstream_response	 res;
	char				*priv;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
	uc = (struct upstream_call *)priv;
	curl_multi_remove_handle(up->up_multi, easy);
	TAILQ_REMOVE(&up->up_calls, uc, uc_entry);
	up->up_active--;

	memset(&res, 0, sizeof(res));
	res.result = up_result(uc, rc);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &res.status);
	res.body = uc->uc_resp.data != NULL ? uc->uc_resp.data : "";
	res.body_len = uc->uc_resp.len;
	if (res.result == UPSTREAM_HDRS_TOOBIG) {
		/* our words, not "Failed writing header" */
		snprintf(uc->uc_err, sizeof(uc->uc_err), UPSTREAM_ERR_HDRS,
		    uc->uc_hdrmax);
		res.error = uc->uc_err;
	} else if (res.result == UPSTREAM_TOOBIG)
		/* not "Failure writing output to destination" */
		res.error = UPSTREAM_ERR_BODY;
	else if (up_line_refused(uc, rc))
		res.error = UPSTREAM_ERR_LINE;
	else if (rc != CURLE_OK)
		res.error = uc->uc_err[0] != '\0' ? uc->uc_err :
		    curl_easy_strerror(rc);
	else
		res.error = "";
	res.headers = (const char *const *)uc->uc_got;
	res.nheaders = uc->uc_ngot;
	uc->uc_cb(&res, uc->uc_arg);
	up_call_free(uc);
}

/* Runs after curl_multi_socket_action returned: not a curl callback. */
static void
up_collect(struct upstream *up)
{
	CURLMsg	*msg;
	int	 left;

	while ((msg = curl_multi_info_read(up->up_multi, &left)) != NULL) {
		if (msg->msg == CURLMSG_DONE)
			up_finish(up, msg->easy_handle, msg->data.result);
	}
	if (up->up_active == 0)
		evtimer_del(up->up_timer);
}
