/*
 * base_log: the daemon's one logging sink.
 *
 * Library-like modules never log; they return -1 and set errno, and the caller
 * logs once at the boundary.  In the foreground (-d) messages go to stderr,
 * otherwise to syslog.  log_warn() appends strerror(errno), log_warnx() does not
 * (the bgpd convention).
 */
#ifndef CTFLOWD_BASE_LOG_H
#define CTFLOWD_BASE_LOG_H

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(int foreground, enum log_level level);
void log_set_level(enum log_level level);
/* While a daemon starts (stderr still the terminal): warnings and errors
 * go to stderr as well as to syslog, so a failed start says why. */
void log_echo_stderr(int on);
int log_level_parse(const char *s, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Warning with ": strerror(errno)" appended. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define log_warnx(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
