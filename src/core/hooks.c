/* hooks.c: installs and removes the git hooks, keeping any hook there. */
#include "hooks.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "fsx.h"
#include "mem.h"

#define MARKER    "# storysync hook"
#define HOOK_MODE 0755

const char *const hooks_names[HOOKS_COUNT] = {
	"post-commit",
	"post-merge",
	"post-checkout",
	"post-rewrite",
};

static bool has_marker(const struct buf *b)
{
	size_t m = strlen(MARKER);

	for (const char *p = b->data; p && p < b->data + b->len;) {
		const char *nl =
			memchr(p, '\n', (size_t)(b->data + b->len - p));
		size_t n =
			nl ? (size_t)(nl - p) : (size_t)(b->data + b->len - p);

		if (n == m && memcmp(p, MARKER, m) == 0)
			return true;
		if (!nl)
			break;
		p = nl + 1;
	}
	return false;
}

bool hooks_is_ours(const char *path)
{
	struct buf b = BUF_INIT;
	bool ours = fsx_read_path(path, 0, &b, NULL) && has_marker(&b);

	buf_finish(&b);
	return ours;
}

/* True when path is a regular file with mode 0755 and exactly src. */
static bool is_current(const char *path, const struct buf *src)
{
	struct buf b = BUF_INIT;
	enum fsx_entry_kind kind;
	struct stat st;
	bool same = fsx_lstat_at(AT_FDCWD, path, &st, &kind) &&
		    kind == FSX_FILE && (st.st_mode & 07777) == HOOK_MODE &&
		    fsx_read_path(path, 0, &b, NULL) && b.len == src->len &&
		    memcmp(b.data, src->data, b.len) == 0;

	buf_finish(&b);
	return same;
}

/* Writes path atomically with mode (whatever the umask), durably. */
static bool write_file(const char *path, const struct buf *b, mode_t mode,
		       struct err *e)
{
	const struct fsx_replace_opts o = {.mode = mode, .durable = true};

	return fsx_replace(path, b->data, b->len, &o, e);
}

/* Installs src_dir/name as dir/name; a foreign file there is kept as
 * name.storysync-chained when chain is set, else refused. */
static bool install_one(const char *dir, const char *src_dir, const char *name,
			bool chain, enum hooks_action *act, struct err *e)
{
	char *src = xasprintf("%s/%s", src_dir, name);
	char *dst = xasprintf("%s/%s", dir, name);
	char *chained = xasprintf("%s%s", dst, HOOKS_CHAINED_SUFFIX);
	struct buf b = BUF_INIT;
	bool ok = false;

	if (!fsx_read_path(src, 0, &b, e))
		goto out;
	*act = HOOKS_INSTALLED;
	if (fsx_exists(dst) && hooks_is_ours(dst)) {
		*act = is_current(dst, &b) ? HOOKS_UNCHANGED : HOOKS_UPDATED;
	} else if (fsx_exists(dst)) {
		if (!chain) {
			err_set(e, "%s: exists and is not storysync's", dst);
			goto out;
		}
		if (fsx_exists(chained)) {
			err_set(e,
				"%s: not a storysync hook, and %s already "
				"exists",
				dst, chained);
			goto out;
		}
		if (!fsx_rename(dst, chained, e))
			goto out;
		*act = HOOKS_CHAINED;
	}
	ok = *act == HOOKS_UNCHANGED || write_file(dst, &b, HOOK_MODE, e);
out:
	buf_finish(&b);
	free(chained);
	free(dst);
	free(src);
	return ok;
}

bool hooks_install(const char *hooks_dir, const char *src_dir,
		   enum hooks_action actions[HOOKS_COUNT], struct err *e)
{
	enum hooks_action act, ignored[HOOKS_COUNT];

	if (!actions)
		actions = ignored;
	if (!fsx_mkdirs(hooks_dir, 0777, e))
		return false;
	/* The helper first: a hook never runs without it. */
	if (!install_one(hooks_dir, src_dir, HOOKS_HELPER, false, &act, e))
		return false;
	for (size_t i = 0; i < HOOKS_COUNT; i++)
		if (!install_one(hooks_dir, src_dir, hooks_names[i], true,
				 &actions[i], e))
			return false;
	return true;
}

