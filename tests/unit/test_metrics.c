/*
 * test_metrics.c: the shared-memory counters and their Prometheus text:
 * sums over slots, histogram buckets, error kinds, auth reasons, the
 * process counters, slot reuse keeping counts, a full table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"
#include "util.h"

static const char *
reason(int r)
{
	return (r == 0 ? "missing" : r == 5 ? "expired" : NULL);
}

static char *
render(struct metrics *m)
{
	struct sybuf	b;

	sybuf_init(&b);
	assert_int_equal(metrics_render(m, &b, reason), 0);
	return (sybuf_detach(&b));
}

static void
expect_line(const char *text, const char *line)
{
	char	want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (strstr(text, want) == NULL)
		fail_msg("missing line \"%s\" in:\n%s", line, text);
}

static void
test_requests_summed_over_slots(void **state)
{
	struct metrics	*m = metrics_create();
	int		 a, b, i;
	char		*t;

	assert_non_null(m);
	a = metrics_slot_claim(m, 100);
	b = metrics_slot_claim(m, 101);
	assert_true(a >= 0 && b >= 0 && a != b);
	for (i = 0; i < 3; i++)
		metrics_request(metrics_slot(m, a), "p", "s", "e", 200);
	for (i = 0; i < 4; i++)
		metrics_request(metrics_slot(m, b), "p", "s", "e", 200);
	metrics_request(metrics_slot(m, b), "p", "s", "e", 404);
	t = render(m);
	expect_line(t, "switchyard_requests_total{project=\"p\",service=\"s\","
	    "endpoint=\"e\",status=\"200\"} 7");
	expect_line(t, "switchyard_requests_total{project=\"p\",service=\"s\","
	    "endpoint=\"e\",status=\"404\"} 1");
	expect_line(t, "switchyard_workers 2");
	free(t);
}

static void
test_histogram_and_errors(void **state)
{
	struct metrics		*m = metrics_create();
	struct metrics_slot	*ms;
	char			*t;

	ms = metrics_slot(m, metrics_slot_claim(m, 7));
	metrics_upstream(ms, "p", "s", 0.0005, -1);	/* <= 0.001 */
	metrics_upstream(ms, "p", "s", 0.2, -1);	/* <= 0.25 */
	metrics_upstream(ms, "p", "s", 20.0, -1);	/* +Inf only */
	metrics_upstream(ms, "p", "s", 0, METRICS_UP_TIMEOUT);
	metrics_upstream(ms, "p", "s", 0, METRICS_UP_REFUSED);
	metrics_upstream(ms, "p", "s", 0, METRICS_UP_REFUSED);
	t = render(m);
	expect_line(t, "switchyard_upstream_duration_seconds_bucket{project="
	    "\"p\",service=\"s\",le=\"0.001\"} 1");
	expect_line(t, "switchyard_upstream_duration_seconds_bucket{project="
	    "\"p\",service=\"s\",le=\"0.1\"} 1");
	expect_line(t, "switchyard_upstream_duration_seconds_bucket{project="
	    "\"p\",service=\"s\",le=\"0.25\"} 2");
	expect_line(t, "switchyard_upstream_duration_seconds_bucket{project="
	    "\"p\",service=\"s\",le=\"5\"} 2");
	expect_line(t, "switchyard_upstream_duration_seconds_bucket{project="
	    "\"p\",service=\"s\",le=\"+Inf\"} 3");
	expect_line(t, "switchyard_upstream_duration_seconds_count{project="
	    "\"p\",service=\"s\"} 3");
	expect_line(t, "switchyard_upstream_duration_seconds_sum{project="
	    "\"p\",service=\"s\"} 20.200500");
	expect_line(t, "switchyard_upstream_errors_total{project=\"p\","
	    "service=\"s\",kind=\"refused\"} 2");
	expect_line(t, "switchyard_upstream_errors_total{project=\"p\","
	    "service=\"s\",kind=\"timeout\"} 1");
	expect_line(t, "switchyard_upstream_errors_total{project=\"p\","
	    "service=\"s\",kind=\"reset\"} 0");
	free(t);
}

