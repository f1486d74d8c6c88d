/* Rendering the runbook's model (manifests/runbook.c) as Markdown or one self-contained HTML
 * page, and inserting the signatures as they stand. Texts use `backticks` for commands, paths and
 * values; the HTML renderer turns them into <code> and escapes everything else. */
#include "manifests/runbook_render.h"
#include "common/strbuf.h"
#include "manifests/bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

struct doc {
	struct tf_strbuf b;
	enum tf_runbook_format f;
};

static void html_escape(struct tf_strbuf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':
			tf_strbuf_puts(b, "&amp;");
			break;
		case '<':
			tf_strbuf_puts(b, "&lt;");
			break;
		case '>':
			tf_strbuf_puts(b, "&gt;");
			break;
		case '"':
			tf_strbuf_puts(b, "&quot;");
			break;
		case '\'':
			tf_strbuf_puts(b, "&#39;");
			break;
		default:
			tf_strbuf_putn(b, s + i, 1);
		}
	}
}

/* Text with `code` spans. Markdown: as it is (a '|' escaped inside tables); HTML: escaped, the
 * spans as <code>. */
static void text(struct doc *d, const char *s, int in_table)
{
	const char *p;

	if (d->f == TF_RUNBOOK_MD) {
		for (p = s; *p; p++) {
			if (*p == '|' && in_table)
				tf_strbuf_puts(&d->b, "\\|");
			else if (*p == '\n')
				tf_strbuf_puts(&d->b, " ");
			else
				tf_strbuf_putn(&d->b, p, 1);
		}
		return;
	}
	while (*s) {
		const char *open = strchr(s, '`'), *close = open ? strchr(open + 1, '`') : NULL;

		if (close == NULL) {
			html_escape(&d->b, s, strlen(s));
			return;
		}
		html_escape(&d->b, s, (size_t)(open - s));
		tf_strbuf_puts(&d->b, "<code>");
		html_escape(&d->b, open + 1, (size_t)(close - open - 1));
		tf_strbuf_puts(&d->b, "</code>");
		s = close + 1;
	}
}

static void heading(struct doc *d, int level, const char *id, const char *s)
{
	if (d->f == TF_RUNBOOK_MD) {
		tf_strbuf_printf(&d->b, "%.*s ", level, "####");
		text(d, s, 0);
		tf_strbuf_puts(&d->b, "\n\n");
		return;
	}
	tf_strbuf_printf(&d->b, "<h%d%s%s%s>", level, id ? " id=\"" : "", id ? id : "",
	                 id ? "\"" : "");
	text(d, s, 0);
	tf_strbuf_printf(&d->b, "</h%d>\n", level);
}

static void para(struct doc *d, const char *s)
{
	tf_strbuf_puts(&d->b, d->f == TF_RUNBOOK_MD ? "" : "<p>");
	text(d, s, 0);
	tf_strbuf_puts(&d->b, d->f == TF_RUNBOOK_MD ? "\n\n" : "</p>\n");
}

static void list(struct doc *d, const cJSON *arr)
{
	const cJSON *v;

	if (cJSON_GetArraySize(arr) == 0)
		return;
	tf_strbuf_puts(&d->b, d->f == TF_RUNBOOK_MD ? "" : "<ul>\n");
	cJSON_ArrayForEach(v, arr)
	{
		if (!cJSON_IsString(v))
			continue;
		tf_strbuf_puts(&d->b, d->f == TF_RUNBOOK_MD ? "- " : "<li>");
		text(d, v->valuestring, 0);
		tf_strbuf_puts(&d->b, d->f == TF_RUNBOOK_MD ? "\n" : "</li>\n");
	}
	tf_strbuf_puts(&d->b, d->f == TF_RUNBOOK_MD ? "\n" : "</ul>\n");
}

