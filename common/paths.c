/* TiUP's home, the state root and the cluster folders, resolved in one place (libc only). */
#include "common/paths.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLUSTERS_DIR "storage/cluster/clusters"

/* A new string printed from fmt; TF_E_INPUT naming what when it would not fit a path buffer. */
static int TF_PRINTF(4, 5)
    bounded(char **out, const char *what, struct tf_err *err, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return tf_err_set(err, TF_E_INPUT, "%s: cannot be formatted", what);
	if (n >= TF_PATH_BUF)
		return tf_err_set(err, TF_E_INPUT,
		                  "%s is %d bytes long, longer than the %d a path may be", what, n,
		                  TF_PATH_BUF - 1);
	if ((s = malloc((size_t)n + 1)) == NULL)
		return tf_err_nomem(err);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*out = s;
	return 0;
}

/* TiUP itself reads TIUP_HOME, else the user's home + "/.tiup". With neither HOME nor TIUP_HOME
 * we refuse rather than guess a folder (formerly "/root"): a guess could read or change another
 * account's TiUP, and check and install must agree on the one cluster they look at. */
int tf_paths_tiup_home(char **out, struct tf_err *err)
{
	const char *h = getenv("TIUP_HOME");

	if (h != NULL && h[0] != '\0')
		return bounded(out, "TIUP_HOME", err, "%s", h);
	h = getenv("HOME");
	if (h == NULL || h[0] == '\0')
		return tf_err_set(
		    err, TF_E_INPUT,
		    "neither TIUP_HOME nor HOME is set: set TIUP_HOME to TiUP's folder");
	return bounded(out, "$HOME/.tiup", err, "%s/.tiup", h);
}

const char *tf_paths_state_root(void)
{
	const char *d = getenv("TIFERRY_STATE_DIR");

	return d != NULL && *d != '\0' ? d : TF_PATHS_STATE_ROOT_DEFAULT;
}

static int cluster_path(const char *tiup_home, const char *cluster, const char *name, char **out,
                        struct tf_err *err)
{
	char *home = NULL, what[128];
	int r;

	if (tiup_home == NULL) {
		if ((r = tf_paths_tiup_home(&home, err)) != 0)
			return r;
		tiup_home = home;
	}
	snprintf(what, sizeof(what), "the folder of cluster '%.64s'", cluster);
	if (name == NULL)
		r = bounded(out, what, err, "%s/" CLUSTERS_DIR "/%s", tiup_home, cluster);
	else
		r = bounded(out, what, err, "%s/" CLUSTERS_DIR "/%s/%s", tiup_home, cluster, name);
	free(home);
	return r;
}

int tf_paths_cluster_dir(const char *tiup_home, const char *cluster, char **out, struct tf_err *err)
{
	return cluster_path(tiup_home, cluster, NULL, out, err);
}

int tf_paths_cluster_file(const char *tiup_home, const char *cluster, const char *name, char **out,
                          struct tf_err *err)
{
	return cluster_path(tiup_home, cluster, name, out, err);
}
