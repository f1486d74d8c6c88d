/* Appending audit records as JSON lines. */
#include "installer/audit.h"
#include "common/fsutil.h"
#include "common/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

int tf_audit_append(const char *dir, const struct tf_audit_entry *e, struct tf_err *err)
{
	cJSON *o = cJSON_CreateObject();
	char now[TF_TIME_TEXT], *text = NULL, *path = NULL;
	int fd = -1, r;
	size_t n;

	if (o == NULL || (path = tf_path_join(dir, TF_AUDIT_FILE)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	tf_time_format(tf_time_now(), now, sizeof(now));
	cJSON_AddStringToObject(o, "time", now);
	cJSON_AddStringToObject(o, "step", e->step ? e->step : "");
	cJSON_AddStringToObject(o, "event", e->event ? e->event : "note");
	cJSON_AddStringToObject(o, "host", e->host ? e->host : "control");
	if (e->command != NULL) {
		cJSON_AddStringToObject(o, "command", e->command);
		cJSON_AddNumberToObject(o, "exit_code", e->exit_code);
		cJSON_AddNumberToObject(o, "duration_s",
		                        (double)(long)(e->seconds * 1000) / 1000.0);
	} else if (e->has_exit)
		cJSON_AddNumberToObject(o, "exit_code", e->exit_code);
	if (e->detail != NULL)
		cJSON_AddStringToObject(o, "detail", e->detail);
	if ((text = cJSON_PrintUnformatted(o)) == NULL) {
		r = tf_err_nomem(err);
		goto out;
	}
	n = strlen(text);
	text[n++] = '\n'; /* cJSON leaves room: replaces the NUL, written by length */
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		r = tf_err_sys(err, TF_E_IO, "open audit log '%s'", path);
		goto out;
	}
	if ((r = tf_write_all(fd, text, n, err)) != 0) {
		tf_err_prefix(err, "audit log '%s'", path);
		goto out;
	}
	if (fsync(fd) != 0)
		r = tf_err_sys(err, TF_E_IO, "fsync '%s'", path);
out:
	if (fd >= 0)
		close(fd);
	cJSON_free(text);
	free(path);
	cJSON_Delete(o);
	return r;
}
