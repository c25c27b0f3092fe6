/*
 * HEAD as git reads it, for the common layouts only, without libgit2:
 * Debian's libgit2 parses every CA certificate when it starts (10 ms),
 * which would be most of the hook's no-op. Anything unusual (GIT_DIR set,
 * a reftable, a symlinked ref, a chain of symbolic refs) is "not sure",
 * and the caller asks libgit2.
 */
#include "githead.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsx.h"
#include "mem.h"

/* The contents of path, NULL when it cannot be read. */
static char *slurp(const char *path)
{
	struct file_stat st;
	char *data = NULL;
	size_t len;

	return fsx_read_at(AT_FDCWD, path, &data, &len, &st, NULL) ? data
								   : NULL;
}

static bool is_hex_id(const char *s, size_t n)
{
	if (n != GITHEAD_HEX - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

/* A 40-hex id at the start of s, ended by a newline or the end. */
static bool take_id(const char *s, char out[GITHEAD_HEX])
{
	size_t n = strcspn(s, "\n");

	if (!is_hex_id(s, n) || (s[n] && s[n + 1]))
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

char *githead_gitdir(const char *dir, char **workdir, bool *crossed)
{
	char *cur = xstrdup(dir), *git = NULL, *slash;
	struct stat st;
	bool first = true;
	dev_t dev = 0;

	*crossed = false;
	if (workdir)
		*workdir = NULL;
	for (;;) {
		free(git);
		git = xasprintf("%s/.git", cur);
		/* libgit2 stops its search at a filesystem's edge */
		if (stat(cur, &st) == 0) {
			*crossed = *crossed || (!first && st.st_dev != dev);
			dev = first ? st.st_dev : dev;
			first = false;
		}
		if (lstat(git, &st) == 0 && S_ISDIR(st.st_mode))
			break;
		if (lstat(git, &st) == 0 && S_ISREG(st.st_mode)) {
			char *text = slurp(git), *p;

			xfree(&git);
			if (text && strncmp(text, "gitdir: ", 8) == 0) {
				p = text + 8;
				p[strcspn(p, "\n")] = '\0';
				git = *p == '/' ? xstrdup(p)
						: xasprintf("%s/%s", cur, p);
			}
			free(text);
			break;
		}
		slash = strrchr(cur, '/');
		if (!slash || slash == cur) {
			xfree(&git);
			/* not looked at, nor worth looking at: say unsure */
			*crossed = *crossed || lstat("/.git", &st) == 0;
			break;
		}
		*slash = '\0';
	}
	if (git && workdir)
		*workdir = cur;
	else
		free(cur);
	return git;
}

char *githead_common_dir(const char *gitdir)
{
	char *path = xasprintf("%s/commondir", gitdir);
	char *text = slurp(path), *common;

	free(path);
	if (!text)
		return xstrdup(gitdir);
	text[strcspn(text, "\n")] = '\0';
	common =
		*text == '/' ? xstrdup(text) : xasprintf("%s/%s", gitdir, text);
	free(text);
	return common;
}

/* The id of ref (as "refs/heads/main") in packed-refs, if listed. */
static bool packed_ref(const char *common, const char *ref,
		       char out[GITHEAD_HEX])
{
	char *path = xasprintf("%s/packed-refs", common);
	char *text = slurp(path);
	size_t n = strlen(ref);
	bool found = false;

	free(path);
	for (char *line = text; line && *line && !found;) {
		char *nl = strchr(line, '\n');

		if (is_hex_id(line, strcspn(line, " ")) &&
		    line[GITHEAD_HEX - 1] == ' ' &&
		    strncmp(line + GITHEAD_HEX, ref, n) == 0 &&
		    (line[GITHEAD_HEX + n] == '\n' || !line[GITHEAD_HEX + n])) {
			memcpy(out, line, GITHEAD_HEX - 1);
			out[GITHEAD_HEX - 1] = '\0';
			found = true;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	return found;
}

/* The commit a branch ref names: its loose file, else packed-refs. */
static bool branch_id(const char *common, const char *ref,
		      char out[GITHEAD_HEX])
{
	char *path = xasprintf("%s/%s", common, ref);
	char *text = slurp(path);
	bool ok;

	free(path);
	if (text) {
		ok = take_id(text, out);
		free(text);
		return ok;
	}
	return packed_ref(common, ref, out);
}

/* Config keys that change how refs are stored or found. */
static bool plain_refs(const char *common)
{
	char *path = xasprintf("%s/config", common);
	char *text = slurp(path);
	bool plain = !text || (!strstr(text, "refstorage") &&
			       !strstr(text, "refStorage") &&
			       !strstr(text, "worktreeConfig"));

	free(path);
	free(text);
	return plain;
}

bool githead_read(const char *dir, char out[GITHEAD_HEX])
{
	char *gitdir = NULL, *common = NULL, *head = NULL, *text = NULL;
	bool ok = false, crossed;

	out[0] = '\0';
	if (getenv("GIT_DIR") || getenv("GIT_WORK_TREE") ||
	    getenv("GIT_COMMON_DIR") || getenv("GIT_CEILING_DIRECTORIES"))
		return false;
	gitdir = githead_gitdir(dir, NULL, &crossed);
	/* found beyond a filesystem's edge: libgit2 would not look there */
	if (!gitdir || crossed)
		goto out;
	common = githead_common_dir(gitdir);
	if (!plain_refs(common))
		goto out;
	head = xasprintf("%s/HEAD", gitdir);
	text = slurp(head);
	if (!text)
		goto out;
	if (strncmp(text, "ref: refs/heads/", 16) == 0) {
		char *ref = text + 5;

		ref[strcspn(ref, "\n")] = '\0';
		ok = !strstr(ref, "..") && branch_id(common, ref, out);
	} else {
		ok = take_id(text, out);
	}
out:
	free(text);
	if (!ok)
		out[0] = '\0';
	free(head);
	free(common);
	free(gitdir);
	return ok;
}
