/*
 * main: the command line, start-up and shut-down.
 *
 * Everything that can fail at start (the configuration, the state, the
 * sockets, the capabilities they need, the SNMP registrations) fails before
 * ctflowd detaches: the parent waits on a pipe until the daemon says it
 * runs, and exits non-zero with the reason on stderr (and in the log) if it
 * does not.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctflowd.h"
#include "base_log.h"
#include "base_version.h"
#include "ipfix_export.h"
#include "kern_check.h"
#include "snmp_agent.h"

#define DEFAULT_CONF "/etc/ctflowd/ctflowd.conf"
#define EXIT_CONF 2     /* the configuration or the command line */
#define EXIT_START 1    /* anything else that stopped the start */

/* ---- detaching ---- */

/*
 * Fork twice (no controlling terminal, not a session leader); the first
 * process waits for one status byte from the daemon on `*ready`: 0 once it
 * runs, else its exit status.  The daemon's side returns 0.
 */
static int detach(int *ready)
{
	int p[2];
	unsigned char status = EXIT_START;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) { /* the caller: wait for the daemon's word */
		ssize_t n;

		close(p[1]);
		while ((n = read(p[0], &status, 1)) < 0 && errno == EINTR)
			;
		if (n == 0) /* it said nothing: it died (a crash) before it ran */
			fprintf(stderr, "ctflowd: the daemon ended while starting\n");
		waitpid(pid, NULL, 0);
		_exit(status);
	}
	close(p[0]);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0); /* (the pipe stays open in the daemon) */
	*ready = p[1];
	return 0;
}

/* Tell the waiting parent how the start went; then stdio goes to /dev/null. */
static void say_ready(int *ready, unsigned char status)
{
	int fd;

	if (*ready < 0)
		return;
	if (write(*ready, &status, 1) < 0)
		log_warn("start-up status");
	close(*ready);
	*ready = -1;
	log_echo_stderr(0);
	if (status != 0 || chdir("/") < 0)
		return;
	fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

/* ---- start-up ---- */

/* SIGUSR1: the tables as JSON; SIGHUP: reload; the others: stop. */
static void on_signal(void *arg, short revents)
{
	struct ctflowd *d = arg;
	struct signalfd_siginfo si;

	(void)revents;
	while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGUSR1:
			run_write_tables(d);
			break;
		case SIGHUP:
			ctflowd_reload(d);
			break;
		default:
			log_info("signal %u: shutting down", si.ssi_signo);
			loop_stop(d->loop);
		}
	}
}

static int setup_signals(struct ctflowd *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return d->sigfd < 0 ? -1 : 0;
}

/* The credentials file is read before the thread starts: its errors end
 * the start, on the terminal that started ctflowd. */
static int load_creds(struct ctflowd *d)
{
	char err[1024];

	if (d->conf.snmp != SNMP_LISTEN && d->conf.snmp != SNMP_BOTH)
		return 0;
	d->creds = malloc(sizeof(*d->creds));
	if (!d->creds)
		return log_warn("snmp_credentials"), -1;
	if (snmp_creds_load(d->creds, d->conf.snmp_credentials, err, sizeof(err)) < 0) {
		log_warnx("snmp_credentials: %s", err);
		return -1;
	}
	return 0;
}

static int start_snmp(struct ctflowd *d)
{
	struct snmp_agent_cfg cfg = {
		.mode = (int)d->conf.snmp,
		.socket = d->conf.agentx_socket,
		.ping_ms = d->conf.agentx_ping_ms,
		.root = d->conf.snmp_root,
		.root_len = d->conf.snmp_root_len,
		.listen = d->conf.snmp_listen,
		.creds_path = d->conf.snmp_credentials,
		.contact = d->conf.snmp_contact,
		.location = d->conf.snmp_location,
	};

	if (d->conf.snmp == SNMP_OFF)
		return 0;
	if (load_creds(d) < 0)
		return -1;
	cfg.creds = d->creds;
	d->snmp = snmp_agent_start(&cfg, &d->view, d->notifier, &d->lock);
	return d->snmp ? 0 : -1;
}

static int write_pid_file(const char *path)
{
	FILE *f;

	if (!path[0])
		return 0;
	f = fopen(path, "w");
	if (!f)
		return log_warn("writing pid file %s", path), -1;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) == 0 ? 0 : (log_warn("writing pid file %s", path), -1);
}

static void log_started(struct ctflowd *d)
{
	struct track_stats ts;
	char state[PATH_MAX + 80];

	track_get_stats(d->track, &ts);
	if (!store_persistent(d->store))
		snprintf(state, sizeof(state), "no state_dir: nothing survives a restart");
	else if (d->health.state_kept)
		snprintf(state, sizeof(state), "state kept from the last run (%llu flows tracked)",
			 (unsigned long long)ts.recovered);
	else
		snprintf(state, sizeof(state), "new state in %s", d->conf.state_dir);
	log_info("ctflowd %s started: %zu profiles, dump every %u ms, %s", CTFLOWD_VERSION,
		 d->conf.nprofiles, d->conf.dump_interval_ms, state);
}

