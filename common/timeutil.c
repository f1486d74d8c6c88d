/* RFC 3339 parsing and formatting without locale or time-zone state. */
#include "common/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long long days_from_civil(int y, int m, int d)
{
	int era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (long long)era * 146097 + doe - 719468;
}

int tf_time_parse(const char *s, time_t *out, struct tf_err *err)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	const char *p;
	long long t;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (s == NULL || strlen(s) < 20)
		goto bad;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &sec))
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
		goto bad;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		goto bad; /* 29 February of a common year */
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 ||
		    om > 59)
			goto bad;
		p += 6;
	} else {
		goto bad;
	}
	if (*p != '\0')
		goto bad;
	t = days_from_civil(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL + (sec == 60 ? 59 : sec);
	t -= sign * (oh * 3600LL + om * 60LL);
	*out = (time_t)t;
	return 0;
bad:
	return tf_err_set(err, TF_E_INPUT,
	                  "'%s' is not an RFC 3339 time (like 2026-01-31T18:00:00Z)",
	                  s ? s : "(null)");
}

void tf_time_format(time_t t, char *buf, size_t len)
{
	struct tm tm;

	/* Not strftime's %Y: years below 1000 must keep four digits to parse again. */
	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

time_t tf_time_now(void)
{
#if defined(TF_TEST_HOOKS)
	const char *pin = getenv("TIFERRY_NOW");
	time_t t = 0;

	if (pin != NULL && *pin != '\0' && tf_time_parse(pin, &t, NULL) == 0)
		return t;
#endif
	return time(NULL);
}

int tf_time_test_clock(void)
{
#if defined(TF_TEST_HOOKS)
	return 1;
#else
	return 0;
#endif
}
