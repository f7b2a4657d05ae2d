/* SPDX-License-Identifier: MIT */
/* Fuzz harnesses for virtkitd's untrusted-input parsers (see fuzz-daemon.c). */
#ifndef VK_FUZZ_DAEMON_H
#define VK_FUZZ_DAEMON_H

#include <stddef.h>
#include <stdint.h>

/* A request: byte 0 picks the method, then the path up to '\n', then the body. */
int vkd_fuzz_request(const uint8_t *data, size_t len);
/* A libvirt domain XML document. */
int vkd_fuzz_domxml(const uint8_t *data, size_t len);
/* Byte 0 picks VM image metadata, an OCI index, manifest or config; then the JSON (fuzz-image.c). */
int vkd_fuzz_image(const uint8_t *data, size_t len);
/* An image layer (a tar stream) unpacked into a scratch folder (fuzz-image.c). */
int vkd_fuzz_unpack(const uint8_t *data, size_t len);

#endif
