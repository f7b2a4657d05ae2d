/* SPDX-License-Identifier: MIT */
/*
 * X.509 certificates for virtkit's TLS (GnuTLS): the self-signed certificate
 * a daemon serves and a client presents (ECDSA P-256, 10 years), generated
 * once and kept as PEM files; SHA-256 fingerprints (of the DER certificate,
 * as `openssl x509 -fingerprint -sha256` prints them, lower-case hex without
 * colons); the public-key pin libcurl checks; what `trust list` shows.
 * Identity is the fingerprint: nobody signs these certificates but their
 * owner, and a peer is trusted by listing its fingerprint.
 */
#ifndef VK_X509_H
#define VK_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define VK_FINGERPRINT_LEN 64 /* hex characters of a SHA-256 fingerprint */

enum vk_x509_role {
	VK_X509_SERVER, /* serverAuth, names: localhost, 127.0.0.1, ::1, the host name */
	VK_X509_CLIENT, /* clientAuth */
};

/*
 * Make a key and a self-signed certificate for cn and write them (the key
 * mode 0600) unless both files exist already. Returns 0 when they exist, 1
 * when they were made, -errno.
 */
int vk_x509_ensure(const char *cert_path, const char *key_path, const char *cn,
                   enum vk_x509_role role, struct vk_error *err) VK_MUST_CHECK;

/* The fingerprint of a DER certificate (out: VK_FINGERPRINT_LEN + 1 bytes). */
void vk_x509_fingerprint_der(const void *der, size_t len, char *out);

/* The first certificate of a PEM text: its fingerprint, and its DER (malloc'd) when der != NULL. */
int vk_x509_fingerprint_pem(const char *pem, size_t len, char *out, uint8_t **der, size_t *der_len,
                            struct vk_error *err) VK_MUST_CHECK;

/* A DER certificate as PEM text (malloc'd, NUL-terminated). */
char *vk_x509_der_to_pem(const void *der, size_t len);

struct vk_x509_info {
	char subject[256];             /* the distinguished name, RFC 4514 */
	int64_t not_before, not_after; /* seconds since the epoch */
};

int vk_x509_info_pem(const char *pem, size_t len, struct vk_x509_info *info,
                     struct vk_error *err) VK_MUST_CHECK;

/*
 * "sha256//BASE64" of the certificate's SubjectPublicKeyInfo, the form of
 * libcurl's CURLOPT_PINNEDPUBLICKEY (out: at least 64 bytes).
 */
int vk_x509_pin_pem(const char *pem, size_t len, char *out, size_t out_len,
                    struct vk_error *err) VK_MUST_CHECK;

/* Standard base64 with padding of len bytes into out (4 * ceil(len / 3) + 1 bytes). */
void vk_base64(const void *in, size_t len, char *out);

/* n random bytes from the kernel (getrandom). */
int vk_random(void *buf, size_t n) VK_MUST_CHECK;

/* n random bytes as 2n lower-case hex characters plus a NUL. */
int vk_random_hex(char *out, size_t n) VK_MUST_CHECK;

#endif
