/*
 * mib_notify: the varbinds of every CTFLOW-MIB notification, in one place,
 * from the tables' named columns and the values they serve.
 */
#ifndef CTFLOWD_MIB_NOTIFY_H
#define CTFLOWD_MIB_NOTIFY_H

#include "mib_ctflow.h"

/*
 * snmpTrapOID.0 and the notification's objects, appended to *vars.  -1 when
 * it can no longer be told (its threshold or profile went since): nothing
 * is appended then.
 */
int mib_notify_varbinds(const struct out_view *v, const oid *root, size_t rootlen,
			const struct notification *n, netsnmp_variable_list **vars);

#endif
