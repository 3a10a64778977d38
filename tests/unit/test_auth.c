/*
 * test_auth.c: tokens (SPEC sections 4 and 5).  Every token and key below
 * was made by an independent implementation, not by auth.c: RSA keys by
 * "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048" (1024
 * for the short one, ec_paramgen_curve:P-256 for the EC one), tokens and
 * JWKS documents by Debian's python3-jwt 2.6.0 (jwt.encode, or its
 * HMACAlgorithm/RSAAlgorithm sign() over exact header and claims bytes
 * where pyjwt would order the header differently or refuses the key, as
 * for the RSA public key PEM used as an HMAC secret), kids by hashlib.
 * Far-future tokens expire at 4102444800 (2100-01-01) and every check
 * passes "now" explicitly, so no test depends on the clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "auth.h"
#include "util.h"

#define NOW		1700000000.0
#define FAR		4102444800.0
#define S1		"s3cret-one"
#define S2		"s3cret-two"
#define JWKS_URL	"https://idp.example/jwks"
#define PATH		"projects.p.secrets"

static const char RSA_A_KEY[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDCOa/5QPCCo3AV\n"
	"nRSQk2YCMMDyL7CIYqFOGj9A5GOQUGQHFPKQSLdkqVqt76onoeqaqYLeiRTeqzA6\n"
	"cToWh09MfNdwVfkpBCkpRXWVYhDpKJIq4KOmqmIbNteDPJ04ro7Fc3tBOLdHU7TV\n"
	"8Ab0lDGxWv2e38pzo3CLwQyID9bCq8IdyEEHt6oMMtOM2r9eXN1yiK4/7HZjyMXm\n"
	"Gm4gH8974H877+Uub0ttU2gzyBA3fe/WOmNvFmNn3zL6wrlFEfr23wpf5FuYADcC\n"
	"hZKhU6nIWvur8SEy+CTAtt9QBYId+HJlqP8yoI0cX/lI/WS/Y89dR2W3ZSQBvgBY\n"
	"oklAv1RxAgMBAAECggEAJ6Wi+Fx7PA+k16SjCAgusI/HMyjs/koz5z+QXezBLjpa\n"
	"0N9DzJQra47uhccAkuqIe13S6x5Mdk+3npZyZxrj4xcw2yuRmv/Qby5QnFfSX+X6\n"
	"QGpuvZzWPfvp7k43QdTQLBowtNWhBBxgM7O1l8OQiUWrs/y21PguBzk3F6c0DbSq\n"
	"cJE6b6+tz1EFeKfbjq4tLHhIEf33F3QQL1JeUH24CEjmiE65Umbks79AJlQF3R8H\n"
	"qE/8Y28C+eeVGo4qjioU2lRaxOxdDRmEX80RzjNQnFPDVdmDKo1iB7HEYloNpk0C\n"
	"KE2rQy+wiCKbMzM9RWE+f0tDq9dAncnoB41yCaDN6QKBgQD4Xouo6+nBk+XGNKn3\n"
	"qN5ujrAZaL4IS+4VB0Vt2F10dkZtQUOgB3+kFff9FFQIyCbAgWbvYR8za1RsPozz\n"
	"r+9UHLXekrlPxXorn4C/99j7wOFREaH7lc610JhYV7mme9k8etMKlgOULusgFvzH\n"
	"6k1ejBICre9rMdXY58IVdnBGKwKBgQDIMUsA4Rfb3AV4A59rdrHpWO4KoslfLaWn\n"
	"Mw7Cm6Z70hvB99EYPNyciU19T13ATdXtGHCfRkZdKv5Mrw77Mew1toG2A8KkJ4Ou\n"
	"g6MVkzjMbIFxKgqykVNKorzRXjSqS08UcVN+y3pXgCFj7yvjlca5EGZbNVcE6jCH\n"
	"jT7HnRf90wKBgQDXMKN0kiIQFGJKnqp855UA2SP+f9/WNGNtWMVw7LvcAfX3B0re\n"
	"RmDy/A3G+mvsx+27cOKMmOt9k4qr1m4tXMvRZqa01w8z7HdzgFj++nDHf1A4+zwL\n"
	"TLqykK7OLAOwGTIY0pozW9Jx+0zAmuodFAZA2r9oDueXSrBrpDFmgx23zQKBgAZu\n"
	"FuOjVznXmlFdhGxWNqaxFYw/6EnnVG/HYwz7JODLQdr8E7o8kjVw74071F4N4fYo\n"
	"l81122K4s8xQvyFwXA7pmsb23fSZ1E/xqHZT8ToXrhytZgSQSGWYTopHBVgG7TZR\n"
	"4YWsEXToB6qHDxjTQbvF/BOn5fCheQeRkNemgxPDAoGBANR8G4psn5Sj+iRbfE7c\n"
	"r0GPttRn9RNAOZAFFKtRIQPfGRLdsmfMcMa+aAvEx8E0oat5t2rGNfu54kxIEk9h\n"
	"XDllCZyhMCQ4RRBTf5YeFMUz/ynzC3XKrMY9qoIzc83ys2Zk20HtU479O3upoKkR\n"
	"ur56iZLgCxQS5cZA12Gcqcaa\n"
	"-----END PRIVATE KEY-----\n";

static const char RSA_A_PUB[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwjmv+UDwgqNwFZ0UkJNm\n"
	"AjDA8i+wiGKhTho/QORjkFBkBxTykEi3ZKlare+qJ6HqmqmC3okU3qswOnE6FodP\n"
	"THzXcFX5KQQpKUV1lWIQ6SiSKuCjpqpiGzbXgzydOK6OxXN7QTi3R1O01fAG9JQx\n"
	"sVr9nt/Kc6Nwi8EMiA/WwqvCHchBB7eqDDLTjNq/XlzdcoiuP+x2Y8jF5hpuIB/P\n"
	"e+B/O+/lLm9LbVNoM8gQN33v1jpjbxZjZ98y+sK5RRH69t8KX+RbmAA3AoWSoVOp\n"
	"yFr7q/EhMvgkwLbfUAWCHfhyZaj/MqCNHF/5SP1kv2PPXUdlt2UkAb4AWKJJQL9U\n"
	"cQIDAQAB\n"
	"-----END PUBLIC KEY-----\n";

static const char RSA_A_PUB_PKCS1[] =
	"-----BEGIN RSA PUBLIC KEY-----\n"
	"MIIBCgKCAQEAwjmv+UDwgqNwFZ0UkJNmAjDA8i+wiGKhTho/QORjkFBkBxTykEi3\n"
	"ZKlare+qJ6HqmqmC3okU3qswOnE6FodPTHzXcFX5KQQpKUV1lWIQ6SiSKuCjpqpi\n"
	"GzbXgzydOK6OxXN7QTi3R1O01fAG9JQxsVr9nt/Kc6Nwi8EMiA/WwqvCHchBB7eq\n"
	"DDLTjNq/XlzdcoiuP+x2Y8jF5hpuIB/Pe+B/O+/lLm9LbVNoM8gQN33v1jpjbxZj\n"
	"Z98y+sK5RRH69t8KX+RbmAA3AoWSoVOpyFr7q/EhMvgkwLbfUAWCHfhyZaj/MqCN\n"
	"HF/5SP1kv2PPXUdlt2UkAb4AWKJJQL9UcQIDAQAB\n"
	"-----END RSA PUBLIC KEY-----\n";

static const char RSA_A_CRT[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIC+zCCAeOgAwIBAgIURkc/LtOnzYcVqjKbmPSUrdXhM60wDQYJKoZIhvcNAQEL\n"
	"BQAwDDEKMAgGA1UEAwwBYTAgFw0yNjExMjYyMzUzMzFaGA8yMTI2MTEwMjIzNTMz\n"
	"MVowDDEKMAgGA1UEAwwBYTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEB\n"
	"AMI5r/lA8IKjcBWdFJCTZgIwwPIvsIhioU4aP0DkY5BQZAcU8pBIt2SpWq3vqieh\n"
	"6pqpgt6JFN6rMDpxOhaHT0x813BV+SkEKSlFdZViEOkokirgo6aqYhs214M8nTiu\n"
	"jsVze0E4t0dTtNXwBvSUMbFa/Z7fynOjcIvBDIgP1sKrwh3IQQe3qgwy04zav15c\n"
	"3XKIrj/sdmPIxeYabiAfz3vgfzvv5S5vS21TaDPIEDd979Y6Y28WY2ffMvrCuUUR\n"
	"+vbfCl/kW5gANwKFkqFTqcha+6vxITL4JMC231AFgh34cmWo/zKgjRxf+Uj9ZL9j\n"
	"z11HZbdlJAG+AFiiSUC/VHECAwEAAaNTMFEwHQYDVR0OBBYEFORe+4FZoz4ofVzZ\n"
	"tG/rMgHq89pvMB8GA1UdIwQYMBaAFORe+4FZoz4ofVzZtG/rMgHq89pvMA8GA1Ud\n"
	"EwEB/wQFMAMBAf8wDQYJKoZIhvcNAQELBQADggEBACgdhQStarPhfCeX+Uuta9e4\n"
	"YyOP4SmpsgdHkTZ4m/RWqyNt39uwuE81riyTj1Y5V7c8kHYDJK413uo//Mt8tNXw\n"
	"hMVmBJivBLje12KYchN0YsgkoxUigh2TqRxcDCjnK17iBFimwAe/vi7IYXpId/jk\n"
	"xehhPqQsZmbTxZYCSOxL1w5fLm5r3lNykae0myDx6e1lKn/fun32PcWE6Y2dTQHC\n"
	"sBWFMqxqitjGb6J01Naw2ptHEysylJ0B8HTxXAu9eOS7RhfZOGYfQODaazoNAZEA\n"
	"IEnk3Unar1/oD2uxl8zOxNSQRdMm4dnolHFSzyMWTA3PuXXm54Fy553xOtjDaQE=\n"
	"-----END CERTIFICATE-----\n";

static const char RSA_B_KEY[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDQ/nsJpDtvCm5f\n"
	"F2yCM6BMJve/o9QqYAIe8pV6B5Nrm8ZURdKhG0rOFNHIOacFZ9u1mV/YYavGojuj\n"
	"GTREHx3VgIlPWlX/3SgMjYrcUtg+T6w9lEtJDdWp9iC2KmuOD2vzTjTAHXECd30N\n"
	"1s8yXK852iOQSaOVyBqpDHHv8RQYTUYdmtqIXhyZHXIHueREuUcBSgYGiAiboStL\n"
	"p34g+8RJZV9XnVs1nYE3dXjJ3MC/3O6J51faDU8+CijafHlYn/otRC/59tzsXSa9\n"
	"YJ2PKuTNZku/HwDMTM7thP9+m1r0fKXlNLuvaiDQCf4OOS5I2g63/JBvRStj4U9A\n"
	"3O9eHVaxAgMBAAECggEADiXUBWyRO2yc2SIYTd4Z0V3n8piwEahLLHYmiUq+/49d\n"
	"hzHs1swmrbm6E9BXTqXfuTTnSJogC0PLPrjDkYL7vYrEgNMwNDBv+B2S02RmUB2L\n"
	"nuWNjSX7G1TWlQ5dFpJTr/ZQ2tqDXnPhStEKWLHuiL+MHcXmZYrUxzHY+rG6twRQ\n"
	"0m+4p/+iH9+azTDCFMFiAmJf1T3rolNaM7LLBEtXcz1aSII3z/Ixwo2qrzk8FJrY\n"
	"j07/4MxCOaEqt0x+rtW8XOwShU8M8dkQMXglt+qEjNZ/1DNZFCeoFia6UiRT4Haa\n"
	"jPFv6g1WNSdlBk4GtSaEELVn/QGae2evCfAdRii5OQKBgQDsMhp1iGdjaghhZnC+\n"
	"YL8LblH1IoxrB9D3fVKkVvBMAhET944vxoK/QXMLdBQoeHOYiPIUV4EfnEORqR5I\n"
	"uYyQROxXKPNTZjszCUuKGdQjDY9AiSnZKGcWkhZXFjFjLZ5n3i2CojtCgaNg/EVc\n"
	"JarssU7HDu+QfTRFPAbnKEjffQKBgQDihH+5wMp8n8NnqH7EdT9JwO+vvZh9Gu0N\n"
	"Zs/yrt/yk2S1rCQKKJ6nuHkqm5SHcFspC0iThuzWZoVWViQ6aXIJEpXo84uHZRF5\n"
	"sDJSF2nUZVRsUEn2XJALv9FNj9ENr+6odUy0pvnwin4laUEdDgXkPe5nHOcpdMoJ\n"
	"x/NN3vyiRQKBgQDgFwEndYyxs03UKv7YgK2AyOAVNPwIJ9hIlqwroxhE5MkTKpHK\n"
	"Hgq6LfxaZ30gkHcLxxH13rdxKC6rKcrDsNb9oYahgwaon5uW5kC2+55ay2iYEAqW\n"
	"L1DvBxcO9M1SjVt2rEJ9aDHU/W3mfDHKJSqveeGF1lPPwBoxfawG8B+DeQKBgAKr\n"
	"FOYXQ0tchmy+K2AdEXXI9AnZ7eXrX0d9Io31SWYOHm2VbYdBGz1WivbZhlJiHHDL\n"
	"VTuHp1qPMprlwN9/Rnyc328zDz21DxOj47Pb2r9JwkjUWUqxpHC+/bQwMYI7xE/v\n"
	"scue++q9dubx6nZxJ9icciZ8zKxMV+TtmgwcyFURAoGAGAnJo1hd6V5pdukkziL/\n"
	"Ugu6PRpBg/sK1UYxdMImjDD5CrCtrT8SZ+Ms4bouX8uP9OJqQMua0Z/8c24elheG\n"
	"au+WiYnNQwYviocK9n8VtBjSWKY/fRcxtkxZQivggxuizR7bv0Hj/tRhsyH3sL+j\n"
	"E6SPU4EgE+ZadmR+n5+5DPY=\n"
	"-----END PRIVATE KEY-----\n";

static const char RSA_B_PUB[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0P57CaQ7bwpuXxdsgjOg\n"
	"TCb3v6PUKmACHvKVegeTa5vGVEXSoRtKzhTRyDmnBWfbtZlf2GGrxqI7oxk0RB8d\n"
	"1YCJT1pV/90oDI2K3FLYPk+sPZRLSQ3VqfYgtiprjg9r8040wB1xAnd9DdbPMlyv\n"
	"OdojkEmjlcgaqQxx7/EUGE1GHZraiF4cmR1yB7nkRLlHAUoGBogIm6ErS6d+IPvE\n"
	"SWVfV51bNZ2BN3V4ydzAv9zuiedX2g1PPgoo2nx5WJ/6LUQv+fbc7F0mvWCdjyrk\n"
	"zWZLvx8AzEzO7YT/fpta9Hyl5TS7r2og0An+DjkuSNoOt/yQb0UrY+FPQNzvXh1W\n"
	"sQIDAQAB\n"
	"-----END PUBLIC KEY-----\n";

static const char RSA_SHORT_PUB[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCc4Iw1+HCLUVMF8CIxx11qu1wr\n"
	"qrTzMz9wZFqpH+kBHO3V+pDaubC9x0eq0HVd17Z2/gM+ialgLIq4bn8cDcG6eFxI\n"
	"Y1Yu1fpVM/3fJ9W2Y4NIyF3b4UUcWwZdzmGfIn10JsLsIMid9kYJQS2FLU5cOg1o\n"
	"PYSpt8QZSXx2sSekbwIDAQAB\n"
	"-----END PUBLIC KEY-----\n";

static const char EC_PUB[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE+lk0z5gQecD7tbfMgf70sd7lDzZr\n"
	"TkkFfGMhd6Z5iz2ovwb+hTs55oTWyKF99CFZXQdJRpPgADUOfKWySUGRpQ==\n"
	"-----END PUBLIC KEY-----\n";

static const char TOK_HS[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6N"
	"DEwMjQ0NDgwMH0.fS1twKMPaMtU0LfqJOZhFtYlQ457xShUUTOPW0CMkzk";

static const char TOK_HS_K1[] =
	"eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbG"
	"ljZSIsImV4cCI6NDEwMjQ0NDgwMH0.X_hTbJfUivLmdblKu_B7CDRTHGCbsy9iP8kS"
	"xbXcy_c";

static const char TOK_HS_K2[] =
	"eyJhbGciOiJIUzI1NiIsImtpZCI6ImsyIiwidHlwIjoiSldUIn0.eyJzdWIiOiJib2"
	"IiLCJleHAiOjQxMDI0NDQ4MDB9.5cQW-3wosqzS2p70nigtA_tcDK-rcw_hh9L5yAf"
	"ix6o";

static const char TOK_HS_S2[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJib2IiLCJleHAiOjQxM"
	"DI0NDQ4MDB9.TFm6Y3qMVH143P72qnPuvbWpsFYHPW4JZXzw1xtEQhk";

static const char TOK_HS_K9[] =
	"eyJhbGciOiJIUzI1NiIsImtpZCI6Ims5IiwidHlwIjoiSldUIn0.eyJzdWIiOiJib2"
	"IiLCJleHAiOjQxMDI0NDQ4MDB9.e2R-YzOJNmy-S4-LMqMHqS1Ao-1byAypiVIxhBA"
	"no8I";

static const char TOK_RS[] =
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjYXJvbCIsImV4cCI6N"
	"DEwMjQ0NDgwMH0.vi6OvgOgkPQ6S3Yz0tsVaqLIxSt9R0GuZjDd7beATNjMAf2G4-w"
	"alxd-xO5mH1EKTsGtw7y_EbIHKNExDj4GluhmuCuVdPV5EuSY2XmuuJssjUBcaR1NG"
	"Bq8TIPDBBRl0eQo7E0XYTsXfNrNvt-urBiMB5K41wLIcKnf3rsIcjPNLxzmzZBBhXX"
	"Bdo8vW2HdOu516CeCbCY1Nw1LjrQ9VNzg5SnXKt4be4pKZTzhIOBKgjffDgbd-41G7"
	"F-BvKXVj86Dh5Qvm75csNv6aIdB8AOS53sd8E1eerUaFkYYtKCmf3jDEbbcJvcW4HF"
	"NkBODvhKNcl4AGXSj5taIamUdhA";

static const char TOK_RS_B[] =
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjYXJvbCIsImV4cCI6N"
	"DEwMjQ0NDgwMH0.L4oJT9vu6H-ygCM3-LlRuLmCWMlrmqXBNz6abVK1u8KYQ5HMhTo"
	"GdiQOKtCxJKao7OoAKBu_EtP-sqBQi2joZSCk63lVnLFuVcse3YeXxbOuAbCmszauo"
	"keffd03Rr3TVk4GMMshtbi7a2ZT03ZWH84lqz1z2tUKwnH9sTB0CfHuVv99XN8MmBv"
	"kZSZkfNKR9EOrqIPD-y_YLptZHmN3A9fajK_c-Ihdcfwz17ngBqqNbGvF9gMrQTYF9"
	"O4Lg2AepaMc4V-bhCRaIapslYmwduFfKQvxKiyue4aivmDtp1m9n7DSKqs6-yCeptk"
	"kDfZRVVMcYi1qrQKiZHxiXRiATw";

static const char TOK_RS_RK1[] =
	"eyJhbGciOiJSUzI1NiIsImtpZCI6InJrMSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkY"
	"XZlIiwiZXhwIjo0MTAyNDQ0ODAwfQ.cp1iW4bIgluDCIlZSle0bi6O9EoMd5quU2Ec"
	"wGv9vsiJ90gaUTgLrN0DcQsLK9DFK-ac4mS9PenHzR4569Fe1FBQVSHm5bpEDMLNgn"
	"zyA6fRj_HVIYXifboOCOzcpY3rfyggJ0R2N6wJZ008BTcfaEHBXN9IsSv5ufbqk--G"
	"nL3-IV9HVPiyZIJwTayezYFSApLvwh5JIvhWB6mVwEVFvAfYAyAR7U_PITthCrUARm"
	"B3TdiOkwVOoU_IcXshNUaVwjAH6UA2XohdkSqhCV1SPVrTWPoq-1RYqI0P8w56ukyb"
	"MSUStQqSNFAfM4Eo-i-aSDpvjTd7Q5LiKG4jBSJ6pg";

static const char TOK_RS_NOPE[] =
	"eyJhbGciOiJSUzI1NiIsImtpZCI6Im5vcGUiLCJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ"
	"kYXZlIiwiZXhwIjo0MTAyNDQ0ODAwfQ.I83KqICrfCZsfWNdJoskd9GB4OgCWYlnaD"
	"beMDDRjtqbS2oEJp2AGfAfZx7VHKfHgN8Nm7pkvImVRwvltVZjQGhcrk5C5FWt_rDU"
	"PW6X-iuVIZXsVO76-dItME_6zuqqeuhczJgh-XeOpuButfbonn-_Yks7jgf5lPUbYv"
	"nOSht8-8CyIp6k7hA2RdspTK9_-p5phpX2PKr2HVJ57CtJc_cL1fPhLiUWqNQ1yGOl"
	"yuDZfS0v9UDvne-sYBobTnPtBXmNpA6CR-YtLAQDzmxFMaBkNnWsSOTzDjIIH5drvi"
	"yPk2gGqvbqjpYmc-j84tnp-Wg3u_dP-O-6mUqku1-hsg";

static const char TOK_HS_RK1[] =
	"eyJhbGciOiJIUzI1NiIsImtpZCI6InJrMSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkY"
	"XZlIiwiZXhwIjo0MTAyNDQ0ODAwfQ.a0sGkcOa9aKDakiRKUXBW0E7fC4WAxXMTJE1"
	"8q9wehw";

static const char TOK_EXP[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4IiwiZXhwIjoxNzAwM"
	"DAwMDAwfQ.bqMEzlPQ3sHl9yoyf4xoikbfRT3mgoRvX53QoL4eRx0";

static const char TOK_NBF[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4IiwibmJmIjoxNzAwM"
	"DAwMTAwLCJleHAiOjQxMDI0NDQ4MDB9.eA5lMz2MNz3r4WorewAuzdZXiFXK_wNXeP"
	"yWjkkgSJM";

static const char TOK_NOEXP[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0.8nby37hBmVqyP"
	"zf-zvPxP1fH4aprPJozG0qYS2NoxAI";

static const char TOK_EXP_STR[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4IiwiZXhwIjoiMjEwM"
	"C0wMS0wMSJ9.gOxBvJtwexu_JG6bbtIU9tVTn_Ne4LpT4XVodLBO9bY";

static const char TOK_NONE[] =
	"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJyb290IiwiZXhwIjo0MT"
	"AyNDQ0ODAwfQ.";

static const char TOK_HS_PUBKEY[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJtYWxsb3J5IiwiZXhwI"
	"jo0MTAyNDQ0ODAwfQ.fdxEQhO1saVd3HrakwciRaoGG3WtW08Yh9-57nlOysg";

static const char TOK_AUD_STR[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJhcGkiLCJpc3MiOiJod"
	"HRwczovL2lzc3Vlci5leGFtcGxlIiwiZXhwIjo0MTAyNDQ0ODAwfQ.CWMJnalbnnUk"
	"3qsivVogQ70o1FI8q0BQbx1QuWH1NvU";

static const char TOK_AUD_ARR[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOlsib3RoZXIiLCJhcGkiX"
	"SwiaXNzIjoiaHR0cHM6Ly9pc3N1ZXIuZXhhbXBsZSIsImV4cCI6NDEwMjQ0NDgwMH0"
	".0gPj8d-GHi6tr-4Js54D4ei2SrQLTtKOPo1YHRwCd3o";

static const char TOK_AUD_BAD[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJ3ZWIiLCJpc3MiOiJod"
	"HRwczovL2V2aWwuZXhhbXBsZSIsImV4cCI6NDEwMjQ0NDgwMH0.6lYI4TgG8isO-tT"
	"l9UjSecJHlJUXFRSmzY9XpA4P6Fc";

static const char TOK_AUD_NONE[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4IiwiZXhwIjo0MTAyN"
	"DQ0ODAwfQ.CVO31-trKZSG-xaGKrRgndXZC4bRcM-fIein0mqs-PE";

static const char TOK_CLAIMS_ARR[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.WzEsMl0.JENPnYn-TTrtxVcG_jAFx"
	"vqmOCJwd2BKyxBkXovGWtk";

static const char TOK_HDR_ARR[] =
	"WzFd.eyJzdWIiOiJ4In0.0kz8GMJgBbAISauQqUs_Frm8YQQDNDSUflz5QwKZuTg";

static const char TOK_HS512[] =
	"eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4IiwiZXhwIjo0MTAyN"
	"DQ0ODAwfQ.UhwOmhks535jZX_RzDLmjZrdWtJXt4v9ojIewQnVDXLw5bdCkrpHHxaQ"
	"FR8bjxzJy-2dmIPz5S344PDHVQY1gQ";

static const char SIGN_CLAIMS[] =
	"{\"sub\":\"alice\",\"exp\":4102444800}";

static const char SIGN_HS_K1[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbG"
	"ljZSIsImV4cCI6NDEwMjQ0NDgwMH0.1XQ5NNFsatwvvMq0tliJNwK2betJ5i61047j"
	"Bm9UHrQ";

static const char KID_S1[] =
	"2ed45968de9caa56";

static const char SIGN_HS_DERIVED[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IjJlZDQ1OTY4ZGU5Y2FhNT"
	"YifQ.eyJzdWIiOiJhbGljZSIsImV4cCI6NDEwMjQ0NDgwMH0.2jwgzvgc1HekSuGmA"
	"y0Xu_gEiztkk4H8-rxXcLg_9nk";

static const char KID_A[] =
	"2318fb1e75d10fb8";

static const char SIGN_RS_DERIVED[] =
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IjIzMThmYjFlNzVkMTBmYj"
	"gifQ.eyJzdWIiOiJhbGljZSIsImV4cCI6NDEwMjQ0NDgwMH0.eCiurwan2BHkgkBOv"
	"cF0W-LymceMV1MtoRzFT1RekgTKosEoRFCc8dDg0Lf-DiRZpkiofrG3m3a8f61k3-2"
	"1Xn_vyaz6-TvvI-WFxKyHhyo9eLutNc9ZZy0qCScS8IksUD_Dnq_ZIkXz7vKO75qXo"
	"G8Z_tXzGdE-USuLhyIXLahXd3OD6cnWtadMt5MddHn5AFvZBDWKYiBGvtm_kL5KnIM"
	"6byANTs3pQ-MraZDNWStI5Cnz2dyew_o3Ppcjc8pNFdTkMRiVZbCPUoLWwV3RM-v8y"
	"LjhYKxnJMRj6C54_zmDp1KAbXo-liw4vf6YPdkZKahmrS5eYUaT72s_baYMSA";

static const char JWKS_A[] =
	"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"-lk0z5gQecD7t"
	"bfMgf70sd7lDzZrTkkFfGMhd6Z5iz0\",\"y\":\"qL8G_oU7OeaE1sihffQhWV0HS"
	"UaT4AA1DnylsklBkaU\",\"kid\":\"ec1\"},{\"kty\":\"RSA\",\"key_ops\""
	":[\"verify\"],\"n\":\"0P57CaQ7bwpuXxdsgjOgTCb3v6PUKmACHvKVegeTa5vG"
	"VEXSoRtKzhTRyDmnBWfbtZlf2GGrxqI7oxk0RB8d1YCJT1pV_90oDI2K3FLYPk-sPZ"
	"RLSQ3VqfYgtiprjg9r8040wB1xAnd9DdbPMlyvOdojkEmjlcgaqQxx7_EUGE1GHZra"
	"iF4cmR1yB7nkRLlHAUoGBogIm6ErS6d-IPvESWVfV51bNZ2BN3V4ydzAv9zuiedX2g"
	"1PPgoo2nx5WJ_6LUQv-fbc7F0mvWCdjyrkzWZLvx8AzEzO7YT_fpta9Hyl5TS7r2og"
	"0An-DjkuSNoOt_yQb0UrY-FPQNzvXh1WsQ\",\"e\":\"AQAB\",\"kid\":\"enc1"
	"\",\"use\":\"enc\"},{\"kty\":\"RSA\",\"key_ops\":[\"verify\"],\"n"
	"\":\"wjmv-UDwgqNwFZ0UkJNmAjDA8i-wiGKhTho_QORjkFBkBxTykEi3ZKlare-qJ"
	"6HqmqmC3okU3qswOnE6FodPTHzXcFX5KQQpKUV1lWIQ6SiSKuCjpqpiGzbXgzydOK6"
	"OxXN7QTi3R1O01fAG9JQxsVr9nt_Kc6Nwi8EMiA_WwqvCHchBB7eqDDLTjNq_Xlzdc"
	"oiuP-x2Y8jF5hpuIB_Pe-B_O-_lLm9LbVNoM8gQN33v1jpjbxZjZ98y-sK5RRH69t8"
	"KX-RbmAA3AoWSoVOpyFr7q_EhMvgkwLbfUAWCHfhyZaj_MqCNHF_5SP1kv2PPXUdlt"
	"2UkAb4AWKJJQL9UcQ\",\"e\":\"AQAB\",\"kid\":\"rk1\",\"use\":\"sig\""
	",\"alg\":\"RS256\"},{\"kty\":\"RSA\",\"key_ops\":[\"verify\"],\"n"
	"\":\"0P57CaQ7bwpuXxdsgjOgTCb3v6PUKmACHvKVegeTa5vGVEXSoRtKzhTRyDmnB"
	"WfbtZlf2GGrxqI7oxk0RB8d1YCJT1pV_90oDI2K3FLYPk-sPZRLSQ3VqfYgtiprjg9"
	"r8040wB1xAnd9DdbPMlyvOdojkEmjlcgaqQxx7_EUGE1GHZraiF4cmR1yB7nkRLlHA"
	"UoGBogIm6ErS6d-IPvESWVfV51bNZ2BN3V4ydzAv9zuiedX2g1PPgoo2nx5WJ_6LUQ"
	"v-fbc7F0mvWCdjyrkzWZLvx8AzEzO7YT_fpta9Hyl5TS7r2og0An-DjkuSNoOt_yQb"
	"0UrY-FPQNzvXh1WsQ\",\"e\":\"AQAB\",\"kid\":\"rk2\"}]}";

static const char JWKS_NONE[] =
	"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"-lk0z5gQecD7t"
	"bfMgf70sd7lDzZrTkkFfGMhd6Z5iz0\",\"y\":\"qL8G_oU7OeaE1sihffQhWV0HS"
	"UaT4AA1DnylsklBkaU\",\"kid\":\"ec1\"},{\"kty\":\"RSA\",\"key_ops\""
	":[\"verify\"],\"n\":\"0P57CaQ7bwpuXxdsgjOgTCb3v6PUKmACHvKVegeTa5vG"
	"VEXSoRtKzhTRyDmnBWfbtZlf2GGrxqI7oxk0RB8d1YCJT1pV_90oDI2K3FLYPk-sPZ"
	"RLSQ3VqfYgtiprjg9r8040wB1xAnd9DdbPMlyvOdojkEmjlcgaqQxx7_EUGE1GHZra"
	"iF4cmR1yB7nkRLlHAUoGBogIm6ErS6d-IPvESWVfV51bNZ2BN3V4ydzAv9zuiedX2g"
	"1PPgoo2nx5WJ_6LUQv-fbc7F0mvWCdjyrkzWZLvx8AzEzO7YT_fpta9Hyl5TS7r2og"
	"0An-DjkuSNoOt_yQb0UrY-FPQNzvXh1WsQ\",\"e\":\"AQAB\",\"kid\":\"enc1"
	"\",\"use\":\"enc\"}]}";

static const char JWKS_SHORT[] =
	"{\"keys\":[{\"kty\":\"RSA\",\"key_ops\":[\"verify\"],\"n\":\"nOCMN"
	"fhwi1FTBfAiMcddartcK6q08zM_cGRaqR_pARzt1fqQ2rmwvcdHqtB1Xde2dv4DPom"
	"pYCyKuG5_HA3BunhcSGNWLtX6VTP93yfVtmODSMhd2-FFHFsGXc5hnyJ9dCbC7CDIn"
	"fZGCUEthS1OXDoNaD2EqbfEGUl8drEnpG8\",\"e\":\"AQAB\",\"kid\":\"s1\""
	"}]}";

/*
 * Helpers.
 */

