/*
 * ipfix_check.h: an independent structural check of an IPFIX message, for
 * the unit tests and the encoder's fuzz target: header version and length,
 * sets that tile the message exactly, template records whose specifiers fit
 * their set, data sets whose length is a whole number of records of a
 * template announced earlier in the message or passed in.  A withdrawal
 * (field count 0; the set's own id: all of them) forgets templates.
 */
#ifndef CTFLOWD_IPFIX_CHECK_H
#define CTFLOWD_IPFIX_CHECK_H

#include <stddef.h>
#include <stdint.h>

struct known_template {
	uint16_t id;
	uint32_t reclen;
};

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Parse one template record at p (inside a set ending at end); returns its
 * length, or 0 if malformed, and its record length in *reclen. */
static size_t check_template_record(const uint8_t *p, const uint8_t *end, int options,
				    uint16_t *id, uint32_t *reclen)
{
	size_t hdr = options ? 6 : 4, off;

	if ((size_t)(end - p) < hdr)
		return 0;
	*id = get16(p);
	uint16_t n = get16(p + 2);

	if (*id < 256 || n == 0 || (options && (get16(p + 4) == 0 || get16(p + 4) > n)))
		return 0;
	off = hdr;
	*reclen = 0;
	for (uint16_t i = 0; i < n; i++) {
		if ((size_t)(end - p) < off + 4)
			return 0;
		uint16_t ie = get16(p + off), len = get16(p + off + 2);

		off += (ie & 0x8000) ? 8 : 4;
		if ((size_t)(end - p) < off || len == 0 || len == 65535)
			return 0;
		*reclen += len;
	}
	return off;
}

/* 0 when the message is well-formed; the number of data records in *nrec. */
static int ipfix_check(const uint8_t *m, size_t len, struct known_template *known, size_t *nknown,
		       size_t maxknown, uint32_t *nrec)
{
	*nrec = 0;
	if (len < 16 || get16(m) != 10 || get16(m + 2) != len)
		return -1;
	for (size_t off = 16; off < len;) {
		if (len - off < 4)
			return -2;
		uint16_t set = get16(m + off), slen = get16(m + off + 2);

		if (slen < 4 || slen > len - off)
			return -3;
		const uint8_t *p = m + off + 4, *end = m + off + slen;

		if (set == 2 || set == 3) {
			while (p < end) {
				uint16_t id;
				uint32_t reclen;

				if (end - p >= 4 && get16(p + 2) == 0 &&
				    (get16(p) == set || get16(p) >= 256)) {
					*nknown = 0; /* (a single id's withdrawal: forgotten too) */
					p += 4;
					continue;
				}
				size_t n = check_template_record(p, end, set == 3, &id, &reclen);

				if (!n)
					return -4;
				if (*nknown < maxknown)
					known[(*nknown)++] = (struct known_template){ id, reclen };
				p += n;
			}
		} else if (set >= 256) {
			uint32_t reclen = 0;

			for (size_t i = 0; i < *nknown; i++)
				if (known[i].id == set)
					reclen = known[i].reclen;
			if (!reclen || (slen - 4) % reclen != 0)
				return -5;
			*nrec += (slen - 4) / reclen;
		} else {
			return -6;
		}
		off += slen;
	}
	return 0;
}

#endif
