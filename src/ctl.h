/*
 * ctl.h: the control channel between a worker and the master (SPEC
 * 9.5, 9.6): framed messages over a socketpair, like relayd's imsg.
 *
 * A frame is a 12-byte header in network byte order, then the payload:
 *
 *	u16 type | u16 reserved (0) | u32 request id | u32 payload length
 *
 * Payloads are sequences of fields: u32 and u64 numbers, and strings as
 * a u32 length (0xffffffff: absent, NULL) followed by the bytes.  The
 * worker numbers its requests; the master's CTL_ANSWER carries the id of
 * the request it answers.
 */
#ifndef SY_CTL_H
#define SY_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define CTL_HDR_LEN		12
/* a body is at most limits.maxBodyBytes; this bounds every frame */
#define CTL_MAX_PAYLOAD		(64u * 1024 * 1024)

enum ctl_type {
	CTL_SET_SERVICE = 1,	/* worker -> master: struct ctl_write */
	CTL_DELETE_SERVICE,	/* worker -> master: struct ctl_write */
	CTL_LOGIN,		/* worker -> master: struct ctl_login */
	CTL_ANSWER,		/* master -> worker: struct ctl_answer */
	CTL_TYPE_MAX = CTL_ANSWER
};

/* A decoded frame; payload borrowed until the next ctl_reader_next. */
struct ctl_msg {
	uint16_t	 type;
	uint32_t	 id;
	const char	*payload;
	size_t		 len;
};

/* A set or delete of projects.P.remoteServices.S (strings NUL-ended). */
struct ctl_write {
	char	*project;
	char	*service;
	char	*body;		/* set: the request body as received */
	size_t	 bodylen;
	char	*if_match;	/* NULL: no If-Match */
	char	*client;	/* "addr:port", for the audit line */
	char	*user;		/* from the token */
};

/*
 * A login the worker checked: ok is whether user and key were right.
 * The master counts it (lockout.h) and answers 200, 401 or 429.
 */
struct ctl_login {
	char		*addr;		/* the client address, the key */
	char		*client;	/* "addr:port" */
	char		*user;		/* as given in the body */
	uint32_t	 ok;
};

/* The master's answer: status, body, and the ETag after a write. */
struct ctl_answer {
	uint32_t	 status;
	uint32_t	 retry_after;	/* 429: seconds */
	uint64_t	 generation;
	char		*etag;		/* NULL: none */
	char		*body;		/* NULL: none */
	size_t		 bodylen;
};

/* Append one frame to out.  0 / -1 (too large, out of memory). */
int	 ctl_encode(struct sybuf *out, uint16_t type, uint32_t id,
	    const void *payload, size_t len);
int	 ctl_pack_write(struct sybuf *out, uint16_t type, uint32_t id,
	    const struct ctl_write *);
int	 ctl_pack_login(struct sybuf *out, uint32_t id,
	    const struct ctl_login *);
int	 ctl_pack_answer(struct sybuf *out, uint32_t id,
	    const struct ctl_answer *);
/*
 * Decode m's payload into the struct (strings allocated: free with the
 * matching ctl_*_free).  0 / -1 when the payload is malformed.
 */
int	 ctl_unpack_write(const struct ctl_msg *, struct ctl_write *);
int	 ctl_unpack_login(const struct ctl_msg *, struct ctl_login *);
int	 ctl_unpack_answer(const struct ctl_msg *, struct ctl_answer *);
void	 ctl_write_free(struct ctl_write *);
void	 ctl_login_free(struct ctl_login *);
void	 ctl_answer_free(struct ctl_answer *);

/* Bytes in, whole frames out, whatever the reads' sizes. */
struct ctl_reader {
	struct sybuf	 buf;
	size_t		 off;	/* consumed bytes at the start of buf */
	size_t		 max;	/* the largest payload accepted */
	int		 broken;
};

void	 ctl_reader_init(struct ctl_reader *, size_t max_payload);
void	 ctl_reader_free(struct ctl_reader *);
int	 ctl_reader_feed(struct ctl_reader *, const void *, size_t);
/*
 * 1 with the next frame in *m, 0 when more bytes are needed, -1 when
 * the stream is bad (unknown type, reserved bits, a payload over the
 * bound): the channel cannot be resynchronised and must be closed.
 */
int	 ctl_reader_next(struct ctl_reader *, struct ctl_msg *m);

enum ctl_io {
	CTL_IO_DONE = 0,	/* read: data taken; write: all written */
	CTL_IO_AGAIN,		/* would block: wait for the fd */
	CTL_IO_EOF,		/* read: the peer closed */
	CTL_IO_ERR		/* errno set */
};

/*
 * On a non-blocking fd: read what is there into r (until EAGAIN); write
 * out from *off on, advancing *off (out is reset when all is written).
 * EINTR is retried; a blocking fd also works (one read per call).
 */
enum ctl_io	 ctl_read_fd(int fd, struct ctl_reader *r);
enum ctl_io	 ctl_write_fd(int fd, struct sybuf *out, size_t *off);

#endif
