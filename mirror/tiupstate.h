/* The TiUP client's mirror state, recorded and restored exactly as TiUP keeps it:
 * $TIUP_HOME/tiup.toml (mirror = "..."), TIUP_MIRRORS, bin/root.json, the per-mirror root
 * caches bin/<sha256(addr)[:16]>.root.json, and the manifests/ cache. */
#ifndef TF_MIRROR_TIUPSTATE_H
#define TF_MIRROR_TIUPSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/paths.h"

/* TiUP's mirror when neither tiup.toml nor TIUP_MIRRORS names one. */
#define TF_TIUP_DEFAULT_MIRROR "https://tiup-mirrors.pingcap.com/"

struct tf_tiup_file {
	char *name; /* relative to its folder */
	uint8_t *data;
	size_t len;
};

struct tf_tiup_state {
	char *home;    /* the TIUP_HOME this was recorded from */
	int has_toml;  /* tiup.toml existed */
	uint8_t *toml; /* its exact bytes */
	size_t toml_len;
	char *mirror; /* its `mirror` value; NULL when absent */
	int has_env;  /* TIUP_MIRRORS was set (and not empty) */
	char *env;    /* its value */
	int has_root; /* bin/root.json existed */
	uint8_t *root;
	size_t root_len;
	struct tf_tiup_file *caches; /* bin/<16 hex>.root.json */
	size_t ncaches;
	int has_manifests; /* manifests/ existed */
	struct tf_tiup_file *manifests;
	size_t nmanifests;
};

/* Records the state of home (NULL: tf_paths_tiup_home()) and of TIUP_MIRRORS into st (release with
 * tf_tiup_state_release). A manifests/ folder holding sub-folders is refused (TiUP keeps it
 * flat), so a restore never loses what it did not record. */
int tf_tiup_state_record(const char *home, struct tf_tiup_state *st,
                         struct tf_err *err) TF_MUST_CHECK;
/* Puts st->home back as recorded: tiup.toml, bin/root.json and the bin/ root caches are
 * rewritten or removed, manifests/ is replaced by the recorded files (or removed).
 * TIUP_MIRRORS cannot be restored into another process: run tiup with st->env. */
int tf_tiup_state_restore(const struct tf_tiup_state *st, struct tf_err *err) TF_MUST_CHECK;
void tf_tiup_state_release(struct tf_tiup_state *st);

/* The mirror TiUP uses in this state: TIUP_MIRRORS, else tiup.toml, else the default. */
const char *tf_tiup_state_mirror(const struct tf_tiup_state *st);

/* Saves st into folder dir (created 0700) so that another process can restore it later;
 * tf_tiup_state_load reads it back. */
int tf_tiup_state_save(const struct tf_tiup_state *st, const char *dir,
                       struct tf_err *err) TF_MUST_CHECK;
int tf_tiup_state_load(const char *dir, struct tf_tiup_state *st, struct tf_err *err) TF_MUST_CHECK;

/* The `mirror` value of a tiup.toml text (caller frees); NULL when absent or malformed. */
char *tf_tiup_toml_mirror(const char *toml, size_t len);
/* A tiup.toml text as TiUP writes it for mirror addr (caller frees); NULL when out of
 * memory. */
char *tf_tiup_toml_render(const char *addr);

#endif