/* A table of n columns; cells is rows * n texts. */
static void table(struct doc *d, const char *const *head, size_t n, const char *const *cells,
                  size_t rows)
{
	size_t r, c;

	if (d->f == TF_RUNBOOK_MD) {
		for (c = 0; c < n; c++) {
			tf_strbuf_puts(&d->b, "| ");
			text(d, head[c], 1);
			tf_strbuf_puts(&d->b, " ");
		}
		tf_strbuf_puts(&d->b, "|\n");
		for (c = 0; c < n; c++)
			tf_strbuf_puts(&d->b, "| --- ");
		tf_strbuf_puts(&d->b, "|\n");
		for (r = 0; r < rows; r++) {
			for (c = 0; c < n; c++) {
				tf_strbuf_puts(&d->b, "| ");
				text(d, cells[r * n + c], 1);
				tf_strbuf_puts(&d->b, " ");
			}
			tf_strbuf_puts(&d->b, "|\n");
		}
		tf_strbuf_puts(&d->b, "\n");
		return;
	}
	tf_strbuf_puts(&d->b, "<table>\n<thead><tr>");
	for (c = 0; c < n; c++) {
		tf_strbuf_puts(&d->b, "<th>");
		text(d, head[c], 1);
		tf_strbuf_puts(&d->b, "</th>");
	}
	tf_strbuf_puts(&d->b, "</tr></thead>\n<tbody>\n");
	for (r = 0; r < rows; r++) {
		tf_strbuf_puts(&d->b, "<tr>");
		for (c = 0; c < n; c++) {
			tf_strbuf_puts(&d->b, "<td>");
			text(d, cells[r * n + c], 1);
			tf_strbuf_puts(&d->b, "</td>");
		}
		tf_strbuf_puts(&d->b, "</tr>\n");
	}
	tf_strbuf_puts(&d->b, "</tbody>\n</table>\n");
}

/* Commands, one per line: a ```sh block, or <pre class="commands">. */
static void code(struct doc *d, const cJSON *cmds)
{
	const cJSON *v;

	if (cJSON_GetArraySize(cmds) == 0)
		return;
	tf_strbuf_puts(&d->b, d->f == TF_RUNBOOK_MD ? "```sh\n" : "<pre class=\"commands\"><code>");
	cJSON_ArrayForEach(v, cmds)
	{
		if (!cJSON_IsString(v))
			continue;
		if (d->f == TF_RUNBOOK_MD)
			tf_strbuf_puts(&d->b, v->valuestring);
		else
			html_escape(&d->b, v->valuestring, strlen(v->valuestring));
		tf_strbuf_puts(&d->b, "\n");
	}
	tf_strbuf_puts(&d->b, d->f == TF_RUNBOOK_MD ? "```\n\n" : "</code></pre>\n");
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>";

static const char html_head2[] =
    "</title>\n<style>\n"
    "body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,\"DejaVu Sans\",sans-serif;"
    "max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f23;line-height:1.45}\n"
    "h1{border-bottom:2px solid #1b1f23;padding-bottom:.3rem}\n"
    "h2{margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}\n"
    "h3{margin-bottom:.3rem}\n"
    "code{font-family:\"DejaVu Sans Mono\",Menlo,Consolas,monospace;font-size:.9em;"
    "background:#f3f4f6;padding:0 .2em;border-radius:3px;overflow-wrap:anywhere}\n"
    "pre.commands{background:#0d1117;color:#e6edf3;padding:.6rem .8rem;border-radius:6px;"
    "overflow-x:auto}\n"
    "pre.commands code{background:none;color:inherit;padding:0}\n"
    "table{border-collapse:collapse;margin:.5rem 0 1rem}\n"
    "th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left;vertical-align:top}\n"
    "th{background:#f6f8fa}\n"
    ".step{border-left:4px solid #0969da;padding-left:.8rem;margin:1rem 0}\n"
    ".skipped{color:#57606a;font-style:italic}\n"
    ".impact{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.2rem 1rem}\n"
    "@media print{body{margin:0;max-width:none}pre.commands{white-space:pre-wrap}}\n"
    "</style>\n</head>\n<body>\n";

static void render_steps(struct doc *d, const cJSON *arr)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, arr)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, "number");
		char h[160];

		snprintf(h, sizeof(h), "%d. %s — %s", cJSON_IsNumber(n) ? n->valueint : 0,
		         jstr(s, "name") ? jstr(s, "name") : "?",
		         jstr(s, "where") ? jstr(s, "where") : "?");
		if (d->f == TF_RUNBOOK_HTML)
			tf_strbuf_printf(&d->b, "<div class=\"step\" id=\"step-%s\">\n",
			                 jstr(s, "name") ? jstr(s, "name") : "");
		heading(d, 3, NULL, h);
		para(d, jstr(s, "what") ? jstr(s, "what") : "");
		if (jstr(s, "skipped") != NULL) {
			char t[200];

			snprintf(t, sizeof(t), "For this bundle: %s.", jstr(s, "skipped"));
			if (d->f == TF_RUNBOOK_HTML)
				tf_strbuf_puts(&d->b, "<div class=\"skipped\">");
			para(d, t);
			if (d->f == TF_RUNBOOK_HTML)
				tf_strbuf_puts(&d->b, "</div>");
		} else {
			code(d, cJSON_GetObjectItemCaseSensitive(s, "commands"));
		}
		if (d->f == TF_RUNBOOK_HTML)
			tf_strbuf_puts(&d->b, "</div>\n");
	}
}

