#include "kern_sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#ifndef SO_RCVBUFFORCE
#define SO_RCVBUFFORCE 33
#endif

long kern_sysctl(const char *dir, const char *name)
{
	char path[512], buf[64];
	FILE *f;
	long v = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 10);
	fclose(f);
	return v;
}

int kern_rcvbuf_set(int fd, uint64_t bytes)
{
	/* the kernel doubles the value: INT_MAX / 2 is the most it takes */
	int v = bytes > INT32_MAX / 2 ? INT32_MAX / 2 : (int)bytes;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == 0)
		return 1;
	return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) == 0 ? 0 : -1;
}

uint64_t kern_rcvbuf_get(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len) < 0)
		return 0;
	return (uint64_t)(unsigned)v;
}
