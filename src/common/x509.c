/* SPDX-License-Identifier: MIT */
/*
 * Certificates through GnuTLS (see x509.h). The key is ECDSA on P-256: small,
 * fast to make at first start, and accepted by every TLS 1.2/1.3 peer we
 * meet (libcurl with OpenSSL, Chromium, GnuTLS). The certificate is not a CA
 * (basicConstraints CA:FALSE): it stands for itself only.
 */
#include "common/x509.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "common/util.h"

#define CERT_YEARS 10

int vk_random(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int vk_random_hex(char *out, size_t n)
{
	uint8_t b[64];
	int r;

	if (n > sizeof(b))
		return -EINVAL;
	if ((r = vk_random(b, n)) < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	out[2 * n] = '\0';
	return 0;
}

void vk_base64(const void *in, size_t len, char *out)
{
	static const char tab[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t *p = in;
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

void vk_x509_fingerprint_der(const void *der, size_t len, char *out)
{
	uint8_t h[32];

	gnutls_hash_fast(GNUTLS_DIG_SHA256, der, len, h);
	for (size_t i = 0; i < sizeof(h); i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static int gtls_error(struct vk_error *err, int gr, const char *what)
{
	return vk_error_set(err, gr == GNUTLS_E_MEMORY_ERROR ? ENOMEM : EINVAL, "%s: %s", what,
	                    gnutls_strerror(gr));
}

/* The first certificate of a PEM text. */
static int import_pem(const char *pem, size_t len, gnutls_x509_crt_t *crt, struct vk_error *err)
{
	gnutls_datum_t d = {.data = (unsigned char *)pem, .size = (unsigned)len};
	int gr;

	if (len > UINT32_MAX)
		return vk_error_set(err, EFBIG, "the certificate is too large");
	if ((gr = gnutls_x509_crt_init(crt)) < 0)
		return gtls_error(err, gr, "cannot read the certificate");
	if ((gr = gnutls_x509_crt_import(*crt, &d, GNUTLS_X509_FMT_PEM)) < 0) {
		gnutls_x509_crt_deinit(*crt);
		return gtls_error(err, gr, "not a PEM certificate");
	}
	return 0;
}

int vk_x509_fingerprint_pem(const char *pem, size_t len, char *out, uint8_t **der, size_t *der_len,
                            struct vk_error *err)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;
	int gr, r;

	if ((r = import_pem(pem, len, &crt, err)) < 0)
		return r;
	gr = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &d);
	gnutls_x509_crt_deinit(crt);
	if (gr < 0)
		return gtls_error(err, gr, "cannot encode the certificate");
	vk_x509_fingerprint_der(d.data, d.size, out);
	if (der) {
		*der = malloc(d.size);
		if (!*der) {
			gnutls_free(d.data);
			return vk_error_set(err, ENOMEM, "out of memory");
		}
		memcpy(*der, d.data, d.size);
		*der_len = d.size;
	}
	gnutls_free(d.data);
	return 0;
}

char *vk_x509_der_to_pem(const void *der, size_t len)
{
	gnutls_datum_t in = {.data = (unsigned char *)der, .size = (unsigned)len}, out;
	char *s;

	if (len > UINT32_MAX || gnutls_pem_base64_encode2("CERTIFICATE", &in, &out) < 0)
		return NULL;
	s = malloc(out.size + 1);
	if (s) {
		memcpy(s, out.data, out.size);
		s[out.size] = '\0';
	}
	gnutls_free(out.data);
	return s;
}

int vk_x509_info_pem(const char *pem, size_t len, struct vk_x509_info *info, struct vk_error *err)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t dn = {0};
	int r;

	if ((r = import_pem(pem, len, &crt, err)) < 0)
		return r;
	info->subject[0] = '\0';
	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0) {
		snprintf(info->subject, sizeof(info->subject), "%.*s", (int)dn.size,
		         (const char *)dn.data);
		gnutls_free(dn.data);
	}
	info->not_before = (int64_t)gnutls_x509_crt_get_activation_time(crt);
	info->not_after = (int64_t)gnutls_x509_crt_get_expiration_time(crt);
	gnutls_x509_crt_deinit(crt);
	return 0;
}

int vk_x509_pin_pem(const char *pem, size_t len, char *out, size_t out_len, struct vk_error *err)
{
	gnutls_x509_crt_t crt;
	gnutls_pubkey_t pk = NULL;
	gnutls_datum_t spki = {0};
	uint8_t h[32];
	char b64[48];
	int gr, r;

	if (out_len < sizeof("sha256//") + sizeof(b64))
		return vk_error_set(err, ENOBUFS, "no room for the key pin");
	if ((r = import_pem(pem, len, &crt, err)) < 0)
		return r;
	if ((gr = gnutls_pubkey_init(&pk)) < 0 ||
	    (gr = gnutls_pubkey_import_x509(pk, crt, 0)) < 0 ||
	    (gr = gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, &spki)) < 0)
		r = gtls_error(err, gr, "cannot read the certificate's public key");
	if (pk)
		gnutls_pubkey_deinit(pk);
	gnutls_x509_crt_deinit(crt);
	if (r < 0)
		return r;
	gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, h);
	gnutls_free(spki.data);
	vk_base64(h, sizeof(h), b64);
	snprintf(out, out_len, "sha256//%s", b64);
	return 0;
}

