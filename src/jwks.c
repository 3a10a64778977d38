/*
 * jwks.c: JWK_URL keys for one worker (see jwks.h).  Each URL has one
 * entry with its last good keys, at most one fetch in flight, and a
 * timer for the next refresh.  Fetches go through upstream.c, so they
 * never block the event loop; a failed fetch keeps the old keys.
 */
#include <sys/queue.h>
#include <sys/time.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "auth.h"
#include "jwks.h"
#include "log.h"
#include "upstream.h"
#include "util.h"

#define JWKS_MAX_BYTES		(1024 * 1024)
#define JWKS_MAX_HEADERS	(64 * 1024)
#define JWKS_TIMEOUT_MS		10000L

struct jwks_ent {
	LIST_ENTRY(jwks_ent)	 je_entry;
	struct jwks		*je_store;
	char			*je_url;
	struct auth_jwks	*je_keys;
	struct upstream_call	*je_call;	/* fetch in flight */
	struct event		*je_timer;	/* next refresh */
	double			 je_last;	/* monotonic start of last fetch */
};

struct jwks {
	struct event_base	*js_base;
	struct upstream		*js_up;
	LIST_HEAD(, jwks_ent)	 js_ents;
	unsigned long		 js_epoch;
};

static void	jwks_fetch(struct jwks_ent *);

struct jwks *
jwks_new(struct event_base *base, struct upstream *up)
{
	struct jwks	*js;

	if ((js = calloc(1, sizeof(*js))) == NULL)
		return (NULL);
	js->js_base = base;
	js->js_up = up;
	LIST_INIT(&js->js_ents);
	return (js);
}

void
jwks_free(struct jwks *js)
{
	struct jwks_ent	*je;

	if (js == NULL)
		return;
	while ((je = LIST_FIRST(&js->js_ents)) != NULL) {
		LIST_REMOVE(je, je_entry);
		if (je->je_call != NULL)
			upstream_cancel(je->je_call);
		if (je->je_timer != NULL)
			event_free(je->je_timer);
		auth_jwks_free(je->je_keys);
		free(je->je_url);
		free(je);
	}
	free(js);
}

static struct jwks_ent *
jwks_find(struct jwks *js, const char *url)
{
	struct jwks_ent	*je;

	LIST_FOREACH(je, &js->js_ents, je_entry)
		if (strcmp(je->je_url, url) == 0)
			return (je);
	return (NULL);
}

unsigned long
jwks_epoch(const struct jwks *js)
{
	return (js->js_epoch);
}

const struct auth_jwks *
jwks_lookup(const char *url, void *arg)
{
	struct jwks_ent	*je = jwks_find(arg, url);

	return (je != NULL ? je->je_keys : NULL);
}

static void
jwks_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	jwks_fetch(arg);
}

static void
jwks_schedule(struct jwks_ent *je, double secs)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	evtimer_add(je->je_timer, &tv);
}

/* max-age from the Cache-Control lines among the response headers. */
static double
jwks_max_age(const struct upstream_response *res)
{
	const char	*p;
	double		 age;
	size_t		 i;

	for (i = 0; i < res->nheaders; i++) {
		if (strncasecmp(res->headers[i], "Cache-Control:", 14) != 0 ||
		    (p = strcasestr(res->headers[i], "max-age=")) == NULL)
			continue;
		age = strtod(p + 8, NULL);
		if (age < 10)
			age = 10;
		if (age > 7 * JWKS_DEFAULT_MAX_AGE)
			age = 7 * JWKS_DEFAULT_MAX_AGE;
		return (age);
	}
	return (JWKS_DEFAULT_MAX_AGE);
}

static void
jwks_done(const struct upstream_response *res, void *arg)
{
	struct jwks_ent		*je = arg;
	struct auth_jwks	*keys = NULL;
	char			*err = NULL;

	je->je_call = NULL;
	if (res->result != UPSTREAM_OK || res->status != 200) {
		log_warnx("jwks %s: fetch failed (%s, status %ld): keeping "
		    "%s keys", je->je_url, res->error, res->status,
		    je->je_keys != NULL ? "the old" : "no");
		jwks_schedule(je, JWKS_RETRY);
		return;
	}
	if ((keys = auth_jwks_parse(res->body, res->body_len, &err)) == NULL) {
		log_warnx("jwks %s: %s: keeping %s keys", je->je_url,
		    err != NULL ? err : "unusable document",
		    je->je_keys != NULL ? "the old" : "no");
		free(err);
		jwks_schedule(je, JWKS_RETRY);
		return;
	}
	auth_jwks_free(je->je_keys);
	je->je_keys = keys;
	je->je_store->js_epoch++;
	log_info("jwks %s: %zu keys loaded", je->je_url, auth_jwks_count(keys));
	jwks_schedule(je, jwks_max_age(res));
}

static void
jwks_fetch(struct jwks_ent *je)
{
	static const char *const	 want[] = { "Cache-Control" };
	struct upstream_request		 rq;

	if (je->je_call != NULL)
		return;
	evtimer_del(je->je_timer);
	memset(&rq, 0, sizeof(rq));
	rq.url = je->je_url;
	rq.method = "GET";
	rq.timeout_ms = JWKS_TIMEOUT_MS;
	rq.max_response = JWKS_MAX_BYTES;
	rq.max_headers = JWKS_MAX_HEADERS;
	rq.resp_headers = want;
	rq.nresp_headers = 1;
	je->je_last = sy_now();
	je->je_call = upstream_start(je->je_store->js_up, &rq, jwks_done, je);
	if (je->je_call == NULL)
		jwks_schedule(je, JWKS_RETRY);
}

void
jwks_want(struct jwks *js, const char *url)
{
	struct jwks_ent	*je;

	if (jwks_find(js, url) != NULL)
		return;
	if ((je = calloc(1, sizeof(*je))) == NULL ||
	    (je->je_url = strdup(url)) == NULL ||
	    (je->je_timer = evtimer_new(js->js_base, jwks_timer_cb, je)) ==
	    NULL) {
		log_warn("%s: out of memory", __func__);
		if (je != NULL)
			free(je->je_url);
		free(je);
		return;
	}
	je->je_store = js;
	LIST_INSERT_HEAD(&js->js_ents, je, je_entry);
	jwks_fetch(je);
}

/* Seconds from now until the absolute time tv (from evtimer_pending). */
static double
jwks_tv_secs(const struct timeval *tv)
{
	struct timeval	now;

	gettimeofday(&now, NULL);
	return ((double)(tv->tv_sec - now.tv_sec) +
	    (double)(tv->tv_usec - now.tv_usec) / 1e6);
}

void
jwks_refresh(struct jwks *js, const char *url)
{
	struct jwks_ent	*je;
	struct timeval	 tv;
	double		 wait;

	if ((je = jwks_find(js, url)) == NULL) {
		jwks_want(js, url);
		return;
	}
	if (je->je_call != NULL)
		return;
	wait = je->je_last + JWKS_MIN_INTERVAL - sy_now();
	if (wait <= 0)
		jwks_fetch(je);
	else if (!evtimer_pending(je->je_timer, &tv) ||
	    jwks_tv_secs(&tv) > wait) {
		/* too soon after the last fetch: fetch when the limit allows */
		evtimer_del(je->je_timer);
		jwks_schedule(je, wait);
	}
}
