/* The notify command: the run's events to a command of the operator's. */
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fsx.h"

/* Writes what it can of the input without blocking past the deadline; a
 * command that does not read it all is not waited for. */
static void feed(int fd, const char *p, size_t len, int64_t deadline)
{
	while (len) {
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		int64_t left = (deadline - fsx_now_ns()) / 1000000;
		ssize_t w;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return;
		w = write(fd, p, len);
		if (w < 0 && errno != EINTR && errno != EAGAIN)
			return; /* EPIPE: it stopped reading */
		if (w > 0) {
			p += w;
			len -= (size_t)w;
		}
	}
}

bool notify_run(const char *command, const char *dir, int timeout_s,
		const char *lines, size_t len, struct err *e)
{
	int64_t deadline = fsx_now_ns() + (int64_t)timeout_s * 1000000000;
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	int in[2], status = 0;
	pid_t pid, done = 0;

	if (pipe2(in, O_CLOEXEC) < 0) {
		signal(SIGPIPE, old_pipe);
		return err_set(e, "notify: %s", strerror(errno));
	}
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		dup2(in[0], 0);
		if (chdir(dir) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	if (pid < 0) {
		close(in[1]);
		signal(SIGPIPE, old_pipe);
		return err_set(e, "notify: %s", strerror(errno));
	}
	setpgid(pid, pid); /* both sides: no race with the child's */
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	feed(in[1], lines, len, deadline);
	close(in[1]);
	while ((done = waitpid(pid, &status, WNOHANG)) == 0 &&
	       fsx_now_ns() < deadline) {
		struct timespec ts = {.tv_nsec = 10000000};

		nanosleep(&ts, NULL);
	}
	signal(SIGPIPE, old_pipe);
	if (done == 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
		return err_set(e, "notify: '%s' timed out after %d s; killed",
			       command, timeout_s);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	if (WIFEXITED(status))
		return err_set(e, "notify: '%s' exited %d", command,
			       WEXITSTATUS(status));
	return err_set(e, "notify: '%s' was killed by signal %d", command,
		       WTERMSIG(status));
}