/* The JWKS the lookup callback hands out for JWKS_URL (NULL: none). */
struct lookup {
	const struct auth_jwks	*keys;
	int			 calls;
};

static const struct auth_jwks *
lookup_cb(const char *url, void *arg)
{
	struct lookup	*l = arg;

	l->calls++;
	return (strcmp(url, JWKS_URL) == 0 ? l->keys : NULL);
}

/*
 * One secret: alg, then NULL-terminated member, value pairs.  A value
 * that begins with '=' is JSON text, any other a string.
 */
static struct json_object *
sec(const char *alg, ...)
{
	struct json_object	*o;
	const char		*k, *v;
	va_list			 ap;

	o = json_object_new_object();
	if (alg != NULL)
		json_object_object_add(o, "alg", json_object_new_string(alg));
	va_start(ap, alg);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		json_object_object_add(o, k, v[0] == '=' ?
		    json_tokener_parse(v + 1) : json_object_new_string(v));
	}
	va_end(ap);
	return (o);
}

/* An array of the given objects (taken over), NULL-terminated. */
static struct json_object *
arr(struct json_object *first, ...)
{
	struct json_object	*a, *o;
	va_list			 ap;

	a = json_object_new_array();
	va_start(ap, first);
	for (o = first; o != NULL; o = va_arg(ap, struct json_object *))
		json_object_array_add(a, o);
	va_end(ap);
	return (a);
}

