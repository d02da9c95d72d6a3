/* base_version: the one place the version is written. */
#ifndef CTFLOWD_BASE_VERSION_H
#define CTFLOWD_BASE_VERSION_H

#define CTFLOWD_VERSION "0.2.0"

#endif
