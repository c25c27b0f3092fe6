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

/* The pipes between storysync and the command, -1 once closed. */
struct exchange {
	int to;   /* its standard input */
	int from; /* its standard output and error */
	const char *p;
	size_t left;
	struct notify_output *out;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Writes what the command takes of the events without blocking; a command
 * that stops reading (EPIPE) gets no more. */
static void give(struct exchange *x)
{
	ssize_t w = write(x->to, x->p, x->left);

	if (w < 0 && errno != EINTR && errno != EAGAIN)
		close_fd(&x->to);
	if (w > 0) {
		x->p += w;
		x->left -= (size_t)w;
	}
	if (!x->left)
		close_fd(&x->to);
}

/* Reads what the command said: the first NOTIFY_OUTPUT_MAX bytes are
 * kept, the rest counted and dropped, so that it never blocks on a full
 * pipe and never reaches storysync's own output. False once nothing is
 * left to read now (would block, or end of file). */
static bool take(struct exchange *x)
{
	char chunk[8192];
	ssize_t n = read(x->from, chunk, sizeof(chunk));
	size_t room = NOTIFY_OUTPUT_MAX - x->out->head.len;

	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			close_fd(&x->from);
		return false;
	}
	buf_add(&x->out->head, chunk, (size_t)n < room ? (size_t)n : room);
	x->out->total += (size_t)n;
	return true;
}

/* Feeds the events and reads the output until the command exits or the
 * deadline passes; returns waitpid's answer (0: still running). */
static pid_t exchange(struct exchange *x, pid_t pid, int *status,
		      int64_t deadline)
{
	pid_t done = 0;

	while (!done && fsx_now_ns() < deadline) {
		struct pollfd pfd[2];
		int64_t left = (deadline - fsx_now_ns()) / 1000000;
		nfds_t n = 0;

		if (x->to >= 0)
			pfd[n++] =
				(struct pollfd){.fd = x->to, .events = POLLOUT};
		if (x->from >= 0)
			pfd[n++] = (struct pollfd){.fd = x->from,
						   .events = POLLIN};
		/* 10 ms at most: its exit is seen by polling waitpid */
		if (poll(pfd, n, left < 10 ? (int)left : 10) > 0) {
			for (nfds_t i = 0; i < n; i++) {
				if (!pfd[i].revents)
					continue;
				if (pfd[i].fd == x->to)
					give(x);
				else
					take(x);
			}
		}
		done = waitpid(pid, status, WNOHANG);
	}
	/* what it wrote before it exited; a child it left behind that still
	 * holds the pipe is not waited for */
	while (done && x->from >= 0 && fsx_now_ns() < deadline && take(x))
		;
	return done;
}

static pid_t start(const char *command, const char *dir, int in[2], int out[2])
{
	pid_t pid = fork();

	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		if (chdir(dir) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		setpgid(pid, pid); /* both sides: no race with the child's */
	return pid;
}

static bool ended(const char *command, int status, int timeout_s, bool done,
		  struct err *e)
{
	if (!done)
		return err_set(e, "notify: '%s' timed out after %d s; killed",
			       command, timeout_s);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	if (WIFEXITED(status))
		return err_set(e, "notify: '%s' exited %d", command,
			       WEXITSTATUS(status));
	return err_set(e, "notify: '%s' was killed by signal %d", command,
		       WTERMSIG(status));
}

bool notify_run(const char *command, const char *dir, int timeout_s,
		const char *lines, size_t len, struct notify_output *out,
		struct err *e)
{
	int64_t deadline = fsx_now_ns() + (int64_t)timeout_s * 1000000000;
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	int in[2] = {-1, -1}, from[2] = {-1, -1}, status = 0;
	struct exchange x = {.p = lines, .left = len, .out = out};
	pid_t pid = -1, done;
	bool ok = false;

	out->total = 0;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0 ||
	    (pid = start(command, dir, in, from)) < 0) {
		err_set(e, "notify: %s", strerror(errno));
		goto out;
	}
	close_fd(&in[0]);
	close_fd(&from[1]);
	x.to = in[1];
	x.from = from[0];
	in[1] = from[0] = -1;
	fcntl(x.to, F_SETFL, O_NONBLOCK);
	fcntl(x.from, F_SETFL, O_NONBLOCK);
	if (!len)
		close_fd(&x.to);
	done = exchange(&x, pid, &status, deadline);
	if (!done) {
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	ok = ended(command, status, timeout_s, done != 0, e);
	close_fd(&x.to);
	close_fd(&x.from);
out:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&from[0]);
	close_fd(&from[1]);
	signal(SIGPIPE, old_pipe);
	return ok;
}
