/*
 * admintok.h: the config API's admin tokens (SPEC 9.6): HS256 JWTs with
 * header {"alg":"HS256","typ":"JWT","kid":"sc-admin-kid"} and claims
 * {"id": <user>, "role": "admin", "iat", "exp"}, signed with the admin
 * secret, which never signs or verifies anything else.
 */
#ifndef SY_ADMINTOK_H
#define SY_ADMINTOK_H

#include <stddef.h>

#define ADMINTOK_KID	"sc-admin-kid"

enum admintok_result {
	ADMINTOK_OK = 0,
	ADMINTOK_MALFORMED,	/* not a JWT, or its claims are not ours */
	ADMINTOK_BAD_ALG,	/* anything but HS256 (none included) */
	ADMINTOK_BAD_SIGNATURE,	/* another secret, or a changed token */
	ADMINTOK_EXPIRED,	/* exp + 30 s passed, or no exp */
	ADMINTOK_NOT_ADMIN	/* role not "admin" or id not the user */
};

struct admintok;

/*
 * The token maker and checker for user and secret (both copied; the
 * secret is wiped at admintok_free), tokens valid lifetime seconds.
 * NULL when out of memory.
 */
struct admintok	*admintok_new(const char *user, const char *secret,
		    double lifetime);
void		 admintok_free(struct admintok *);
/*
 * The checker that the registry's "#adm" record (cfadmin_record's JSON,
 * len bytes) describes, with the key's digest for logins; NULL when the
 * record is not one.  Caller frees with admintok_free.
 */
struct admintok	*admintok_from_record(const char *json, size_t len);
/*
 * 1 when user and key are the configured ones.  Both are hashed and the
 * digests compared in full, so the time taken depends neither on where
 * they differ nor on the length of the right key.  0 without a key.
 */
int		 admintok_login_ok(const struct admintok *, const char *user,
		    size_t ulen, const char *key, size_t klen);
/* The configured user (borrowed); whether the console is on. */
const char	*admintok_user(const struct admintok *);
int		 admintok_console(const struct admintok *);
/* A new token issued at now (Unix seconds).  Caller frees; NULL. */
char		*admintok_issue(const struct admintok *, double now);
/* Check a token (the text after "Bearer ") at now. */
enum admintok_result admintok_check(const struct admintok *,
		    const char *token, size_t len, double now);
/* A short lower-case reason for the audit log ("expired"). */
const char	*admintok_result_str(enum admintok_result);

#endif