/* Subject alternative names of a server certificate: what a client may call us locally. */
static int add_server_names(gnutls_x509_crt_t crt)
{
	struct in6_addr v6 = IN6ADDR_LOOPBACK_INIT;
	uint8_t v4[4] = {127, 0, 0, 1};
	char host[256];
	int gr;

	if ((gr = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
	                                               GNUTLS_FSAN_APPEND)) < 0 ||
	    (gr = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v4, 4,
	                                               GNUTLS_FSAN_APPEND)) < 0 ||
	    (gr = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, &v6, 16,
	                                               GNUTLS_FSAN_APPEND)) < 0)
		return gr;
	if (gethostname(host, sizeof(host)) == 0 && host[0] && strcmp(host, "localhost") != 0)
		gr = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host,
		                                          (unsigned)strnlen(host, sizeof(host)),
		                                          GNUTLS_FSAN_APPEND);
	return gr < 0 ? gr : 0;
}

static int build(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn,
                 enum vk_x509_role role)
{
	uint8_t serial[16], id[64];
	size_t id_len = sizeof(id);
	time_t now = time(NULL);
	int gr;

	if (vk_random(serial, sizeof(serial)) < 0)
		return GNUTLS_E_RANDOM_FAILED;
	serial[0] &= 0x7f; /* a positive INTEGER */
	serial[0] |= 0x40; /* and 16 bytes long */
	if ((gr = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (gr = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (gr = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (gr = gnutls_x509_crt_set_expiration_time(crt, now + CERT_YEARS * 365L * 86400)) < 0 ||
	    (gr = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
	                                        "virtkit", 7)) < 0 ||
	    (gr = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
	                                        (unsigned)strlen(cn))) < 0 ||
	    (gr = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (gr = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (gr = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (gr = gnutls_x509_crt_set_key_purpose_oid(
	             crt,
	             role == VK_X509_SERVER ? GNUTLS_KP_TLS_WWW_SERVER : GNUTLS_KP_TLS_WWW_CLIENT,
	             0)) < 0)
		return gr;
	if (role == VK_X509_SERVER && (gr = add_server_names(crt)) < 0)
		return gr;
	if ((gr = gnutls_x509_crt_get_key_id(crt, 0, id, &id_len)) < 0 ||
	    (gr = gnutls_x509_crt_set_subject_key_id(crt, id, id_len)) < 0)
		return gr;
	return gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
}

int vk_x509_ensure(const char *cert_path, const char *key_path, const char *cn,
                   enum vk_x509_role role, struct vk_error *err)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t kpem = {0}, cpem = {0};
	bool have_cert = access(cert_path, F_OK) == 0, have_key = access(key_path, F_OK) == 0;
	int gr, r = 0;

	if (have_cert && have_key)
		return 0;
	/* A key without its certificate (a start cut short) is made anew; the reverse is not. */
	if (have_cert)
		return vk_error_set(
		        err, EEXIST,
		        "'%s' exists without its key '%s': move it away to make a new pair",
		        cert_path, key_path);
	if ((gr = gnutls_x509_privkey_init(&key)) < 0 ||
	    (gr = gnutls_x509_privkey_generate2(key, GNUTLS_PK_ECDSA,
	                                        GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0,
	                                        NULL, 0)) < 0 ||
	    (gr = gnutls_x509_crt_init(&crt)) < 0 || (gr = build(crt, key, cn, role)) < 0 ||
	    (gr = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
	                                            GNUTLS_PKCS_PLAIN, &kpem)) < 0 ||
	    (gr = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem)) < 0) {
		r = vk_error_set(err, EIO, "cannot make a certificate for '%s': %s", cn,
		                 gnutls_strerror(gr));
		goto out;
	}
	/* The key first: a certificate never exists without it. */
	if ((r = vk_write_file_atomic(key_path, kpem.data, kpem.size, 0600, err)) < 0)
		goto out;
	if ((r = vk_write_file_atomic(cert_path, cpem.data, cpem.size, 0644, err)) < 0) {
		unlink(key_path);
		goto out;
	}
	chmod(cert_path, 0644); /* the umask may have taken bits away; it is public */
	r = 1;
out:
	if (kpem.data) {
		gnutls_memset(kpem.data, 0, kpem.size);
		gnutls_free(kpem.data);
	}
	gnutls_free(cpem.data);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return r;
}
