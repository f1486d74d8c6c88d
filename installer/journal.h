/* The install journal: which steps are done, which one is in progress, and the command that
 * continues. JSON at <state>/<cluster>/journal.json, rewritten atomically and fsync'd at every
 * change, so a crash at any point leaves a journal that tells the truth. */
#ifndef TF_INSTALLER_JOURNAL_H
#define TF_INSTALLER_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"

#define TF_JOURNAL_FILE "journal.json"
#define TF_JOURNAL_MAX_STEPS 32
#define TF_JOURNAL_MAX_VALUES 32
#define TF_JOURNAL_STEP_NAME 32 /* bytes of a step name, NUL included */
#define TF_JOURNAL_DETAIL 512   /* bytes of a step's detail line, NUL included */

enum tf_step_status { TF_STEP_PENDING, TF_STEP_RUNNING, TF_STEP_DONE, TF_STEP_FAILED };

struct tf_journal_step {
	char name[TF_JOURNAL_STEP_NAME];
	enum tf_step_status status;
	time_t started;
	time_t ended;
	char detail[TF_JOURNAL_DETAIL];
};

/* The options the run was started with that a resume needs again, so that the command printed
 * to continue works when pasted: paths absolute, NULL when the option was not given. Never a
 * passphrase: passin is kept only in its file:PATH or env:NAME form. */
struct tf_journal_opts {
	char *trust_dir;
	char *recipient;
	char *known_hosts;
	char *passin;
	char *cluster_meta;
	char *tiup;
	int accept_new_host_keys;
	int yes;
	uint64_t last_sequence; /* 0: not given */
};

struct tf_journal {
	char *path; /* the journal file */
	char *cluster;
	char *bundle; /* absolute path of the bundle */
	char *bundle_id;
	uint64_t sequence;
	char *staging;       /* private staging folder, or NULL once wiped */
	int mirror_switched; /* 1 while TiUP points at the staging mirror */
	int finished;        /* 1 when every step is done */
	/* 1 when the operator's yes (or --yes) came before the journal was written; a journal
	 * without it records no change and is never resumed */
	int confirmed;
	struct tf_journal_opts opts;
	size_t nsteps;
	struct tf_journal_step steps[TF_JOURNAL_MAX_STEPS];
	/* What steps must remember across a crash (e.g. the PD members removed), as text. */
	size_t nvalues;
	char *keys[TF_JOURNAL_MAX_VALUES];
	char *values[TF_JOURNAL_MAX_VALUES];
};

void tf_journal_init(struct tf_journal *j);
void tf_journal_release(struct tf_journal *j);
/* Reads <dir>/journal.json; TF_E_NOTFOUND when there is none. */
int tf_journal_load(const char *dir, struct tf_journal *j, struct tf_err *err) TF_MUST_CHECK;
/* Reads a journal's text (len bytes, read from path, which becomes j->path). */
int tf_journal_parse(const char *buf, size_t len, const char *path, struct tf_journal *j,
                     struct tf_err *err) TF_MUST_CHECK;
/* Writes j to j->path atomically. */
int tf_journal_save(const struct tf_journal *j, struct tf_err *err) TF_MUST_CHECK;
/* The step named name, added as pending when absent (NULL when the table is full). */
struct tf_journal_step *tf_journal_step(struct tf_journal *j, const char *name);
const char *tf_step_status_name(enum tf_step_status s);
/* Remembers value under key (both copied; replaces an earlier value); save to persist it. */
int tf_journal_set(struct tf_journal *j, const char *key, const char *value,
                   struct tf_err *err) TF_MUST_CHECK;
/* The value under key, or NULL. */
const char *tf_journal_get(const struct tf_journal *j, const char *key);
/* Frees the options' strings and zeroes them. */
void tf_journal_opts_release(struct tf_journal_opts *o);
/* The command that continues this install, with the options recorded, each argument
 * shell-quoted where needed. The caller frees it; NULL when out of memory. */
char *tf_journal_resume_command(const struct tf_journal *j);

#endif
