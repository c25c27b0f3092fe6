/* Whose tree it is, and who else may write it (owner.h). */
#include "owner.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"

/* A user's name, or "uid N" (heap). */
static char *user_name(uid_t uid)
{
	const struct passwd *pw = getpwuid(uid);

	return pw ? xstrdup(pw->pw_name) : xasprintf("uid %ld", (long)uid);
}

/* The refusal: dir is owner's, not this user's; local is where the
 * setting would go, allowed the file that set it in vain (or NULL). */
static bool refuse(const char *dir, uid_t owner, const char *local,
		   const char *allowed, uid_t allowed_owner, struct err *e)
{
	char *them = user_name(owner), *me = user_name(geteuid());
	char *vain = NULL;

	if (allowed) {
		char *whose = user_name(allowed_owner);

		vain = xasprintf("; the allow_other_users of %s does not "
				 "count: that file is %s's, not %s's%s",
				 allowed, whose, me,
				 geteuid() ? " or root's" : "");
		free(whose);
	}
	err_set(e,
		"%s belongs to %s, not to %s who runs storysync: what it "
		"creates there would be %s's; nothing written. Run it as %s "
		"(sudo -u %s storysync ..., or User=%s in a drop-in of the "
		"systemd unit), or allow it with \"allow_other_users: true\" "
		"in %s, a file of %s's%s",
		dir, them, me, me, them, them, them,
		local ? local : "the configuration's untracked file", me,
		vain ? vain : "");
	free(vain);
	free(them);
	free(me);
	return false;
}

/* dir must be this user's, unless a file of this user's or root's
 * (allowed, when not NULL) allows others. */
static bool check(const char *dir, const char *local, const char *allowed,
		  struct err *e)
{
	struct stat st, by;
	bool have = allowed && stat(allowed, &by) == 0;

	if (stat(dir, &st) < 0)
		return err_set(e, "%s: %s", dir, strerror(errno));
	if (st.st_uid == geteuid())
		return true;
	/* the file that allows it counts when it is this user's or root's */
	if (have && (by.st_uid == geteuid() || by.st_uid == 0))
		return true;
	return refuse(dir, st.st_uid, local, have ? allowed : NULL,
		      have ? by.st_uid : 0, e);
}

bool owner_may_write(const struct config *c, struct err *e)
{
	char *local = config_local_path(c->file);
	bool ok = check(c->root, local,
			c->allow_other_users ? c->allowed_by : NULL, e);

	free(local);
	return ok;
}

bool owner_may_init(const char *dir, const char *local, struct err *e)
{
	struct config c = {0};
	struct err ignored;
	struct stat st;
	bool allows, ok;

	if (stat(dir, &st) < 0)
		return err_set(e, "%s: %s", dir, strerror(errno));
	if (st.st_uid == geteuid())
		return true;
	/* read as a service's file: it is all there is yet */
	allows = local && access(local, F_OK) == 0 &&
		 config_load(&c, local, &ignored) && c.allow_other_users;
	ok = check(dir, local, allows ? c.allowed_by : NULL, e);
	config_finish(&c);
	return ok;
}