static void
dump(const struct syerrs *errs)
{
	size_t	i;

	for (i = 0; i < errs->n; i++)
		print_message("# got: %s\n", errs->msg[i]);
}

/* Compile secrets (taken over), which must be valid. */
static struct auth_keyset *
ks_new(struct json_object *secrets)
{
	struct auth_keyset	*ks;
	struct syerrs		 errs;

	syerrs_init(&errs);
	ks = auth_keyset_new(secrets, PATH, &errs);
	if (ks == NULL)
		dump(&errs);
	assert_non_null(ks);
	assert_int_equal(errs.n, 0);
	syerrs_free(&errs);
	json_object_put(secrets);
	return (ks);
}

/*
 * Compile secrets (taken over), which must fail with exactly one message:
 * msg, or when msg ends in '*' a message that begins with it.
 */
static void
ks_fail(struct json_object *secrets, const char *msg)
{
	struct auth_keyset	*ks;
	struct syerrs		 errs;
	size_t			 n = strlen(msg);

	syerrs_init(&errs);
	ks = auth_keyset_new(secrets, PATH, &errs);
	if (ks != NULL || errs.n != 1) {
		print_message("# want: %s\n", msg);
		dump(&errs);
	}
	assert_null(ks);
	assert_int_equal(errs.n, 1);
	if (msg[n - 1] == '*')
		assert_memory_equal(errs.msg[0], msg, n - 1);
	else
		assert_string_equal(errs.msg[0], msg);
	syerrs_free(&errs);
	json_object_put(secrets);
}

