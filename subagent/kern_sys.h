/*
 * kern_sys: what ctflowd asks of the kernel besides conntrack messages: the
 * netfilter sysctls, and netlink receive buffers beyond net.core.rmem_max.
 */
#ifndef CTFLOWD_KERN_SYS_H
#define CTFLOWD_KERN_SYS_H

#include <stdint.h>

#define KERN_NETFILTER_SYSCTLS "/proc/sys/net/netfilter"

/* The number in dir/name (a sysctl file), or -1 if it cannot be read. */
long kern_sysctl(const char *dir, const char *name);

/*
 * Set fd's receive buffer to bytes: SO_RCVBUFFORCE (needs CAP_NET_ADMIN,
 * passes rmem_max), else SO_RCVBUF (capped by rmem_max).  1 forced, 0 set
 * within rmem_max, -1 failed (errno).
 */
int kern_rcvbuf_set(int fd, uint64_t bytes);
/* The buffer the kernel gave fd (it doubles what was asked), 0 if unknown. */
uint64_t kern_rcvbuf_get(int fd);

#endif
