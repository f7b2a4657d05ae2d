/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the TLS listener's trust store (src/daemon/trust.c) and the
 * certificates it holds (src/common/x509.c): certificates made once, their
 * fingerprints as OpenSSL prints them, trust by fingerprint only (the file's
 * own copy of it is not believed), removal by a unique prefix, join tokens
 * that work once and never after they expire, and everything across a
 * reopen.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "common/x509.h"
#include "daemon/trust.h"

static char dir[64], crt[96], key[96], store[96];
static char *pem;
static size_t pem_len;

static int setup(void **state)
{
	uint8_t *buf;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vk-trust.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(crt, sizeof(crt), "%s/c.crt", dir);
	snprintf(key, sizeof(key), "%s/c.key", dir);
	snprintf(store, sizeof(store), "%s/trust.json", dir);
	assert_int_equal(vk_x509_ensure(crt, key, "tester", VK_X509_CLIENT, NULL), 1);
	assert_int_equal(vk_read_file(crt, 1 << 20, &buf, &pem_len, NULL), 0);
	pem = (char *)buf;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	free(pem);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_certificate(void **state)
{
	struct vk_x509_info info;
	char fp[VK_FINGERPRINT_LEN + 1], fp2[VK_FINGERPRINT_LEN + 1], pin[80];
	uint8_t *der;
	size_t der_len;
	struct stat st;

	(void)state;
	/* Made once: a second call keeps the pair. */
	assert_int_equal(vk_x509_ensure(crt, key, "tester", VK_X509_CLIENT, NULL), 0);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(vk_x509_fingerprint_pem(pem, pem_len, fp, &der, &der_len, NULL), 0);
	assert_int_equal(strlen(fp), VK_FINGERPRINT_LEN);
	vk_x509_fingerprint_der(der, der_len, fp2);
	assert_string_equal(fp, fp2);
	free(der);
	assert_int_equal(vk_x509_info_pem(pem, pem_len, &info, NULL), 0);
	assert_non_null(strstr(info.subject, "CN=tester"));
	assert_true(info.not_after - info.not_before > 9L * 365 * 86400);
	assert_int_equal(vk_x509_pin_pem(pem, pem_len, pin, sizeof(pin), NULL), 0);
	assert_int_equal(strncmp(pin, "sha256//", 8), 0);
	assert_int_equal(strlen(pin), 8 + 44);
	/* Not a certificate. */
	assert_int_equal(vk_x509_fingerprint_pem("hello", 5, fp, NULL, NULL, NULL), -EINVAL);
}

static void test_base64(void **state)
{
	char out[16];

	(void)state;
	vk_base64("", 0, out);
	assert_string_equal(out, "");
	vk_base64("f", 1, out);
	assert_string_equal(out, "Zg==");
	vk_base64("fo", 2, out);
	assert_string_equal(out, "Zm8=");
	vk_base64("foobar", 6, out);
	assert_string_equal(out, "Zm9vYmFy");
}

static void test_add_check_remove(void **state)
{
	char fp[VK_FINGERPRINT_LEN + 1], gone[VK_FINGERPRINT_LEN + 1], name[64], other[65];
	struct vk_error err = {0};
	struct trust *t;

	(void)state;
	assert_int_equal(trust_open(store, &t, NULL), 0);
	assert_int_equal(trust_add(t, pem, pem_len, "alice", fp, &err), 0);
	assert_true(trust_check(t, fp, name, sizeof(name)));
	assert_string_equal(name, "alice");
	memcpy(other, fp, sizeof(other));
	other[0] = other[0] == '0' ? '1' : '0';
	assert_false(trust_check(t, other, NULL, 0));
	assert_false(trust_check(t, "", NULL, 0));
	assert_int_equal(trust_add(t, pem, pem_len, "again", fp, &err), -EEXIST);
	assert_int_equal(trust_add(t, pem, pem_len, "bad name", fp, &err), -EINVAL);
	assert_int_equal(trust_add(t, "junk", 4, "junk", fp, &err), -EINVAL);
	assert_int_equal(trust_remove(t, "abc", gone, &err), -EINVAL);
	assert_int_equal(trust_remove(t, "ABCDEF12", gone, &err), -EINVAL);
	memcpy(other, fp, 8);
	other[8] = '\0';
	other[0] = other[0] == '0' ? '1' : '0';
	assert_int_equal(trust_remove(t, other, gone, &err), -ENOENT);
	memcpy(other, fp, 8);
	assert_int_equal(trust_remove(t, other, gone, &err), 0);
	assert_string_equal(gone, fp);
	assert_false(trust_check(t, fp, NULL, 0));
	assert_int_equal(trust_remove(t, fp, gone, &err), -ENOENT);
	trust_close(t);
}

static void test_tokens(void **state)
{
	char secret[2 * TRUST_SECRET_BYTES + 1], name[64], fp[VK_FINGERPRINT_LEN + 1];
	char wrong[2 * TRUST_SECRET_BYTES + 1];
	struct vk_error err = {0};
	int64_t exp;
	struct trust *t;
	uint8_t *der;
	size_t der_len;

	(void)state;
	assert_int_equal(vk_x509_fingerprint_pem(pem, pem_len, fp, &der, &der_len, NULL), 0);
	assert_int_equal(trust_open(store, &t, NULL), 0);
	assert_int_equal(trust_token_create(t, "bob", 600, secret, &exp, &err), 0);
	assert_int_equal(strlen(secret), 2 * TRUST_SECRET_BYTES);
	assert_int_equal(trust_token_create(t, "bob", 600, wrong, &exp, &err), -EEXIST);
	assert_int_equal(trust_token_create(t, "carol", 0, wrong, &exp, &err), -EINVAL);
	memcpy(wrong, secret, sizeof(wrong));
	wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
	assert_int_equal(trust_token_redeem(t, wrong, der, der_len, name, sizeof(name), fp, &err),
	                 -EACCES);
	assert_int_equal(trust_token_redeem(t, "short", der, der_len, name, sizeof(name), fp, &err),
	                 -EACCES);
	assert_int_equal(trust_token_redeem(t, secret, der, der_len, name, sizeof(name), fp, &err),
	                 0);
	assert_string_equal(name, "bob");
	assert_true(trust_check(t, fp, NULL, 0));
	/* Once: the same secret again is refused, whatever certificate comes with it. */
	assert_int_equal(trust_token_redeem(t, secret, der, der_len, name, sizeof(name), fp, &err),
	                 -EACCES);
	assert_int_equal(trust_token_create(t, "dave", 600, secret, &exp, &err), 0);
	assert_int_equal(trust_token_remove(t, "dave", &err), 0);
	assert_int_equal(trust_token_remove(t, "dave", &err), -ENOENT);
	assert_int_equal(trust_token_redeem(t, secret, der, der_len, name, sizeof(name), fp, &err),
	                 -EACCES);
	trust_close(t);

	/* Across a reopen: the certificate is trusted, the spent token is gone. */
	assert_int_equal(trust_open(store, &t, NULL), 0);
	assert_true(trust_check(t, fp, name, sizeof(name)));
	assert_string_equal(name, "bob");
	{
		json_object *l = trust_list(t);
		assert_int_equal(json_object_array_length(json_object_object_get(l, "tokens")), 0);
		assert_int_equal(
		        json_object_array_length(json_object_object_get(l, "certificates")), 1);
		json_object_put(l);
	}
	trust_close(t);
	free(der);
}

/* Write the store file by hand (what a stale or tampered file says). */
static void write_store(const char *text)
{
	assert_int_equal(vk_write_file_atomic(store, text, strlen(text), 0600, NULL), 0);
}

static void test_file(void **state)
{
	char fp[VK_FINGERPRINT_LEN + 1], name[64], hash[VK_FINGERPRINT_LEN + 1], *buf;
	const char *secret = "0123456789abcdef0123456789abcdef";
	struct vk_error err = {0};
	json_object *esc;
	struct trust *t;
	uint8_t *der;
	size_t der_len, len;

	(void)state;
	assert_int_equal(vk_x509_fingerprint_pem(pem, pem_len, fp, &der, &der_len, NULL), 0);
	vk_x509_fingerprint_der(secret, strlen(secret), hash);
	esc = json_object_new_string(pem);
	len = strlen(json_object_to_json_string(esc)) + 1024;
	buf = malloc(len);
	assert_non_null(buf);
	/* The file's fingerprint is a lie and the token expired an hour ago. */
	snprintf(buf, len,
	         "{\"certificates\":[{\"fingerprint\":\"%064d\",\"name\":\"liar\",\"added\":1,"
	         "\"certificate\":%s}],\"tokens\":[{\"name\":\"old\",\"sha256\":\"%s\","
	         "\"created\":1,\"expires_at\":%lld}]}",
	         0, json_object_to_json_string(esc), hash, (long long)time(NULL) - 3600);
	write_store(buf);
	free(buf);
	json_object_put(esc);
	assert_int_equal(trust_open(store, &t, &err), 0);
	assert_false(trust_check(
	        t, "0000000000000000000000000000000000000000000000000000000000000000", NULL, 0));
	assert_true(trust_check(t, fp, name, sizeof(name)));
	assert_string_equal(name, "liar");
	assert_int_equal(trust_token_redeem(t, secret, der, der_len, name, sizeof(name), fp, &err),
	                 -EACCES);
	trust_close(t);
	free(der);

	write_store("{\"certificates\": 3}");
	assert_int_equal(trust_open(store, &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not valid"));
	write_store("{\"certificates\":[{\"name\":\"x\",\"certificate\":\"junk\"}],\"tokens\":[]}");
	assert_int_equal(trust_open(store, &t, &err), -EINVAL);
	unlink(store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_certificate),
	        cmocka_unit_test(test_base64),
	        cmocka_unit_test(test_add_check_remove),
	        cmocka_unit_test(test_tokens),
	        cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