/* Verify tok (len bytes) at now; on AUTH_OK copy the "sub" claim. */
static enum auth_result
verify_len(const struct auth_keyset *ks, const char *tok, size_t len,
    double now, struct lookup *l, char *sub, double *exp, const char **url)
{
	struct json_object	*claims = (struct json_object *)1, *m;
	struct lookup		 none = { NULL, 0 };
	enum auth_result	 r;
	double			 e = -1;
	const char		*u = (const char *)1;

	r = auth_verify(ks, tok, len, now, lookup_cb, l ? l : &none, &claims,
	    &e, &u);
	if (r == AUTH_OK) {
		assert_non_null(claims);
		assert_true(json_object_is_type(claims, json_type_object));
		if (sub != NULL && json_object_object_get_ex(claims, "sub",
		    &m))
			snprintf(sub, 32, "%s", json_object_get_string(m));
	} else {
		assert_null(claims);
		assert_true(e == 0);
	}
	if (r != AUTH_UNKNOWN_KID && r != AUTH_NO_KEYS)
		assert_null(u);
	json_object_put(claims);
	if (exp != NULL)
		*exp = e;
	if (url != NULL)
		*url = u;
	return (r);
}

static enum auth_result
verify(const struct auth_keyset *ks, const char *tok, double now)
{
	return (verify_len(ks, tok, strlen(tok), now, NULL, NULL, NULL,
	    NULL));
}