static void render_target(struct doc *d, const cJSON *root)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "target"),
	            *b = cJSON_GetObjectItemCaseSensitive(root, "bundle"), *v;
	const char *head[] = {"Field", "Value"};
	const char *cells[14];
	char seq[32], cl[300], topo[100], id[64], nb[40], na[40], cr[40];
	const cJSON *sq = cJSON_GetObjectItemCaseSensitive(b, "sequence");

	snprintf(cl, sizeof(cl), "`%s`", jstr(t, "cluster") ? jstr(t, "cluster") : "?");
	snprintf(topo, sizeof(topo), "`%s`", jstr(t, "topology") ? jstr(t, "topology") : "?");
	snprintf(id, sizeof(id), "`%s`", jstr(b, "id") ? jstr(b, "id") : "?");
	snprintf(seq, sizeof(seq), "%.0f", cJSON_IsNumber(sq) ? sq->valuedouble : 0.0);
	snprintf(cr, sizeof(cr), "`%s`", jstr(b, "created") ? jstr(b, "created") : "?");
	snprintf(nb, sizeof(nb), "`%s`", jstr(b, "not_before") ? jstr(b, "not_before") : "?");
	snprintf(na, sizeof(na), "`%s`", jstr(b, "not_after") ? jstr(b, "not_after") : "?");
	cells[0] = "Cluster";
	cells[1] = cl;
	cells[2] = "Topology fingerprint";
	cells[3] = topo;
	cells[4] = "Bundle id";
	cells[5] = id;
	cells[6] = "Sequence (anti-rollback)";
	cells[7] = seq;
	cells[8] = "Created";
	cells[9] = cr;
	cells[10] = "Valid from";
	cells[11] = nb;
	cells[12] = "Valid until";
	cells[13] = na;
	heading(d, 2, "target", "Target and validity");
	table(d, head, 2, cells, 7);
	para(d, "tiferry refuses the bundle outside this window, on a cluster whose topology "
	        "fingerprint differs, and after a bundle with an equal or higher sequence.");
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(t, "hosts")) > 0) {
		const char *hh[] = {"Host", "Roles"};
		size_t n = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(t, "hosts")),
		       i = 0;
		const char **hc = calloc(2 * n, sizeof(*hc));
		char **own = calloc(2 * n, sizeof(*own));

		if (hc == NULL || own == NULL) {
			d->b.failed = 1;
		} else {
			cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(t, "hosts"))
			{
				const cJSON *roles = cJSON_GetObjectItemCaseSensitive(v, "roles"),
				            *x;
				struct tf_strbuf rs = {0};

				if (i >= n)
					break;
				tf_strbuf_puts(&rs, "");
				cJSON_ArrayForEach(x, roles)
				{
					if (cJSON_IsString(x))
						tf_strbuf_printf(&rs, "%s%s", rs.len ? ", " : "",
						                 x->valuestring);
				}
				if (asprintf(&own[2 * i], "`%s`",
				             jstr(v, "host") ? jstr(v, "host") : "?") < 0)
					own[2 * i] = NULL;
				own[2 * i + 1] = rs.s;
				hc[2 * i] = own[2 * i] ? own[2 * i] : "?";
				hc[2 * i + 1] = rs.s ? rs.s : "?";
				i++;
			}
			heading(d, 3, NULL, "Hosts");
			table(d, hh, 2, hc, i);
			for (i = 0; i < 2 * n; i++)
				free(own[i]);
		}
		free(hc);
		free(own);
	}
}

