/*
 * ipfix_enc: RFC 7011 message encoding.  Pure: bytes out of structs, no I/O,
 * no clock, no globals; unit-tested against golden bytes and fuzzed.
 *
 * A template is data: an array of field specifiers {IE, enterprise number,
 * length, value source}.  A record is encoded by walking its template and
 * taking each field's value from an ipfix_values table by source index:
 * integers big-endian in the field's length (shorter than the IE's type is
 * RFC 7011 reduced-size encoding), addresses and octet arrays copied.
 */
#ifndef CTFLOWD_IPFIX_ENC_H
#define CTFLOWD_IPFIX_ENC_H

#include <stddef.h>
#include <stdint.h>

#define IPFIX_VERSION 10
#define IPFIX_HDR_LEN 16
#define IPFIX_SET_HDR_LEN 4
#define IPFIX_SET_TEMPLATE 2
#define IPFIX_SET_OPTIONS_TEMPLATE 3
#define IPFIX_PEN_REVERSE 29305 /* RFC 5103 reverse information elements */

enum ipfix_kind { IPFIX_UINT, IPFIX_BYTES };

struct ipfix_field {
	uint16_t ie;   /* information element id, without the enterprise bit */
	uint16_t len;
	uint32_t pen;  /* 0 = IANA */
	uint8_t src;   /* index into ipfix_values */
	uint8_t kind;  /* enum ipfix_kind */
	uint8_t key;   /* a Flow Key field (RFC 7011 2); only reported, never encoded */
};

struct ipfix_template {
	uint16_t id;     /* 256..65535 */
	uint16_t nfields;
	uint16_t scope;  /* scope field count; > 0 makes it an options template */
	const struct ipfix_field *f;
};

#define IPFIX_MAX_SRC 64

struct ipfix_values {
	uint64_t u[IPFIX_MAX_SRC];
	const uint8_t *p[IPFIX_MAX_SRC];
};

struct ipfix_msg {
	uint8_t *buf;
	size_t cap, len;
	size_t set_off;   /* offset of the open set's header; 0 = none open */
	uint16_t set_id;
	uint32_t records; /* data records (flow and options) in this message */
};

/* Octets of a template's record in a (options) template set, and of one data record. */
size_t ipfix_template_len(const struct ipfix_template *t);
size_t ipfix_record_len(const struct ipfix_template *t);

void ipfix_msg_init(struct ipfix_msg *m, uint8_t *buf, size_t cap);
/*
 * Add a template record.  Data templates share one Template Set; each
 * options template gets a Set of its own and no padding (what pmacct and
 * python3-ipfix accept; RFC 7011 allows either).  -1 if it does not fit.
 */
int ipfix_msg_template(struct ipfix_msg *m, const struct ipfix_template *t);
/* Add a data record of template t.  -1 if it does not fit. */
int ipfix_msg_record(struct ipfix_msg *m, const struct ipfix_template *t,
		     const struct ipfix_values *v);
/* Withdraw template t (RFC 7011 8.1: its id, a field count of 0), in a
 * set of its kind.  One by one: libfixbuf and tshark refuse the "all
 * templates" form (the set's own id).  -1 if it does not fit. */
int ipfix_msg_withdraw(struct ipfix_msg *m, const struct ipfix_template *t);
/* Close the open set and write the header; returns the message length. */
size_t ipfix_msg_finish(struct ipfix_msg *m, uint32_t export_time, uint32_t seq, uint32_t odid);

#endif