static void
test_process_counters(void **state)
{
	struct metrics		*m = metrics_create();
	struct metrics_slot	*ms;
	char			*t;

	ms = metrics_slot(m, metrics_slot_claim(m, 9));
	metrics_auth_failure(ms, 0);
	metrics_auth_failure(ms, 5);
	metrics_auth_failure(ms, 5);
	metrics_auth_failure(ms, 99);		/* out of range: ignored */
	metrics_connections(ms, 3);
	metrics_connections(ms, -1);
	metrics_worker_restarted(m);
	metrics_generation(m, 4);
	metrics_reload(m, 1, 5);
	metrics_reload(m, 0, 5);
	t = render(m);
	expect_line(t, "switchyard_auth_failures_total{reason=\"missing\"} 1");
	expect_line(t, "switchyard_auth_failures_total{reason=\"expired\"} 2");
	expect_line(t, "switchyard_open_connections 2");
	expect_line(t, "switchyard_worker_restarts_total 1");
	expect_line(t, "switchyard_reloads_total{result=\"ok\"} 1");
	expect_line(t, "switchyard_reloads_total{result=\"failed\"} 1");
	expect_line(t, "switchyard_registry_generation 5");
	free(t);
}

static void
test_slot_reuse_keeps_counts(void **state)
{
	struct metrics	*m = metrics_create();
	int		 a, b;
	char		*t;

	a = metrics_slot_claim(m, 1);
	metrics_request(metrics_slot(m, a), "p", "s", "e", 200);
	metrics_connections(metrics_slot(m, a), 5);
	metrics_slot_release(m, a);
	b = metrics_slot_claim(m, 2);
	assert_int_equal(a, b);		/* the freed slot is taken again */
	metrics_request(metrics_slot(m, b), "p", "s", "e", 200);
	t = render(m);
	expect_line(t, "switchyard_requests_total{project=\"p\",service=\"s\","
	    "endpoint=\"e\",status=\"200\"} 2");
	/* a dead worker's connections are gone with it */
	expect_line(t, "switchyard_open_connections 0");
	free(t);
}

/* A key "p/s/e" has room for METRICS_KEY - 1 bytes; a longer one is
 * dropped, not cut. */
static void
test_key_length(void **state)
{
	struct metrics		*m = metrics_create();
	struct metrics_slot	*ms;
	char			 e[METRICS_KEY], line[METRICS_KEY + 128], *t;
	size_t			 fit = METRICS_KEY - 1 - strlen("p/s/");

	ms = metrics_slot(m, metrics_slot_claim(m, 2));
	memset(e, 'e', fit + 1);
	e[fit + 1] = '\0';
	metrics_request(ms, "p", "s", e, 200);		/* one too long */
	e[fit] = '\0';
	metrics_request(ms, "p", "s", e, 200);		/* fits exactly */
	t = render(m);
	expect_line(t, "switchyard_metrics_dropped_total 1");
	snprintf(line, sizeof(line), "switchyard_requests_total{project=\"p\","
	    "service=\"s\",endpoint=\"%s\",status=\"200\"} 1", e);
	expect_line(t, line);
	free(t);
}

static void
test_full_table_drops(void **state)
{
	struct metrics		*m = metrics_create();
	struct metrics_slot	*ms;
	char			 name[32], *t;
	int			 i;

	ms = metrics_slot(m, metrics_slot_claim(m, 3));
	for (i = 0; i < METRICS_REQS + 10; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		metrics_request(ms, "p", "s", name, 200);
	}
	t = render(m);
	expect_line(t, "switchyard_metrics_dropped_total 10");
	free(t);
	assert_null(metrics_slot(m, -1));
	assert_null(metrics_slot(m, METRICS_SLOTS));
	metrics_request(NULL, "p", "s", "e", 200);	/* no slot: no-op */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_summed_over_slots),
		cmocka_unit_test(test_histogram_and_errors),
		cmocka_unit_test(test_process_counters),
		cmocka_unit_test(test_slot_reuse_keeps_counts),
		cmocka_unit_test(test_full_table_drops),
		cmocka_unit_test(test_key_length),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