static const char *
sub_of(const struct auth_keyset *ks, const char *tok, struct lookup *l)
{
	static char	 sub[32];

	sub[0] = '\0';
	assert_int_equal(verify_len(ks, tok, strlen(tok), NOW, l, sub, NULL,
	    NULL), AUTH_OK);
	return (sub);
}

/*
 * Verification.
 */

static void
test_hs256_valid(void **state)
{
	struct auth_keyset	*ks;
	double			 exp = 0;
	char			 sub[32];

	ks = ks_new(arr(sec("HS256", "secret", S1, NULL), NULL));
	assert_int_equal(verify_len(ks, TOK_HS, strlen(TOK_HS), NOW, NULL,
	    sub, &exp, NULL), AUTH_OK);
	assert_string_equal(sub, "alice");
	assert_true(exp == FAR);
	/* no exp: valid, and *exp is 0 */
	exp = -1;
	assert_int_equal(verify_len(ks, TOK_NOEXP, strlen(TOK_NOEXP), NOW,
	    NULL, NULL, &exp, NULL), AUTH_OK);
	assert_true(exp == 0);
	auth_keyset_free(ks);
}

static void
test_rs256_valid(void **state)
{
	struct auth_keyset	*ks;

	ks = ks_new(arr(sec("RS256", "publicKey", RSA_A_PUB, NULL), NULL));
	assert_string_equal(sub_of(ks, TOK_RS, NULL), "carol");
	assert_int_equal(verify(ks, TOK_RS_B, NOW), AUTH_BAD_SIGNATURE);
	auth_keyset_free(ks);

	/* the public half of a private key verifies */
	ks = ks_new(arr(sec("RS256", "privateKey", RSA_A_KEY, NULL), NULL));
	assert_string_equal(sub_of(ks, TOK_RS, NULL), "carol");
	assert_int_equal(verify(ks, TOK_RS_B, NOW), AUTH_BAD_SIGNATURE);
	auth_keyset_free(ks);

	/* PKCS#1 "RSA PUBLIC KEY" PEM, verify-only */
	ks = ks_new(arr(sec("RS256_PUBLIC", "publicKey", RSA_A_PUB_PKCS1,
	    NULL), NULL));
	assert_string_equal(sub_of(ks, TOK_RS, NULL), "carol");
	auth_keyset_free(ks);

	/* the key of an X.509 certificate */
	ks = ks_new(arr(sec("RS256_PUBLIC", "publicKey", RSA_A_CRT, NULL),
	    NULL));
	assert_string_equal(sub_of(ks, TOK_RS, NULL), "carol");
	assert_int_equal(verify(ks, TOK_RS_B, NOW), AUTH_BAD_SIGNATURE);
	auth_keyset_free(ks);

	/* both halves of key B, then key A: the second verifies */
	ks = ks_new(arr(sec("RS256", "publicKey", RSA_B_PUB, "privateKey",
	    RSA_B_KEY, NULL), sec("RS256_PUBLIC", "publicKey", RSA_A_PUB,
	    NULL), NULL));
	assert_string_equal(sub_of(ks, TOK_RS, NULL), "carol");
	assert_string_equal(sub_of(ks, TOK_RS_B, NULL), "carol");
	auth_keyset_free(ks);
}

static void
test_kid_lookup(void **state)
{
	struct auth_keyset	*ks;
	const char		*url;

	ks = ks_new(arr(sec("HS256", "secret", S1, "kid", "k1", NULL),
	    sec("HS256", "secret", S2, "kid", "k2", NULL), NULL));
	assert_string_equal(sub_of(ks, TOK_HS_K1, NULL), "alice");
	assert_string_equal(sub_of(ks, TOK_HS_K2, NULL), "bob");
	assert_int_equal(verify_len(ks, TOK_HS_K9, strlen(TOK_HS_K9), NOW,
	    NULL, NULL, NULL, &url), AUTH_UNKNOWN_KID);
	assert_null(url);	/* no JWK_URL to refresh */
	auth_keyset_free(ks);

	/* with a kid only that secret is tried, even if another would do */
	ks = ks_new(arr(sec("HS256", "secret", S1, "kid", "k2", NULL),
	    sec("HS256", "secret", S2, "kid", "k1", NULL), NULL));
	assert_int_equal(verify(ks, TOK_HS_K2, NOW), AUTH_BAD_SIGNATURE);
	assert_int_equal(verify(ks, TOK_HS_K1, NOW), AUTH_BAD_SIGNATURE);
	auth_keyset_free(ks);

	/* a secret without "kid" answers to its derived kid */
	ks = ks_new(arr(sec("HS256", "secret", S2, NULL),
	    sec("HS256", "secret", S1, NULL), NULL));
	assert_string_equal(sub_of(ks, SIGN_HS_DERIVED, NULL), "alice");
	assert_int_equal(verify(ks, TOK_HS_K1, NOW), AUTH_UNKNOWN_KID);
	auth_keyset_free(ks);
	/* an explicit kid equal to another secret's derived one */
	ks = ks_new(arr(sec("HS256", "secret", S2, "kid", KID_S1, NULL),
	    sec("HS256", "secret", S1, "kid", "k1", NULL), NULL));
	assert_int_equal(verify(ks, SIGN_HS_DERIVED, NOW), AUTH_BAD_SIGNATURE);
	auth_keyset_free(ks);

	/* RS256 token whose kid names an HS256 secret */
	ks = ks_new(arr(sec("HS256", "secret", S1, "kid", "nope", NULL),
	    NULL));
	assert_int_equal(verify(ks, TOK_RS_NOPE, NOW), AUTH_BAD_ALG);
	auth_keyset_free(ks);
}

static void
test_no_kid_each_secret(void **state)
{
	struct auth_keyset	*ks;

	ks = ks_new(arr(sec("RS256", "publicKey", RSA_A_PUB, NULL),
	    sec("HS256", "secret", S1, NULL), sec("HS256", "secret", S2,
	    NULL), NULL));
	assert_string_equal(sub_of(ks, TOK_HS, NULL), "alice");
	assert_string_equal(sub_of(ks, TOK_HS_S2, NULL), "bob");
	assert_string_equal(sub_of(ks, TOK_RS, NULL), "carol");
	assert_int_equal(verify(ks, TOK_RS_B, NOW), AUTH_BAD_SIGNATURE);
	auth_keyset_free(ks);

	/* no secret of the token's alg */
	ks = ks_new(arr(sec("HS256", "secret", S1, NULL), NULL));
	assert_int_equal(verify(ks, TOK_RS, NOW), AUTH_BAD_ALG);
	auth_keyset_free(ks);

	/* no secrets at all */
	ks = ks_new(NULL);
	assert_int_equal(verify(ks, TOK_HS, NOW), AUTH_BAD_ALG);
	assert_int_equal(verify(ks, TOK_HS_K1, NOW), AUTH_UNKNOWN_KID);
	auth_keyset_free(ks);
}

static void
test_exp_leeway(void **state)
{
	struct auth_keyset	*ks;
	double			 exp = 0;

	ks = ks_new(arr(sec("HS256", "secret", S1, NULL), NULL));
	/* exp = 1700000000 */
	assert_int_equal(verify_len(ks, TOK_EXP, strlen(TOK_EXP), NOW - 100,
	    NULL, NULL, &exp, NULL), AUTH_OK);
	assert_true(exp == NOW);
	assert_int_equal(verify(ks, TOK_EXP, NOW + 10), AUTH_OK);
	assert_int_equal(verify(ks, TOK_EXP, NOW + AUTH_LEEWAY), AUTH_OK);
	assert_int_equal(verify(ks, TOK_EXP, NOW + AUTH_LEEWAY + 1),
	    AUTH_EXPIRED);
	assert_int_equal(verify(ks, TOK_EXP, NOW + 60), AUTH_EXPIRED);
	assert_int_equal(verify(ks, TOK_HS, FAR + 60), AUTH_EXPIRED);
	auth_keyset_free(ks);
}

static void
test_nbf(void **state)
{
	struct auth_keyset	*ks;

	ks = ks_new(arr(sec("HS256", "secret", S1, NULL), NULL));
	/* nbf = 1700000100 */
	assert_int_equal(verify(ks, TOK_NBF, NOW + 100), AUTH_OK);
	assert_int_equal(verify(ks, TOK_NBF, NOW + 80), AUTH_OK);
	assert_int_equal(verify(ks, TOK_NBF, NOW + 100 - AUTH_LEEWAY),
	    AUTH_OK);
	assert_int_equal(verify(ks, TOK_NBF, NOW + 100 - AUTH_LEEWAY - 1),
	    AUTH_NOT_YET_VALID);
	assert_int_equal(verify(ks, TOK_NBF, NOW + 40), AUTH_NOT_YET_VALID);
	auth_keyset_free(ks);
}

