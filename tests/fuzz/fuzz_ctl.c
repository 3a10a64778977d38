/*
 * fuzz_ctl.c: what the master reads from a worker's control channel.
 * The input is a byte stream fed to a ctl_reader in pieces whose sizes
 * come from the first byte; every frame is unpacked with every
 * unpacker, and a payload that unpacks must pack back to the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_frame(const struct ctl_msg *m)
{
	struct ctl_write	 w;
	struct ctl_login	 l;
	struct ctl_answer	 a;
	struct sybuf		 b;
	int			 rc = -1;

	sybuf_init(&b);
	if (ctl_unpack_write(m, &w) == 0) {
		rc = ctl_pack_write(&b, m->type, m->id, &w);
		ctl_write_free(&w);
	}
	if (ctl_unpack_login(m, &l) == 0) {
		rc = ctl_pack_login(&b, m->id, &l);
		ctl_login_free(&l);
	}
	if (ctl_unpack_answer(m, &a) == 0) {
		rc = ctl_pack_answer(&b, m->id, &a);
		ctl_answer_free(&a);
	}
	if (rc == 0 && (b.len != CTL_HDR_LEN + m->len ||
	    memcmp(b.data + CTL_HDR_LEN, m->payload, m->len) != 0))
		abort();
	sybuf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_reader	 r;
	struct ctl_msg		 m;
	size_t			 step, off, n;
	int			 rc;

	if (size < 1)
		return (0);
	step = data[0] % 32 + 1;
	ctl_reader_init(&r, 4096);
	for (off = 1; off < size; off += n) {
		n = size - off < step ? size - off : step;
		if (ctl_reader_feed(&r, data + off, n) == -1)
			abort();
		while ((rc = ctl_reader_next(&r, &m)) == 1)
			check_frame(&m);
		if (rc == -1)
			break;
	}
	ctl_reader_free(&r);
	return (0);
}