static void render_approvals_text(struct doc *d)
{
	heading(d, 2, "approvals", "Approvals");
	para(d,
	     "The control host's trust policy (`policy.yaml` in its trust folder: "
	     "`/etc/tiferry/trust` unless `--trust` names another, as the signatures below say) "
	     "says how many signatures of each role a bundle needs, for example one `builder` and "
	     "one "
	     "`approver`; roles come from the policy, never from the signature. tiferry refuses "
	     "to install the bundle until they are there.");
	para(d,
	     "Each signature covers the manifest, and the manifest holds the sha256 of this "
	     "runbook: an approval covers the text you are reading. The signatures are added after "
	     "the text is signed, so they are shown below as they stand now, not as part of it.");
	tf_strbuf_puts(&d->b, TF_RUNBOOK_MARK "\n\n");
}

static int render_doc(const cJSON *root, enum tf_runbook_format f, char **out, size_t *len)
{
	struct doc d = {.b = {.max = 2 * (size_t)TF_RUNBOOK_MAX}, .f = f};
	const char *title = jstr(root, "title") ? jstr(root, "title") : "runbook";

	if (f == TF_RUNBOOK_HTML) {
		tf_strbuf_puts(&d.b, html_head);
		html_escape(&d.b, title, strlen(title));
		tf_strbuf_puts(&d.b, html_head2);
	}
	heading(&d, 1, NULL, title);
	para(&d, "Runbook of a tiferry bundle: what it changes, what it costs, every step with the "
	         "exact commands, what to do when a step fails, and how success is verified.");
	heading(&d, 2, "purpose", "Purpose");
	{
		const cJSON *v;

		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "purpose"))
		{
			if (cJSON_IsString(v))
				para(&d, v->valuestring);
		}
	}
	render_target(&d, root);
	heading(&d, 2, "changes", "What the bundle changes");
	list(&d, cJSON_GetObjectItemCaseSensitive(root, "changes"));
	heading(&d, 2, "impact", "Expected impact");
	if (f == TF_RUNBOOK_HTML)
		tf_strbuf_puts(&d.b, "<div class=\"impact\">\n");
	list(&d, cJSON_GetObjectItemCaseSensitive(root, "impact"));
	if (f == TF_RUNBOOK_HTML)
		tf_strbuf_puts(&d.b, "</div>\n");
	render_approvals_text(&d);
	heading(&d, 2, "steps", "Steps");
	para(&d, "`tiferry install BUNDLE` runs these steps in order on the control host, each "
	         "journaled. The commands are exactly those it runs; words in angle brackets are "
	         "known only during the run:");
	list(&d, cJSON_GetObjectItemCaseSensitive(root, "placeholders"));
	render_steps(&d, cJSON_GetObjectItemCaseSensitive(root, "steps"));
	heading(&d, 2, "on-failure", "If a step fails");
	list(&d, cJSON_GetObjectItemCaseSensitive(root, "on_failure"));
	heading(&d, 2, "verification", "How success is verified");
	list(&d, cJSON_GetObjectItemCaseSensitive(root, "verification"));
	if (f == TF_RUNBOOK_HTML)
		tf_strbuf_puts(&d.b, "</body>\n</html>\n");
	if (d.b.failed || d.b.s == NULL) {
		free(d.b.s);
		return -1;
	}
	*out = d.b.s;
	*len = d.b.len;
	return 0;
}

