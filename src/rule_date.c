/*
 * rule_date.c: the dates of security rules (SPEC section 6): RFC 3339
 * text to seconds and nanoseconds, and utils.now() back to RFC 3339 UTC
 * text.  Pure arithmetic on the proleptic Gregorian calendar, without
 * the C library's time zone state, so that the result never depends on
 * TZ or the locale.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "rule_int.h"

/*
 * Dates (RFC 3339)
 */

/* n decimal digits at s into *v; 0 / -1. */
static int
rule_digits(const char *s, int n, int *v)
{
	int	i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		*v = *v * 10 + (s[i] - '0');
	}
	return (0);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
rule_days(int y, int m, int d)
{
	int64_t		era;
	unsigned	yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + (int64_t)doe - 719468);
}

static int
rule_mdays(int y, int m)
{
	static const int	mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
				    31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return (29);
	return (mdays[m - 1]);
}

/* The fraction and offset after "...HH:MM:SS"; 0 / -1. */
static int
rule_date_tail(const char *s, size_t len, long *nsec, int *off)
{
	size_t	i = 0;
	long	scale = 100000000;
	int	oh, om;

	*nsec = 0;
	*off = 0;
	if (i < len && s[i] == '.') {
		if (++i >= len || s[i] < '0' || s[i] > '9')
			return (-1);
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			*nsec += (s[i] - '0') * scale;
			scale /= 10;
		}
	}
	if (len - i == 1 && (s[i] == 'Z' || s[i] == 'z'))
		return (0);
	if (len - i != 6 || (s[i] != '+' && s[i] != '-') ||
	    rule_digits(s + i + 1, 2, &oh) == -1 || s[i + 3] != ':' ||
	    rule_digits(s + i + 4, 2, &om) == -1 || oh > 23 || om > 59)
		return (-1);
	*off = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
	return (0);
}

/* "2026-11-26T12:00:00.5+01:00" to an instant; 0 / -1. */
int
rule_date_parse(const char *s, size_t len, int64_t *sec, long *nsec)
{
	int	y, mo, d, h, mi, se, off;

	if (len < 20 || rule_digits(s, 4, &y) == -1 || s[4] != '-' ||
	    rule_digits(s + 5, 2, &mo) == -1 || s[7] != '-' ||
	    rule_digits(s + 8, 2, &d) == -1 ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    rule_digits(s + 11, 2, &h) == -1 || s[13] != ':' ||
	    rule_digits(s + 14, 2, &mi) == -1 || s[16] != ':' ||
	    rule_digits(s + 17, 2, &se) == -1 ||
	    rule_date_tail(s + 19, len - 19, nsec, &off) == -1)
		return (-1);
	if (mo < 1 || mo > 12 || d < 1 || d > rule_mdays(y, mo) || h > 23 ||
	    mi > 59 || se > 60)
		return (-1);
	*sec = rule_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
	return (0);
}

/* Unix time t split into seconds and nanoseconds (no libm). */
void
rule_split_time(double t, int64_t *sec, long *nsec)
{
	*sec = (int64_t)t;
	if ((double)*sec > t)
		(*sec)--;
	*nsec = (long)((t - (double)*sec) * 1e9);
	if (*nsec > 999999999)
		*nsec = 999999999;
}

/* t (Unix seconds) as "2026-11-26T12:00:00Z", ".123" when fractional. */
struct json_object *
rule_date_json(double t)
{
	struct tm	tm;
	time_t		sec;
	int64_t		s;
	long		ns;
	char		buf[64];
	size_t		n;

	rule_split_time(t, &s, &ns);
	sec = (time_t)s;
	if (gmtime_r(&sec, &tm) == NULL)
		return (NULL);
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	if (ns / 1000000 != 0)
		snprintf(buf + n, sizeof(buf) - n, ".%03ldZ", ns / 1000000);
	else
		snprintf(buf + n, sizeof(buf) - n, "Z");
	return (json_object_new_string(buf));
}
