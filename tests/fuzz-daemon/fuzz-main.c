/* SPDX-License-Identifier: MIT */
/* libFuzzer entry point; FUZZ_TARGET names the harness (vkd_fuzz_request, _domxml, _image, _unpack). */
#include <stddef.h>
#include <stdint.h>

#include "daemon/domxml.h"
#include "fuzz-daemon.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	domxml_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return FUZZ_TARGET(data, size);
}