int tf_runbook_render_model(const char *model, enum tf_runbook_format f, char **out, size_t *len,
                            struct tf_err *err)
{
	cJSON *root = cJSON_Parse(model);
	int r;

	if (root == NULL)
		return tf_err_set(err, TF_E_NOMEM, "out of memory writing the runbook");
	r = render_doc(root, f, out, len);
	cJSON_Delete(root);
	if (r != 0)
		return tf_err_set(err, TF_E_NOMEM, "out of memory writing the runbook");
	return 0;
}

/* ---- the signatures as they stand ---- */

static void approvals(struct doc *d, const struct tf_runbook_approvals *a)
{
	const char *head[] = {"Key", "Holder", "Role", "Signature"};
	const char **cells = calloc(4 * (a->nsigners + 1), sizeof(*cells));
	char **keys = calloc(a->nsigners + 1, sizeof(*keys));
	char line[600];
	size_t i;

	if (cells == NULL || keys == NULL) {
		d->b.failed = 1;
		goto out;
	}
	if (a->required != NULL && a->problem != NULL)
		snprintf(line, sizeof(line), "Required by the trust policy: %s. Not met yet: %s.",
		         a->required,
		         strncmp(a->problem, "policy: ", 8) == 0 ? a->problem + 8 : a->problem);
	else if (a->required != NULL)
		snprintf(line, sizeof(line), "Required by the trust policy: %s. The policy is met.",
		         a->required);
	else
		snprintf(line, sizeof(line),
		         "No trust policy was given: the signatures below are "
		         "not checked (pass `--trust DIR`).");
	if (a->required != NULL && a->policy != NULL) {
		size_t l = strlen(line);

		snprintf(line + l, sizeof(line) - l, " (Trust folder: `%.400s`.)", a->policy);
	}
	if (d->f == TF_RUNBOOK_HTML)
		tf_strbuf_printf(&d->b, "<div class=\"%s\" id=\"signatures\">\n",
		                 a->required && !a->problem ? "approved" : "not-approved");
	para(d, line);
	for (i = 0; i < a->nsigners; i++) {
		if (asprintf(&keys[i], "`%.16s`", a->signers[i].keyid) < 0) {
			keys[i] = NULL;
			d->b.failed = 1;
			goto out;
		}
		cells[4 * i] = keys[i];
		cells[4 * i + 1] = a->signers[i].holder ? a->signers[i].holder : "-";
		cells[4 * i + 2] = a->signers[i].role ? a->signers[i].role : "-";
		cells[4 * i + 3] = a->signers[i].status ? a->signers[i].status : "?";
	}
	if (a->nsigners == 0)
		para(d, "The bundle has no signature yet.");
	else
		table(d, head, 4, cells, a->nsigners);
	if (d->f == TF_RUNBOOK_HTML)
		tf_strbuf_puts(&d->b, "</div>\n");
out:
	if (keys != NULL)
		for (i = 0; i < a->nsigners; i++)
			free(keys[i]);
	free(keys);
	free(cells);
}

