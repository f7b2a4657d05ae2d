/* SPDX-License-Identifier: MIT */
/* libFuzzer entry point of every harness (built with clang -fsanitize=fuzzer). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return vk_fuzz_one(data, size);
}