static bool uninstall_one(const char *dir, const char *name,
			  enum hooks_action *act, struct err *e)
{
	char *dst = xasprintf("%s/%s", dir, name);
	char *chained = xasprintf("%s%s", dst, HOOKS_CHAINED_SUFFIX);
	bool ok = false;

	*act = HOOKS_ABSENT;
	if (fsx_exists(dst) && !hooks_is_ours(dst)) {
		*act = HOOKS_FOREIGN;
		ok = true;
		goto out;
	}
	if (fsx_exists(dst)) {
		if (!fsx_unlink(dst, e))
			goto out;
		*act = HOOKS_REMOVED;
	}
	if (fsx_exists(chained)) {
		if (!fsx_rename(chained, dst, e))
			goto out;
		*act = HOOKS_RESTORED;
	}
	ok = true;
out:
	free(chained);
	free(dst);
	return ok;
}

bool hooks_uninstall(const char *hooks_dir,
		     enum hooks_action actions[HOOKS_COUNT], struct err *e)
{
	enum hooks_action ignored[HOOKS_COUNT];
	char *helper = xasprintf("%s/%s", hooks_dir, HOOKS_HELPER);
	bool ok = false;

	if (!actions)
		actions = ignored;
	for (size_t i = 0; i < HOOKS_COUNT; i++)
		if (!uninstall_one(hooks_dir, hooks_names[i], &actions[i], e))
			goto out;
	ok = !fsx_exists(helper) || !hooks_is_ours(helper) ||
	     fsx_unlink(helper, e);
out:
	free(helper);
	return ok;
}

/* The listed trees but skip (NULL: none skipped), one a line, into out;
 * *found tells whether skip was listed, *n how many lines out has. */
static bool read_trees(const char *list, const char *skip, struct buf *out,
		       bool *found, size_t *n, struct err *e)
{
	struct buf b = BUF_INIT;

	*found = false;
	*n = 0;
	if (!fsx_exists(list))
		return true;
	if (!fsx_read_path(list, 0, &b, e))
		return false;
	for (char *line = b.data, *nl; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		if (!*line)
			continue;
		if (skip && strcmp(line, skip) == 0) {
			*found = true;
			continue;
		}
		buf_printf(out, "%s\n", line);
		(*n)++;
	}
	buf_finish(&b);
	return true;
}

static bool tree_name_ok(const char *config, struct err *e)
{
	if (!*config || strchr(config, '\n') || *config == '/')
		return err_set(e,
			       "%s: a story tree's configuration must be a "
			       "relative path on one line",
			       config);
	return true;
}

bool hooks_add_tree(const char *hooks_dir, const char *config, bool *added,
		    struct err *e)
{
	char *list = xasprintf("%s/%s", hooks_dir, HOOKS_TREES);
	struct buf b = BUF_INIT;
	bool ok = false, found;
	size_t n;

	*added = false;
	if (!tree_name_ok(config, e) ||
	    !read_trees(list, config, &b, &found, &n, e))
		goto out;
	/* listed again at the end: the order is the order of installation */
	buf_printf(&b, "%s\n", config);
	*added = !found;
	ok = !*added || write_file(list, &b, 0644, e);
out:
	buf_finish(&b);
	free(list);
	return ok;
}

bool hooks_remove_tree(const char *hooks_dir, const char *config, size_t *left,
		       struct err *e)
{
	char *list = xasprintf("%s/%s", hooks_dir, HOOKS_TREES);
	struct buf b = BUF_INIT;
	bool ok = false, found;

	if (!read_trees(list, config, &b, &found, left, e))
		goto out;
	if (!found)
		ok = true;
	else if (*left)
		ok = write_file(list, &b, 0644, e);
	else
		ok = fsx_unlink(list, e);
out:
	buf_finish(&b);
	free(list);
	return ok;
}

const char *hooks_action_str(enum hooks_action a)
{
	switch (a) {
	case HOOKS_UNCHANGED: return "already installed";
	case HOOKS_INSTALLED: return "installed";
	case HOOKS_CHAINED: return "installed, chaining the existing hook";
	case HOOKS_UPDATED: return "updated";
	case HOOKS_REMOVED: return "removed";
	case HOOKS_RESTORED: return "removed, previous hook restored";
	case HOOKS_ABSENT: return "not installed";
	case HOOKS_FOREIGN: return "not a storysync hook; left alone";
	case HOOKS_KEPT: return "kept for the other story trees";
	}
	return "?";
}
