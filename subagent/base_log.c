/*
 * base_log: stderr or syslog, filtered by level.
 *
 * The logger is the only process-wide state in ctflowd besides signal
 * disposition: a log line may be written from any module's caller and passing a
 * logger through every call would add noise without adding testability.
 */
#include "base_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdatomic.h>
#include <syslog.h>
#include <time.h>

/* Read by the SNMP thread too: the level may change on a reload. */
static struct {
	int foreground;
	atomic_int level;
	atomic_int echo;      /* daemon starting: errors to stderr as well */
} logger = { 1, LOG_LVL_INFO, 0 };

static const char *const level_names[] = { "error", "warning", "info", "debug" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

void log_init(int foreground, enum log_level level)
{
	logger.foreground = foreground;
	atomic_store(&logger.level, (int)level);
	if (!foreground)
		openlog("ctflowd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(enum log_level level)
{
	atomic_store(&logger.level, (int)level);
}

void log_echo_stderr(int on)
{
	atomic_store(&logger.echo, on);
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

__attribute__((format(printf, 3, 0)))
static void log_vemit(enum log_level level, const char *suffix, const char *fmt, va_list ap)
{
	char line[1024];

	if ((int)level > atomic_load(&logger.level))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (!logger.foreground) {
		syslog(syslog_prio[level], "%s%s%s", line, suffix ? ": " : "", suffix ? suffix : "");
		if (atomic_load(&logger.echo) && level <= LOG_LVL_WARN)
			fprintf(stderr, "ctflowd: %s%s%s\n", line, suffix ? ": " : "",
				suffix ? suffix : "");
		return;
	}
	struct timespec ts;
	struct tm tm;
	char stamp[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld ctflowd %s: %s%s%s\n", stamp, ts.tv_nsec / 1000000,
		level_names[level], line, suffix ? ": " : "", suffix ? suffix : "");
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(level, NULL, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *err = strerror(errno);

	va_start(ap, fmt);
	log_vemit(LOG_LVL_WARN, err, fmt, ap);
	va_end(ap);
}
