/* SPDX-License-Identifier: MIT */
/*
 * Interpreter speed, a mixed workload in freestanding C (no libc): CRC-32,
 * quicksort, integer matrix multiply, string scanning, pointer chasing and
 * double-precision arithmetic. Built for the guest (riscv64, -O2) and
 * reporting through HTIF: pass when the checksum equals the one the same
 * code computes on the host (BENCH_MIX_EXPECTED, checked by
 * `cc -O2 -ffp-contract=off -DBENCH_MIX_HOST bench-mix.c && ./a.out`).
 */
#include <stdint.h>

#define BENCH_MIX_EXPECTED 0xe55ffd59d67a84f3ull

#define N_SORT             20000
#define N_MAT              48
#define N_LIST             4096
#define ROUNDS             20

static uint32_t crc_table[256];
static int32_t sort_buf[N_SORT];
static int32_t ma[N_MAT][N_MAT], mb[N_MAT][N_MAT], mc[N_MAT][N_MAT];
static uint32_t next_idx[N_LIST];
static char text[8192];

static uint64_t rng_state = 0x123456789abcdefull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint32_t crc32(const uint8_t *p, unsigned n)
{
	uint32_t c = 0xffffffffu;

	for (unsigned i = 0; i < n; i++)
		c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return ~c;
}

static void quicksort(int32_t *a, int lo, int hi)
{
	while (lo < hi) {
		int32_t pivot = a[(lo + hi) / 2];
		int i = lo, j = hi;
		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				int32_t t = a[i];
				a[i] = a[j];
				a[j] = t;
				i++;
				j--;
			}
		}
		if (j - lo < hi - i) {
			quicksort(a, lo, j);
			lo = i;
		} else {
			quicksort(a, i, hi);
			hi = j;
		}
	}
}

static uint64_t bench(void)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	for (int round = 0; round < ROUNDS; round++) {
		/* CRC over pseudo-random text */
		for (unsigned i = 0; i < sizeof(text); i++)
			text[i] = (char)(' ' + rng() % 95);
		text[sizeof(text) - 1] = 0;
		sum = sum * 31 + crc32((const uint8_t *)text, sizeof(text));
		/* string scanning: count words and vowels */
		unsigned words = 0, vowels = 0;
		for (const char *s = text; *s; s++) {
			if (*s == ' ' && s[1] != ' ')
				words++;
			switch (*s | 0x20) {
			case 'a':
			case 'e':
			case 'i':
			case 'o':
			case 'u':
				vowels++;
				break;
			default:
				break;
			}
		}
		sum = sum * 31 + words * 1000 + vowels;
		/* sort */
		for (int i = 0; i < N_SORT; i++)
			sort_buf[i] = (int32_t)(rng() % 2000001) - 1000000;
		quicksort(sort_buf, 0, N_SORT - 1);
		for (int i = 0; i < N_SORT; i += 97)
			sum = sum * 31 + (uint32_t)sort_buf[i];
		/* matrix multiply */
		for (int i = 0; i < N_MAT; i++)
			for (int j = 0; j < N_MAT; j++) {
				ma[i][j] = (int32_t)(rng() % 200) - 100;
				mb[i][j] = (int32_t)(rng() % 200) - 100;
			}
		for (int i = 0; i < N_MAT; i++)
			for (int j = 0; j < N_MAT; j++) {
				int32_t acc = 0;
				for (int k = 0; k < N_MAT; k++)
					acc += ma[i][k] * mb[k][j];
				mc[i][j] = acc;
			}
		for (int i = 0; i < N_MAT; i++)
			sum = sum * 31 + (uint32_t)mc[i][(i * 7) % N_MAT];
		/* pointer chasing through a random cycle */
		for (uint32_t i = 0; i < N_LIST; i++)
			next_idx[i] = i;
		for (uint32_t i = N_LIST - 1; i > 0; i--) {
			uint32_t j = (uint32_t)(rng() % i), t = next_idx[i];
			next_idx[i] = next_idx[j];
			next_idx[j] = t;
		}
		uint32_t p = 0;
		for (int i = 0; i < 100000; i++)
			p = next_idx[p];
		sum = sum * 31 + p;
		/* doubles */
		double acc = 0, x = 0.5;
		for (int i = 1; i < 20000; i++) {
			x = x * 1.0001 + 1.0 / i;
			acc += x / (1.0 + x * x);
		}
		sum = sum * 31 + (uint64_t)(acc * 1e6);
	}
	return sum;
}

#ifdef BENCH_MIX_HOST
#include <stdio.h>
int main(void)
{
	printf("0x%016llxull\n", (unsigned long long)bench());
	return 0;
}
#else
extern volatile uint64_t tohost;
void bench_main(void);
void bench_main(void)
{
	tohost = bench() == BENCH_MIX_EXPECTED ? 1 : 3;
	for (;;)
		;
}

__asm__(".section .text.init\n"
        ".globl _start\n"
        "_start:\n"
        "  la sp, stack_top\n"
        "  li t0, 0x2000\n" /* mstatus.FS = initial */
        "  csrs mstatus, t0\n"
        "  j bench_main\n"
        ".section .tohost, \"aw\"\n"
        ".align 6\n"
        ".globl tohost\n"
        ".type tohost, @object\n"
        ".size tohost, 8\n"
        "tohost: .dword 0\n"
        ".align 6\n"
        ".globl fromhost\n"
        ".type fromhost, @object\n"
        ".size fromhost, 8\n"
        "fromhost: .dword 0\n");
#endif