static int approvals_json(const char *doc, size_t len, const struct tf_runbook_approvals *a,
                          char **out, size_t *outlen, struct tf_err *err)
{
	cJSON *root = cJSON_ParseWithLength(doc, len), *o, *arr;
	char *t = NULL;
	size_t i;

	if (root == NULL)
		return tf_err_set(err, TF_E_INPUT, "the runbook is not JSON");
	cJSON_DeleteItemFromObjectCaseSensitive(root, "approvals");
	if ((o = cJSON_AddObjectToObject(root, "approvals")) == NULL ||
	    (a->required && !cJSON_AddStringToObject(o, "required", a->required)) ||
	    (a->required && a->policy && !cJSON_AddStringToObject(o, "trust", a->policy)) ||
	    !cJSON_AddBoolToObject(o, "checked", a->required != NULL) ||
	    !cJSON_AddBoolToObject(o, "satisfied", a->required != NULL && a->problem == NULL) ||
	    (a->problem && !cJSON_AddStringToObject(o, "problem", a->problem)) ||
	    (arr = cJSON_AddArrayToObject(o, "signatures")) == NULL)
		goto nomem;
	for (i = 0; i < a->nsigners; i++) {
		cJSON *s = cJSON_CreateObject();

		if (s == NULL || !cJSON_AddItemToArray(arr, s) ||
		    !cJSON_AddStringToObject(s, "keyid", a->signers[i].keyid) ||
		    (a->signers[i].holder &&
		     !cJSON_AddStringToObject(s, "holder", a->signers[i].holder)) ||
		    (a->signers[i].role &&
		     !cJSON_AddStringToObject(s, "role", a->signers[i].role)) ||
		    !cJSON_AddStringToObject(s, "status",
		                             a->signers[i].status ? a->signers[i].status : "?"))
			goto nomem;
	}
	if ((t = cJSON_Print(root)) == NULL)
		goto nomem;
	cJSON_Delete(root);
	*outlen = strlen(t);
	*out = t;
	return 0;
nomem:
	cJSON_Delete(root);
	return tf_err_nomem(err);
}

int tf_runbook_with_approvals(const char *doc, size_t len, enum tf_runbook_format f,
                              const struct tf_runbook_approvals *a, char **out, size_t *outlen,
                              struct tf_err *err)
{
	struct doc d = {.b = {.max = 2 * (size_t)TF_RUNBOOK_MAX}, .f = f};
	const char *mark;
	size_t at;

	if (doc == NULL)
		return tf_err_set(err, TF_E_INPUT, "no runbook");
	if (f == TF_RUNBOOK_JSON)
		return approvals_json(doc, len, a, out, outlen, err);
	if (memchr(doc, '\0', len) != NULL || (mark = strstr(doc, TF_RUNBOOK_MARK)) == NULL)
		return tf_err_set(err, TF_E_INPUT, "the runbook has no place for the approvals");
	at = (size_t)(mark - doc);
	tf_strbuf_putn(&d.b, doc, at);
	approvals(&d, a);
	at += strlen(TF_RUNBOOK_MARK);
	if (at < len && doc[at] == '\n')
		at++; /* the inserted block ends its own paragraph */
	tf_strbuf_putn(&d.b, doc + at, len - at);
	if (d.b.failed) {
		free(d.b.s);
		return tf_err_nomem(err);
	}
	*out = d.b.s;
	*outlen = d.b.len;
	return 0;
}

int tf_runbook_show(const char *path, const struct tf_manifest *m, enum tf_runbook_format f,
                    const struct tf_runbook_approvals *a, char **out, size_t *len, int *rendered,
                    struct tf_err *err)
{
	const char *entry = f == TF_RUNBOOK_MD ? TF_RUNBOOK_MD_PATH : TF_RUNBOOK_HTML_PATH;
	char *doc = NULL;
	size_t n = 0;
	int r;

	*rendered = f == TF_RUNBOOK_JSON || tf_manifest_section(m, "runbook") == NULL;
	if (*rendered)
		r = tf_runbook_render(m, f, &doc, &n, err);
	else
		r = tf_bundle_read_payload(path, m, entry, TF_RUNBOOK_MAX, &doc, &n, err);
	if (r == 0)
		r = tf_runbook_with_approvals(doc, n, f, a, out, len, err);
	free(doc);
	return r;
}

int tf_runbook_format_parse(const char *s, enum tf_runbook_format *f, struct tf_err *err)
{
	if (strcmp(s, "md") == 0)
		*f = TF_RUNBOOK_MD;
	else if (strcmp(s, "html") == 0)
		*f = TF_RUNBOOK_HTML;
	else if (strcmp(s, "json") == 0)
		*f = TF_RUNBOOK_JSON;
	else
		return tf_err_set(err, TF_E_USAGE, "--format: '%s' is not md, html or json", s);
	return 0;
}