/* clean: the state is complete (an orderly exit), not left by a failed start */
static void teardown(struct ctflowd *d, int clean, int rc)
{
	int snmp_gone = snmp_agent_stop(d->snmp) == 0; /* first: it reads everything below */

	if (clean)
		store_seal(d->store);
	if (!snmp_gone) {
		/* the SNMP thread may still touch the state: end the process here */
		if (d->conf.pid_file[0])
			unlink(d->conf.pid_file);
		_exit(rc);
	}
	ipfix_exporter_free(d->ipfix);
	ctsock_close(d->cs);
	track_free(d->track);
	notify_free(d->notifier);
	thresh_set_free(d->thresh);
	free(d->creds);
	agg_set_free(d->agg);
	loop_free(d->loop);
	store_close(d->store);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->conf.pid_file[0])
		unlink(d->conf.pid_file);
}

/* ---- the command line ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ctflowd [-d] [-f FILE] [--check-kernel] [--version] [--help]\n"
		"  -f, --config FILE   configuration file (default " DEFAULT_CONF ")\n"
		"  -d, --foreground    stay in the foreground and log to stderr\n"
		"      --check-kernel  report whether conntrack accounting can work here, then exit\n"
		"      --version       print the version and exit\n"
		"  SIGUSR1 writes the tables as JSON to dump_file.\n");
}

struct options {
	const char *conf_path;
	int explicit_conf;
	int foreground;
	int check_kernel;
};

/* Returns -1 to exit with status 2, 1 to exit 0 (help/version), 0 to run. */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "foreground", no_argument, NULL, 'd' },
		{ "check-kernel", no_argument, NULL, 'K' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ DEFAULT_CONF, 0, 0, 0 };
	while ((c = getopt_long(argc, argv, "f:dh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': o->conf_path = optarg; o->explicit_conf = 1; break;
		case 'd': o->foreground = 1; break;
		case 'K': o->check_kernel = 1; break;
		case 'V': printf("ctflowd %s\n", CTFLOWD_VERSION); return 1;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ctflowd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/*
 * The configuration file, then the state file's thresholds (those managers
 * created, nonVolatile); an entry there that no longer fits is skipped with
 * a log line.
 */
static int load_conf(struct conf *c, const struct options *o)
{
	char err[1024];

	conf_defaults(c);
	if ((o->explicit_conf || access(o->conf_path, F_OK) == 0) &&
	    conf_load(c, o->conf_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "ctflowd: %s\n", err);
		return -1;
	}
	if (c->state_file[0] && conf_load_state(c, c->state_file, err, sizeof(err)) < 0) {
		fprintf(stderr, "ctflowd: %s\n", err);
		return -1;
	}
	return 0;
}

/* Everything up to the loop; 0, or the exit status. */
static int start(struct ctflowd *d, const struct options *o, int *ready)
{
	log_init(o->foreground, d->conf.log_level);
	if (!o->foreground) {
		log_echo_stderr(1);
		if (detach(ready) < 0)
			return log_warn("detaching"), EXIT_START;
	}
	d->health.started = (uint64_t)time(NULL);
	if (d->conf.timezone[0])
		setenv("TZ", d->conf.timezone, 1);
	tzset(); /* calendar periods; no thread runs yet */
	run_refresh_kernel(d);
	view_init(d);
	if (setup_signals(d) < 0)
		return log_warn("signals"), EXIT_START;
	if (run_setup(d) < 0 || start_snmp(d) < 0 || write_pid_file(d->conf.pid_file) < 0)
		return EXIT_START;
	d->h_sig = loop_io_add(d->loop, d->sigfd, POLLIN, on_signal, d);
	if (d->h_sig < 0)
		return log_warn("signals"), EXIT_START;
	log_started(d);
	say_ready(ready, 0);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct ctflowd *d = calloc(1, sizeof(*d));
	int rc, ready = -1, clean = 0;

	if (!d)
		return EXIT_START;
	d->sigfd = -1;
	rc = parse_args(argc, argv, &o);
	if (rc != 0 || load_conf(&d->conf, &o) < 0) {
		free(d);
		return rc > 0 ? 0 : EXIT_CONF;
	}
	if (o.check_kernel) {
		const struct kcheck_cfg kc = { d->conf.rcvbuf, d->conf.max_tracked_flows, NULL };

		rc = kcheck_run(&kc, stdout);
		free(d);
		return rc;
	}
	lock_init(&d->lock);
	lock_take(&d->lock); /* the event thread's, except while it waits in poll() */
	rc = start(d, &o, &ready);
	if (rc == 0) {
		rc = loop_run(d->loop) < 0 ? EXIT_START : 0;
		if (rc)
			log_warn("event loop");
		run_drain_export(d);
		run_write_tables(d);
		clean = rc == 0;
	} else {
		log_warnx("ctflowd did not start");
	}
	say_ready(&ready, (unsigned char)rc);
	teardown(d, clean, rc);
	lock_give(&d->lock);
	lock_destroy(&d->lock);
	free(d);
	return rc;
}