static void
test_wrong_secret(void **state)
{
	struct auth_keyset	*ks;

	ks = ks_new(arr(sec("HS256", "secret", "not-the-secret", NULL),
	    NULL));
	assert_int_equal(verify(ks, TOK_HS, NOW), AUTH_BAD_SIGNATURE);
	assert_int_equal(verify(ks, TOK_HS_S2, NOW), AUTH_BAD_SIGNATURE);
	auth_keyset_free(ks);

	/* same secret, one byte longer or shorter */
	ks = ks_new(arr(sec("HS256", "secret", S1 "x", NULL),
	    sec("HS256", "secret", "s3cret-on", NULL), NULL));
	assert_int_equal(verify(ks, TOK_HS, NOW), AUTH_BAD_SIGNATURE);
	auth_keyset_free(ks);
}

static void
test_alg_refused(void **state)
{
	struct auth_keyset	*ks;

	ks = ks_new(arr(sec("HS256", "secret", S1, NULL),
	    sec("RS256", "publicKey", RSA_A_PUB, NULL), NULL));
	assert_int_equal(verify(ks, TOK_NONE, NOW), AUTH_BAD_ALG);
	assert_int_equal(verify(ks, TOK_HS512, NOW), AUTH_BAD_ALG);
	auth_keyset_free(ks);
}

/* The RSA public key PEM as an HMAC secret must never verify. */
static void
test_hs256_with_public_key(void **state)
{
	struct auth_keyset	*ks;
	enum auth_result	 r;

	ks = ks_new(arr(sec("RS256", "publicKey", RSA_A_PUB, NULL), NULL));
	r = verify(ks, TOK_HS_PUBKEY, NOW);
	assert_int_not_equal(r, AUTH_OK);
	assert_int_equal(r, AUTH_BAD_ALG);
	auth_keyset_free(ks);

	ks = ks_new(arr(sec("RS256_PUBLIC", "publicKey", RSA_A_PUB, "kid",
	    "a", NULL), NULL));
	assert_int_equal(verify(ks, TOK_HS_PUBKEY, NOW), AUTH_BAD_ALG);
	auth_keyset_free(ks);

	/* proof that the token is what it claims: the PEM as HS256 secret */
	ks = ks_new(arr(sec("HS256", "secret", RSA_A_PUB, NULL), NULL));
	assert_string_equal(sub_of(ks, TOK_HS_PUBKEY, NULL), "mallory");
	auth_keyset_free(ks);
}

static void
test_unknown_kid_jwks(void **state)
{
	struct auth_keyset	*ks;
	struct auth_jwks	*jw;
	struct lookup		 l = { NULL, 0 };
	const char		*url;
	char			*err = NULL;

	jw = auth_jwks_parse(JWKS_A, strlen(JWKS_A), &err);
	assert_non_null(jw);
	ks = ks_new(arr(sec("HS256", "secret", S1, "kid", "k1", NULL),
	    sec("JWK_URL", "jwkUrl", JWKS_URL, NULL), NULL));

	/* keys not loaded yet */
	assert_int_equal(verify_len(ks, TOK_RS_RK1, strlen(TOK_RS_RK1), NOW,
	    &l, NULL, NULL, &url), AUTH_NO_KEYS);
	assert_int_equal(l.calls, 1);
	/* a static secret's kid needs no JWKS */
	assert_string_equal(sub_of(ks, TOK_HS_K1, &l), "alice");

	l.keys = jw;
	assert_string_equal(sub_of(ks, TOK_RS_RK1, &l), "dave");
	assert_int_equal(verify_len(ks, TOK_RS_NOPE, strlen(TOK_RS_NOPE), NOW,
	    &l, NULL, NULL, &url), AUTH_UNKNOWN_KID);
	assert_non_null(url);
	assert_string_equal(url, JWKS_URL);
	/* key rk2 is B's: A's signature under kid rk2 fails */
	assert_int_equal(verify(ks, TOK_HS_RK1, NOW), AUTH_NO_KEYS);
	assert_int_equal(verify_len(ks, TOK_HS_RK1, strlen(TOK_HS_RK1), NOW,
	    &l, NULL, NULL, NULL), AUTH_BAD_ALG);
	/* JWKS keys are found by kid only */
	assert_int_equal(verify_len(ks, TOK_RS, strlen(TOK_RS), NOW, &l, NULL,
	    NULL, NULL), AUTH_UNKNOWN_KID);
	auth_keyset_free(ks);
	auth_jwks_free(jw);
}

static void
test_aud_iss(void **state)
{
	struct auth_keyset	*ks;

	ks = ks_new(arr(sec("HS256", "secret", S1, "aud", "=[\"api\"]",
	    "iss", "=[\"https://issuer.example\"]", NULL), NULL));
	assert_int_equal(verify(ks, TOK_AUD_STR, NOW), AUTH_OK);
	assert_int_equal(verify(ks, TOK_AUD_ARR, NOW), AUTH_OK);
	assert_int_equal(verify(ks, TOK_AUD_BAD, NOW), AUTH_BAD_AUDIENCE);
	assert_int_equal(verify(ks, TOK_AUD_NONE, NOW), AUTH_BAD_AUDIENCE);
	auth_keyset_free(ks);

	/* audience fine, issuer not */
	ks = ks_new(arr(sec("HS256", "secret", S1, "aud", "=[\"x\",\"web\"]",
	    "iss", "=[\"https://issuer.example\"]", NULL), NULL));
	assert_int_equal(verify(ks, TOK_AUD_BAD, NOW), AUTH_BAD_ISSUER);
	assert_int_equal(verify(ks, TOK_AUD_STR, NOW), AUTH_BAD_AUDIENCE);
	auth_keyset_free(ks);

	/* iss alone, several allowed */
	ks = ks_new(arr(sec("HS256", "secret", S1, "iss",
	    "=[\"https://evil.example\",\"https://issuer.example\"]", NULL),
	    NULL));
	assert_int_equal(verify(ks, TOK_AUD_STR, NOW), AUTH_OK);
	assert_int_equal(verify(ks, TOK_AUD_NONE, NOW), AUTH_BAD_ISSUER);
	auth_keyset_free(ks);

	/* nothing listed (or empty lists): not checked */
	ks = ks_new(arr(sec("HS256", "secret", S1, "aud", "=[]", "iss",
	    "=null", NULL), NULL));
	assert_int_equal(verify(ks, TOK_AUD_BAD, NOW), AUTH_OK);
	auth_keyset_free(ks);
}

static void
test_malformed(void **state)
{
	struct auth_keyset	*ks;
	char			*big, buf[1024];
	const char		*dot;
	size_t			 n;

	ks = ks_new(arr(sec("HS256", "secret", S1, NULL), NULL));
	assert_int_equal(verify_len(ks, "", 0, NOW, NULL, NULL, NULL, NULL),
	    AUTH_MALFORMED);
	assert_int_equal(verify(ks, "abc", NOW), AUTH_MALFORMED);
	assert_int_equal(verify(ks, "..", NOW), AUTH_MALFORMED);
	assert_int_equal(verify(ks, "e30.e30", NOW), AUTH_MALFORMED);
	snprintf(buf, sizeof(buf), "%s.e30", TOK_HS);
	assert_int_equal(verify(ks, buf, NOW), AUTH_MALFORMED);
	/* bad base64url: a '*', padding, standard base64's '+' */
	snprintf(buf, sizeof(buf), "%s", TOK_HS);
	buf[5] = '*';
	assert_int_equal(verify(ks, buf, NOW), AUTH_MALFORMED);
	dot = strchr(TOK_HS, '.');
	snprintf(buf, sizeof(buf), "%.*s=%s", (int)(dot - TOK_HS), TOK_HS,
	    dot);
	assert_int_equal(verify(ks, buf, NOW), AUTH_MALFORMED);
	snprintf(buf, sizeof(buf), "%s", TOK_HS);
	buf[strlen(buf) - 3] = '+';
	assert_int_equal(verify(ks, buf, NOW), AUTH_MALFORMED);
	/* same bytes, other unused trailing bits: not canonical */
	n = strlen(buf);
	snprintf(buf, sizeof(buf), "%s", TOK_HS);
	assert_int_equal(buf[n - 1], 'k');	/* 'k' = 36, 'l' = 37 */
	buf[n - 1] = 'l';
	assert_int_equal(verify(ks, buf, NOW), AUTH_MALFORMED);
	/* a NUL inside, a truncated token */
	snprintf(buf, sizeof(buf), "%s", TOK_HS);
	buf[10] = '\0';
	assert_int_equal(verify_len(ks, buf, n, NOW, NULL, NULL, NULL, NULL),
	    AUTH_MALFORMED);
	assert_int_equal(verify_len(ks, TOK_HS, n - 3, NOW, NULL, NULL, NULL,
	    NULL), AUTH_BAD_SIGNATURE);
	/* JSON that is not an object, with a good signature */
	assert_int_equal(verify(ks, TOK_HDR_ARR, NOW), AUTH_MALFORMED);
	assert_int_equal(verify(ks, TOK_CLAIMS_ARR, NOW), AUTH_MALFORMED);
	assert_int_equal(verify(ks, TOK_EXP_STR, NOW), AUTH_MALFORMED);
	/* huge: rejected before decoding */
	big = malloc(AUTH_MAX_TOKEN + 2);
	assert_non_null(big);
	memset(big, 'A', AUTH_MAX_TOKEN + 1);
	memcpy(big, TOK_HS, strlen(TOK_HS));
	big[AUTH_MAX_TOKEN + 1] = '\0';
	assert_int_equal(verify(ks, big, NOW), AUTH_MALFORMED);
	free(big);
	auth_keyset_free(ks);
}

