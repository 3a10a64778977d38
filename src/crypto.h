/*
 * crypto.h: the only module that includes OpenSSL.  SHA-256, HMAC-SHA256
 * and RSASSA-PKCS1-v1_5 with SHA-256 (sign and verify), RSA keys from
 * PEM text or from a JWK's modulus and exponent, random bytes, and
 * wiping secrets.  A struct crypto_key is an RSA key, opaque outside.
 */
#ifndef SY_CRYPTO_H
#define SY_CRYPTO_H

#include <stddef.h>

#define CRYPTO_SHA256_LEN	32

struct crypto_key;

/* SHA-256 of buf into md.  0 / -1. */
int	 crypto_sha256(const void *buf, size_t len,
	    unsigned char md[CRYPTO_SHA256_LEN]);

/*
 * Load a PEM key: private (PKCS#1 or PKCS#8), or public (SPKI, PKCS#1 or
 * an X.509 certificate's).  The key must be RSA with at least min_bits.
 * NULL with the reason in why.  Caller frees with crypto_key_free.
 */
struct crypto_key *crypto_pem_load(const char *pem, int private,
	    int min_bits, char *why, size_t len);
/*
 * An RSA public key from its big-endian modulus and exponent, or NULL
 * when they are junk: a modulus over max_bytes or under min_bits, an
 * even or tiny exponent.  Caller frees.
 */
struct crypto_key *crypto_rsa_from_ne(const unsigned char *n, size_t nlen,
	    const unsigned char *e, size_t elen, int min_bits,
	    size_t max_bytes);
/* One more reference to k (free each with crypto_key_free), or NULL. */
struct crypto_key *crypto_key_ref(struct crypto_key *k);
void	 crypto_key_free(struct crypto_key *k);
/* 1 when a and b are the same public key. */
int	 crypto_key_eq(struct crypto_key *a, struct crypto_key *b);
/* SHA-256 of k's DER SubjectPublicKeyInfo.  0 / -1. */
int	 crypto_key_spki_sha256(struct crypto_key *k,
	    unsigned char md[CRYPTO_SHA256_LEN]);

/* 1 when sig is the HMAC-SHA256 of in under key (constant time). */
int	 crypto_hs256_verify(const void *key, size_t keylen, const void *in,
	    size_t inlen, const unsigned char *sig, size_t siglen);
/* 1 when sig is k's RS256 signature of in. */
int	 crypto_rs256_verify(struct crypto_key *k, const void *in,
	    size_t inlen, const unsigned char *sig, size_t siglen);
/* The HS256 / RS256 signature of in into *sig (caller frees).  0 / -1. */
int	 crypto_hs256_sign(const void *key, size_t keylen, const void *in,
	    size_t inlen, unsigned char **sig, size_t *siglen);
int	 crypto_rs256_sign(struct crypto_key *k, const void *in, size_t inlen,
	    unsigned char **sig, size_t *siglen);

/* n random bytes into buf.  0 / -1. */
int	 crypto_random(void *buf, size_t n);
/* Overwrite p[0..n) in a way the compiler cannot drop. */
void	 crypto_wipe(void *p, size_t n);

#endif
