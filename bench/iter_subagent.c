/*
 * iter_subagent: the baseline make bench compares ctflowd's tables with: a
 * minimal AgentX subagent serving N rows (Unsigned32 index, one Counter64
 * column) through net-snmp's table_iterator helper, the way mib2c's
 * iterate template and most subagents do it.  Built for the benchmark only.
 *
 *   iter_subagent SOCKET ROWS     registers .1.3.6.1.4.1.32473.99.1 (table)
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <signal.h>
#include <stdlib.h>

static uint64_t *values;
static u_long nrows;
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static netsnmp_variable_list *next_row(void **loop_ctx, void **data_ctx,
				       netsnmp_variable_list *index, netsnmp_iterator_info *info)
{
	u_long i = (u_long)(uintptr_t)*loop_ctx;

	(void)info;
	if (i >= nrows)
		return NULL;
	u_long idx = i + 1;

	snmp_set_var_typed_value(index, ASN_UNSIGNED, &idx, sizeof(idx));
	*data_ctx = &values[i];
	*loop_ctx = (void *)(uintptr_t)(i + 1);
	return index;
}

static netsnmp_variable_list *first_row(void **loop_ctx, void **data_ctx,
					netsnmp_variable_list *index, netsnmp_iterator_info *info)
{
	*loop_ctx = (void *)0;
	return next_row(loop_ctx, data_ctx, index, info);
}

static int handler(netsnmp_mib_handler *h, netsnmp_handler_registration *reg,
		   netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	(void)h;
	(void)reg;
	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	for (netsnmp_request_info *r = requests; r; r = r->next) {
		uint64_t *v = netsnmp_extract_iterator_context(r);
		netsnmp_table_request_info *ti = netsnmp_extract_table_info(r);

		if (!v || !ti || ti->colnum != 2) {
			netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
			continue;
		}
		struct counter64 c = { (u_long)(*v >> 32), (u_long)(*v & 0xffffffffu) };

		snmp_set_var_typed_value(r->requestvb, ASN_COUNTER64, &c, sizeof(c));
	}
	return SNMP_ERR_NOERROR;
}

int main(int argc, char **argv)
{
	static const oid table[] = { 1, 3, 6, 1, 4, 1, 32473, 99, 1 };
	netsnmp_table_registration_info *ti;
	netsnmp_iterator_info *ii;

	if (argc != 3)
		return 2;
	nrows = strtoul(argv[2], NULL, 10);
	values = calloc(nrows, sizeof(*values));
	for (u_long i = 0; i < nrows; i++)
		values[i] = (uint64_t)i * 1000;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET, argv[1]);
	init_agent("itersub");
	ti = SNMP_MALLOC_TYPEDEF(netsnmp_table_registration_info);
	netsnmp_table_helper_add_indexes(ti, ASN_UNSIGNED, 0);
	ti->min_column = 2;
	ti->max_column = 2;
	ii = SNMP_MALLOC_TYPEDEF(netsnmp_iterator_info);
	ii->get_first_data_point = first_row;
	ii->get_next_data_point = next_row;
	ii->table_reginfo = ti;
	netsnmp_register_table_iterator(
		netsnmp_create_handler_registration("iterbase", handler, table,
						    sizeof(table) / sizeof(table[0]), HANDLER_CAN_RONLY),
		ii);
	init_snmp("itersub");
	while (!stop)
		agent_check_and_process(1);
	snmp_shutdown("itersub");
	return 0;
}