static void
test_jwks_parse(void **state)
{
	static const char *const	 bad[] = {
		"", "[]", "{\"keys\":{}}", "{\"keys\":[]}", "{\"keys\":[1]}",
		"{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"x\",\"n\":\"AQAB\","
		"\"e\":\"AQAB\"}]}", "{\"keys\":[]} x",
	};
	struct auth_jwks		*jw;
	struct sybuf			 b;
	char				*err;
	size_t				 i;

	err = (char *)1;
	jw = auth_jwks_parse(JWKS_A, strlen(JWKS_A), &err);
	assert_non_null(jw);
	assert_null(err);
	/* EC and "use": "enc" keys skipped: rk1 and rk2 remain */
	assert_int_equal(auth_jwks_count(jw), 2);
	auth_jwks_free(jw);

	/* trailing white space is fine; the length is respected */
	sybuf_init(&b);
	assert_int_equal(sybuf_printf(&b, "%s\r\n", JWKS_A), 0);
	jw = auth_jwks_parse(b.data, b.len, &err);
	assert_non_null(jw);
	auth_jwks_free(jw);
	assert_null(auth_jwks_parse(b.data, b.len - 5, &err));
	assert_non_null(err);
	free(err);
	sybuf_free(&b);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_null(auth_jwks_parse(bad[i], strlen(bad[i]), &err));
		assert_non_null(err);
		free(err);
	}
	assert_null(auth_jwks_parse(JWKS_NONE, strlen(JWKS_NONE), &err));
	assert_string_equal(err, "no usable key (an RSA signing key with "
	    "\"kid\", \"n\" and \"e\", of at least 2048 bits)");
	free(err);
	assert_null(auth_jwks_parse(JWKS_SHORT, strlen(JWKS_SHORT), &err));
	assert_non_null(err);
	free(err);
	assert_int_equal(auth_jwks_count(NULL), 0);
}

/*
 * Signing.
 */

static void
test_sign_hs256(void **state)
{
	struct auth_keyset	*ks;
	char			*tok;

	/* HS256 is deterministic: exactly python3-jwt's token */
	ks = ks_new(arr(sec("HS256", "secret", S1, "kid", "k1", "isPrimary",
	    "=true", NULL), NULL));
	assert_true(auth_keyset_can_sign(ks));
	tok = auth_sign(ks, SIGN_CLAIMS, strlen(SIGN_CLAIMS));
	assert_non_null(tok);
	assert_string_equal(tok, SIGN_HS_K1);
	assert_string_equal(sub_of(ks, tok, NULL), "alice");
	free(tok);
	auth_keyset_free(ks);

	/* derived kid */
	ks = ks_new(arr(sec("HS256", "secret", S1, "isPrimary", "=true",
	    NULL), NULL));
	tok = auth_sign(ks, SIGN_CLAIMS, strlen(SIGN_CLAIMS));
	assert_non_null(tok);
	assert_string_equal(tok, SIGN_HS_DERIVED);
	free(tok);
	auth_keyset_free(ks);
}

static void
test_sign_rs256(void **state)
{
	struct auth_keyset	*ks, *vks;
	char			*tok;

	ks = ks_new(arr(sec("RS256", "privateKey", RSA_A_KEY, "isPrimary",
	    "=true", NULL), NULL));
	tok = auth_sign(ks, SIGN_CLAIMS, strlen(SIGN_CLAIMS));
	assert_non_null(tok);
	/* RSASSA-PKCS1-v1_5 is deterministic too; kid = KID_A */
	assert_string_equal(tok, SIGN_RS_DERIVED);
	assert_string_equal(sub_of(ks, tok, NULL), "alice");
	/* verified by the public key alone, found by its derived kid */
	vks = ks_new(arr(sec("HS256", "secret", S1, NULL),
	    sec("RS256_PUBLIC", "publicKey", RSA_A_PUB, NULL), NULL));
	assert_string_equal(sub_of(vks, tok, NULL), "alice");
	auth_keyset_free(vks);
	vks = ks_new(arr(sec("RS256_PUBLIC", "publicKey", RSA_A_PUB, "kid",
	    KID_A, NULL), NULL));
	assert_string_equal(sub_of(vks, tok, NULL), "alice");
	auth_keyset_free(vks);
	/* an explicit kid replaces the derived one */
	vks = ks_new(arr(sec("RS256_PUBLIC", "publicKey", RSA_A_PUB, "kid",
	    "other", NULL), NULL));
	assert_int_equal(verify(vks, tok, NOW), AUTH_UNKNOWN_KID);
	auth_keyset_free(vks);
	free(tok);
	auth_keyset_free(ks);
}

static void
test_sign_round_trip(void **state)
{
	struct auth_keyset	*ks;
	struct json_object	*claims, *m;
	const char		*url, *claims_text;
	char			*tok;
	double			 exp;

	ks = ks_new(arr(sec("RS256_PUBLIC", "publicKey", RSA_B_PUB, NULL),
	    sec("RS256", "publicKey", RSA_A_PUB, "privateKey", RSA_A_KEY,
	    "kid", "a\"/b", "isPrimary", "=true", NULL), NULL));
	claims_text = "{\"id\":\"gw-1\",\"exp\":1700000100}";
	tok = auth_sign(ks, claims_text, strlen(claims_text));
	assert_non_null(tok);
	assert_int_equal(auth_verify(ks, tok, strlen(tok), NOW, NULL, NULL,
	    &claims, &exp, &url), AUTH_OK);
	assert_true(exp == NOW + 100);
	assert_true(json_object_object_get_ex(claims, "id", &m));
	assert_string_equal(json_object_get_string(m), "gw-1");
	json_object_put(claims);
	assert_int_equal(verify(ks, tok, NOW + 131), AUTH_EXPIRED);
	free(tok);
	auth_keyset_free(ks);
}

static void
test_primary(void **state)
{
	struct auth_keyset	*ks;
	char			*tok;

	/* none marked: the first that can sign */
	ks = ks_new(arr(sec("RS256_PUBLIC", "publicKey", RSA_A_PUB, NULL),
	    sec("RS256", "publicKey", RSA_A_PUB, NULL),
	    sec("HS256", "secret", S1, "kid", "k1", NULL),
	    sec("HS256", "secret", S2, NULL), NULL));
	assert_true(auth_keyset_can_sign(ks));
	tok = auth_sign(ks, SIGN_CLAIMS, strlen(SIGN_CLAIMS));
	assert_string_equal(tok, SIGN_HS_K1);
	free(tok);
	auth_keyset_free(ks);

	/* the marked one, wherever it is */
	ks = ks_new(arr(sec("HS256", "secret", S2, "isPrimary", "=false",
	    NULL), sec("HS256", "secret", S1, "kid", "k1", "isPrimary",
	    "=true", NULL), NULL));
	tok = auth_sign(ks, SIGN_CLAIMS, strlen(SIGN_CLAIMS));
	assert_string_equal(tok, SIGN_HS_K1);
	free(tok);
	auth_keyset_free(ks);

	/* nothing can sign */
	ks = ks_new(arr(sec("RS256_PUBLIC", "publicKey", RSA_A_PUB, NULL),
	    sec("JWK_URL", "jwkUrl", JWKS_URL, NULL), NULL));
	assert_false(auth_keyset_can_sign(ks));
	assert_null(auth_sign(ks, SIGN_CLAIMS, strlen(SIGN_CLAIMS)));
	auth_keyset_free(ks);
	ks = ks_new(NULL);
	assert_false(auth_keyset_can_sign(ks));
	assert_null(auth_sign(ks, "{}", 2));
	auth_keyset_free(ks);
	assert_false(auth_keyset_can_sign(NULL));
}

static void
test_jwks_urls(void **state)
{
	struct auth_keyset	*ks;

	ks = ks_new(arr(sec("JWK_URL", "jwkUrl", "http://a.example/k", NULL),
	    sec("HS256", "secret", S1, NULL),
	    sec("JWK_URL", "jwkUrl", JWKS_URL, "kid", "ignored", NULL), NULL));
	assert_int_equal(auth_keyset_njwks(ks), 2);
	assert_string_equal(auth_keyset_jwks_url(ks, 0), "http://a.example/k");
	assert_string_equal(auth_keyset_jwks_url(ks, 1), JWKS_URL);
	assert_null(auth_keyset_jwks_url(ks, 2));
	auth_keyset_free(ks);
	ks = ks_new(json_tokener_parse("[]"));
	assert_int_equal(auth_keyset_njwks(ks), 0);
	auth_keyset_free(ks);
}

/*
 * Keyset errors, each with its path.
 */

