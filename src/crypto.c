/*
 * crypto.c: every call into OpenSSL (see crypto.h); no other file
 * includes it.  Each function leaves OpenSSL's error queue empty, so that
 * one failure never shows up as the reason of the next, and returns a
 * plain status: library error codes stop here.  Nothing logs.  A
 * struct crypto_key is an EVP_PKEY under another name.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto.h"

#define CK(k)	((EVP_PKEY *)(k))
#define KC(p)	((struct crypto_key *)(p))

int
crypto_sha256(const void *buf, size_t len, unsigned char md[CRYPTO_SHA256_LEN])
{
	return (EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL) == 1 ?
	    0 : -1);
}

/* Encrypted PEM keys are not supported: never prompt on a terminal. */
static int
crypto_pem_nopass(char *buf, int size, int rwflag, void *u)
{
	return (-1);
}

/* Why loading a PEM key failed, into why; clears OpenSSL's queue. */
static void
crypto_pem_reason(const char *pem, char *why, size_t len)
{
	unsigned long	 e;
	const char	*r = NULL;

	e = ERR_peek_error();
	if (strstr(pem, "-----BEGIN ") == NULL)
		r = "no \"-----BEGIN\" line";
	else if (e != 0)
		r = ERR_reason_error_string(e);
	snprintf(why, len, "%s", r != NULL ? r : "unsupported");
	ERR_clear_error();
}

static EVP_PKEY *
crypto_pem_read(BIO *bio, const char *pem, int private)
{
	EVP_PKEY	*pk;
	X509		*x;

	if (private)
		return (PEM_read_bio_PrivateKey(bio, NULL, crypto_pem_nopass,
		    NULL));
	if ((pk = PEM_read_bio_PUBKEY(bio, NULL, crypto_pem_nopass,
	    NULL)) == NULL && strstr(pem, "CERTIFICATE-----") != NULL) {
		ERR_clear_error();
		(void)BIO_reset(bio);
		if ((x = PEM_read_bio_X509(bio, NULL, crypto_pem_nopass,
		    NULL)) != NULL) {
			pk = X509_get_pubkey(x);
			X509_free(x);
		}
	}
	return (pk);
}

struct crypto_key *
crypto_pem_load(const char *pem, int private, int min_bits, char *why,
    size_t len)
{
	BIO		*bio;
	EVP_PKEY	*pk;

	ERR_clear_error();
	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL) {
		snprintf(why, len, "out of memory");
		return (NULL);
	}
	pk = crypto_pem_read(bio, pem, private);
	BIO_free(bio);
	if (pk == NULL)
		crypto_pem_reason(pem, why, len);
	else if (!EVP_PKEY_is_a(pk, "RSA"))
		snprintf(why, len, "not an RSA key (RS256 needs one)");
	else if (EVP_PKEY_get_bits(pk) < min_bits)
		snprintf(why, len, "a %d-bit RSA key is too short (at least "
		    "%d bits)", EVP_PKEY_get_bits(pk), min_bits);
	else
		return (KC(pk));
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return (NULL);
}

struct crypto_key *
crypto_rsa_from_ne(const unsigned char *n, size_t nlen,
    const unsigned char *e, size_t elen, int min_bits, size_t max_bytes)
{
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	EVP_PKEY	*pk = NULL;
	BIGNUM		*bn = NULL, *be = NULL;

	if (nlen > max_bytes || elen > 8 ||
	    (bn = BN_bin2bn(n, (int)nlen, NULL)) == NULL ||
	    (be = BN_bin2bn(e, (int)elen, NULL)) == NULL ||
	    !BN_is_odd(be) || BN_num_bits(be) < 2 ||
	    BN_num_bits(bn) < min_bits ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	ERR_clear_error();
	return (KC(pk));
}

struct crypto_key *
crypto_key_ref(struct crypto_key *k)
{
	if (EVP_PKEY_up_ref(CK(k)) != 1) {
		ERR_clear_error();
		return (NULL);
	}
	return (k);
}

void
crypto_key_free(struct crypto_key *k)
{
	EVP_PKEY_free(CK(k));
}

int
crypto_key_eq(struct crypto_key *a, struct crypto_key *b)
{
	int	eq;

	eq = EVP_PKEY_eq(CK(a), CK(b)) == 1;
	ERR_clear_error();
	return (eq);
}

int
crypto_key_spki_sha256(struct crypto_key *k,
    unsigned char md[CRYPTO_SHA256_LEN])
{
	unsigned char	*der = NULL;
	int		 n, rc;

	if ((n = i2d_PUBKEY(CK(k), &der)) <= 0) {
		ERR_clear_error();
		return (-1);
	}
	rc = crypto_sha256(der, (size_t)n, md);
	OPENSSL_free(der);
	return (rc);
}

int
crypto_hs256_verify(const void *key, size_t keylen, const void *in,
    size_t inlen, const unsigned char *sig, size_t siglen)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	int		 ok;

	if (siglen != CRYPTO_SHA256_LEN || keylen > INT_MAX ||
	    HMAC(EVP_sha256(), key, (int)keylen, in, inlen, md,
	    &mdlen) == NULL || mdlen != CRYPTO_SHA256_LEN)
		return (0);
	ok = CRYPTO_memcmp(md, sig, CRYPTO_SHA256_LEN) == 0;
	OPENSSL_cleanse(md, sizeof(md));
	return (ok);
}

/* RSASSA-PKCS1-v1_5 with SHA-256. */
int
crypto_rs256_verify(struct crypto_key *k, const void *in, size_t inlen,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX	*ctx;
	EVP_PKEY_CTX	*pctx = NULL;
	int		 ok = 0;

	if (siglen != (size_t)EVP_PKEY_get_size(CK(k)) ||
	    (ctx = EVP_MD_CTX_new()) == NULL)
		return (0);
	if (EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL,
	    CK(k)) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0 &&
	    EVP_DigestVerify(ctx, sig, siglen, in, inlen) == 1)
		ok = 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return (ok);
}

int
crypto_hs256_sign(const void *key, size_t keylen, const void *in,
    size_t inlen, unsigned char **sig, size_t *siglen)
{
	unsigned int	 mdlen = 0;

	if (keylen > INT_MAX || (*sig = malloc(EVP_MAX_MD_SIZE)) == NULL)
		return (-1);
	if (HMAC(EVP_sha256(), key, (int)keylen, in, inlen, *sig,
	    &mdlen) == NULL) {
		free(*sig);
		*sig = NULL;
		ERR_clear_error();
		return (-1);
	}
	*siglen = mdlen;
	return (0);
}

int
crypto_rs256_sign(struct crypto_key *k, const void *in, size_t inlen,
    unsigned char **sig, size_t *siglen)
{
	EVP_MD_CTX	*ctx;
	EVP_PKEY_CTX	*pctx = NULL;
	int		 rc = -1;

	*sig = NULL;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return (-1);
	if (EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, CK(k)) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0 &&
	    EVP_DigestSign(ctx, NULL, siglen, in, inlen) == 1 &&
	    (*sig = malloc(*siglen)) != NULL &&
	    EVP_DigestSign(ctx, *sig, siglen, in, inlen) == 1)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	if (rc == -1) {
		free(*sig);
		*sig = NULL;
	}
	return (rc);
}

int
crypto_random(void *buf, size_t n)
{
	if (n > INT_MAX || RAND_bytes(buf, (int)n) != 1) {
		ERR_clear_error();
		return (-1);
	}
	return (0);
}

void
crypto_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}