static void
test_keyset_errors(void **state)
{
	ks_fail(json_object_new_object(), PATH ": must be an array of objects");
	ks_fail(arr(sec("HS256", "secret", S1, NULL), json_object_new_int(1),
	    NULL), PATH "[1]: must be an object");
	ks_fail(arr(sec(NULL, "secret", S1, NULL), NULL), PATH "[0]: missing "
	    "\"alg\" (one of HS256, RS256, RS256_PUBLIC, JWK_URL)");
	ks_fail(arr(sec("HS256", "secret", S1, NULL), sec("HS512", "secret",
	    S1, NULL), NULL), PATH "[1]: unknown alg \"HS512\" (use HS256, "
	    "RS256, RS256_PUBLIC or JWK_URL)");
	ks_fail(arr(sec("none", NULL), NULL), PATH "[0]: unknown alg \"none\" "
	    "(use HS256, RS256, RS256_PUBLIC or JWK_URL)");
	ks_fail(arr(sec("HS256", NULL), NULL), PATH "[0]: missing \"secret\" "
	    "(HS256 needs a non-empty string)");
	ks_fail(arr(sec("HS256", "secret", "", NULL), NULL), PATH "[0]: "
	    "missing \"secret\" (HS256 needs a non-empty string)");
	ks_fail(arr(sec("HS256", "secret", "=5", NULL), NULL), PATH
	    "[0].secret: must be a string");
	ks_fail(arr(sec("RS256", "kid", "a", NULL), NULL), PATH "[0]: missing "
	    "\"publicKey\" or \"privateKey\" (RS256 needs a PEM key)");
	ks_fail(arr(sec("RS256_PUBLIC", "privateKey", RSA_A_KEY, NULL), NULL),
	    PATH "[0]: missing \"publicKey\" (RS256_PUBLIC needs a PEM "
	    "public key)");
	ks_fail(arr(sec("JWK_URL", NULL), NULL), PATH "[0]: missing "
	    "\"jwkUrl\" (JWK_URL needs an http(s) URL)");
	ks_fail(arr(sec("JWK_URL", "jwkUrl", "ftp://x/k", NULL), NULL), PATH
	    "[0].jwkUrl: must be an http:// or https:// URL");
	ks_fail(arr(sec("JWK_URL", "jwkUrl", "https:///k", NULL), NULL), PATH
	    "[0].jwkUrl: must be an http:// or https:// URL");
	ks_fail(arr(sec("HS256", "secret", S1, "kid", "=1", NULL), NULL), PATH
	    "[0].kid: must be a string");
	ks_fail(arr(sec("HS256", "secret", S1, "isPrimary", "=\"yes\"", NULL),
	    NULL), PATH "[0].isPrimary: must be true or false");
	ks_fail(arr(sec("HS256", "secret", S1, "aud", "api", NULL), NULL),
	    PATH "[0].aud: must be an array of strings");
	ks_fail(arr(sec("HS256", "secret", S1, "iss", "=[\"a\",2]", NULL),
	    NULL), PATH "[0].iss[1]: must be a string");
}

static void
test_keyset_pem_errors(void **state)
{
	ks_fail(arr(sec("RS256", "publicKey", "not a key", NULL), NULL),
	    PATH "[0].publicKey: cannot load the PEM key: no \"-----BEGIN\" "
	    "line");
	ks_fail(arr(sec("HS256", "secret", S1, NULL), sec("RS256_PUBLIC",
	    "publicKey", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC "
	    "KEY-----\n", NULL), NULL),
	    PATH "[1].publicKey: cannot load the PEM key: *");
	/* a private key where the public one belongs, and the reverse */
	ks_fail(arr(sec("RS256", "publicKey", RSA_A_KEY, NULL), NULL),
	    PATH "[0].publicKey: cannot load the PEM key: *");
	ks_fail(arr(sec("RS256", "privateKey", RSA_A_PUB, NULL), NULL),
	    PATH "[0].privateKey: cannot load the PEM key: *");
	ks_fail(arr(sec("RS256", "publicKey", EC_PUB, NULL), NULL),
	    PATH "[0].publicKey: cannot load the PEM key: not an RSA key "
	    "(RS256 needs one)");
	ks_fail(arr(sec("RS256", "publicKey", RSA_SHORT_PUB, NULL), NULL),
	    PATH "[0].publicKey: cannot load the PEM key: a 1024-bit RSA key "
	    "is too short (at least 2048 bits)");
	ks_fail(arr(sec("RS256", "publicKey", RSA_B_PUB, "privateKey",
	    RSA_A_KEY, NULL), NULL),
	    PATH "[0].publicKey: does not match \"privateKey\"");
}

static void
test_keyset_primary_errors(void **state)
{
	struct auth_keyset	*ks;
	struct json_object	*v;
	struct syerrs		 errs;

	ks_fail(arr(sec("HS256", "secret", S1, "isPrimary", "=true", NULL),
	    sec("HS256", "secret", S2, NULL), sec("HS256", "secret", S2,
	    "isPrimary", "=true", NULL), NULL), PATH "[2].isPrimary: only "
	    "one secret may be primary (" PATH "[0] is)");
	ks_fail(arr(sec("RS256_PUBLIC", "publicKey", RSA_A_PUB, "isPrimary",
	    "=true", NULL), NULL), PATH "[0].isPrimary: RS256_PUBLIC and "
	    "JWK_URL secrets cannot sign; make an HS256 or RS256 secret "
	    "primary");
	ks_fail(arr(sec("JWK_URL", "jwkUrl", JWKS_URL, "isPrimary", "=true",
	    NULL), NULL), PATH "[0].isPrimary: RS256_PUBLIC and JWK_URL "
	    "secrets cannot sign; make an HS256 or RS256 secret primary");
	ks_fail(arr(sec("RS256", "publicKey", RSA_A_PUB, "isPrimary", "=true",
	    NULL), NULL), PATH "[0].isPrimary: an RS256 secret without "
	    "\"privateKey\" cannot sign");

	/* every problem at once, and Space Cloud's "" for unset members */
	syerrs_init(&errs);
	v = json_tokener_parse("[{\"alg\":\"HS256\"},"
	    "{\"alg\":\"RS256\",\"publicKey\":\"x\"},{\"alg\":\"x\"},"
	    "{\"alg\":\"HS256\",\"secret\":\"s\",\"publicKey\":\"\","
	    "\"privateKey\":\"\",\"jwkUrl\":\"\",\"kid\":\"\","
	    "\"aud\":null,\"iss\":[],\"isPrimary\":null}]");
	ks = auth_keyset_new(v, "secrets", &errs);
	assert_null(ks);
	if (errs.n != 3)
		dump(&errs);
	assert_int_equal(errs.n, 3);
	assert_string_equal(errs.msg[0], "secrets[0]: missing \"secret\" "
	    "(HS256 needs a non-empty string)");
	assert_memory_equal(errs.msg[1], "secrets[1].publicKey: ", 22);
	assert_memory_equal(errs.msg[2], "secrets[2]: ", 12);
	syerrs_free(&errs);
	/* the same, valid */
	json_object_array_del_idx(v, 0, 3);
	ks = ks_new(v);
	assert_true(auth_keyset_can_sign(ks));
	auth_keyset_free(ks);
}

/*
 * Hashing and randomness.
 */

static void
test_hashes(void **state)
{
	char	 hex[65], a[33], b[33];

	auth_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	auth_sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	assert_true(auth_hash64("abc", 3) == 0xba7816bf8f01cfeaULL);
	assert_true(auth_hash64("abd", 3) != auth_hash64("abc", 3));

	assert_int_equal(auth_random_hex(a, 16), 0);
	assert_int_equal(auth_random_hex(b, 16), 0);
	assert_int_equal(strlen(a), 32);
	assert_int_equal(strspn(a, "0123456789abcdef"), 32);
	assert_string_not_equal(a, b);
	assert_int_equal(auth_random_hex(a, 0), 0);
	assert_string_equal(a, "");
}

static void
test_result_str(void **state)
{
	int	 r;

	assert_string_equal(auth_result_str(AUTH_OK), "ok");
	for (r = AUTH_MALFORMED; r <= AUTH_NO_KEYS; r++) {
		assert_non_null(auth_result_str((enum auth_result)r));
		assert_string_not_equal(auth_result_str((enum auth_result)r),
		    "ok");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hs256_valid),
		cmocka_unit_test(test_rs256_valid),
		cmocka_unit_test(test_kid_lookup),
		cmocka_unit_test(test_no_kid_each_secret),
		cmocka_unit_test(test_exp_leeway),
		cmocka_unit_test(test_nbf),
		cmocka_unit_test(test_wrong_secret),
		cmocka_unit_test(test_alg_refused),
		cmocka_unit_test(test_hs256_with_public_key),
		cmocka_unit_test(test_unknown_kid_jwks),
		cmocka_unit_test(test_aud_iss),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_jwks_parse),
		cmocka_unit_test(test_sign_hs256),
		cmocka_unit_test(test_sign_rs256),
		cmocka_unit_test(test_sign_round_trip),
		cmocka_unit_test(test_primary),
		cmocka_unit_test(test_jwks_urls),
		cmocka_unit_test(test_keyset_errors),
		cmocka_unit_test(test_keyset_pem_errors),
		cmocka_unit_test(test_keyset_primary_errors),
		cmocka_unit_test(test_hashes),
		cmocka_unit_test(test_result_str),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
