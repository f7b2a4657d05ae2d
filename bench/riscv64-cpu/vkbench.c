/* SPDX-License-Identifier: MIT */
/*
 * CPU-bound kernels for the riscv64 CPU benchmark (bench/riscv64-cpu/run),
 * built for riscv64 (run in the guest) and for the host (the native
 * reference). Each kernel does a fixed amount of work and prints its time and
 * a checksum, which must be the same on every machine:
 *
 *   vkbench KERNEL [SCALE]     crc | matrix | list | state | sort | all
 *   vkbench time CMD [ARG...]  run CMD, print its wall time
 *
 * The kernels are ours, written to exercise what compiled C code does most:
 * byte loads and table lookups (crc), multiply-accumulate over arrays
 * (matrix), pointer chasing and small function calls (list), branches on
 * data (state), and compares and swaps with recursion (sort).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t rng_state = 12345;

static uint32_t rnd(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

/* ---- crc: CRC-32 (reflected, table-driven) over a buffer, many times ---- */

static uint32_t crc_table[256];

static uint64_t k_crc(unsigned scale)
{
	static uint8_t buf[64 << 10];
	uint32_t crc = 0;

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rnd();
	for (unsigned r = 0; r < 40 * scale; r++) {
		uint32_t c = ~crc;
		for (size_t i = 0; i < sizeof(buf); i++)
			c = crc_table[(c ^ buf[i]) & 0xff] ^ (c >> 8);
		crc = ~c;
	}
	return crc;
}

/* ---- matrix: 64x64 integer matrix products ---- */

#define N 64
static int32_t ma[N][N], mb[N][N], mc[N][N];

static uint64_t k_matrix(unsigned scale)
{
	uint64_t sum = 0;

	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			ma[i][j] = (int32_t)(rnd() % 100) - 50;
			mb[i][j] = (int32_t)(rnd() % 100) - 50;
		}
	for (unsigned r = 0; r < 60 * scale; r++) {
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++) {
				int32_t acc = 0;
				for (int k = 0; k < N; k++)
					acc += ma[i][k] * mb[k][j];
				mc[i][j] = acc;
			}
		ma[r % N][(r * 7) % N] ^= mc[(r * 3) % N][r % N] & 0xff;
		sum += (uint32_t)mc[r % N][(r * 5) % N];
	}
	return sum;
}

/* ---- list: build, walk and reverse singly linked lists ---- */

struct node {
	struct node *next;
	uint32_t key, val;
};

static struct node *list_reverse(struct node *n)
{
	struct node *prev = NULL;

	while (n) {
		struct node *next = n->next;
		n->next = prev;
		prev = n;
		n = next;
	}
	return prev;
}

static __attribute__((noinline)) uint32_t node_weight(const struct node *n)
{
	return (n->key * 31) ^ n->val;
}

static uint64_t k_list(unsigned scale)
{
	enum { COUNT = 4096 };
	static struct node nodes[COUNT];
	struct node *head = NULL;
	uint64_t sum = 0;

	/* Linked in a shuffled order, so the walk jumps around memory. */
	for (unsigned i = 0; i < COUNT; i++) {
		unsigned j = rnd() % (i + 1);
		nodes[i] = nodes[j];
		nodes[j].key = i;
		nodes[j].val = rnd();
	}
	for (unsigned i = 0; i < COUNT; i++) {
		nodes[i].next = head;
		head = &nodes[i];
	}
	for (unsigned r = 0; r < 600 * scale; r++) {
		for (const struct node *n = head; n; n = n->next)
			if ((n->key & 7) == (r & 7))
				sum += node_weight(n);
		head = list_reverse(head);
	}
	return sum;
}

/* ---- state: a small lexer over text, one branchy step per byte ---- */

enum lex_state { START, IDENT, NUMBER, HEX, STRING, OP };

static uint64_t k_state(unsigned scale)
{
	static char text[32 << 10];
	static const char *words[] = {"let",  "x", "=", "42", ";",  "if",     "(", "y",       ">=",
	                              "0x1f", ")", "{", "z",  "+=", "3.25e1", "}", "\"str\"", "\n"};
	uint64_t counts[6] = {0};
	size_t len = 0;

	while (len < sizeof(text) - 16) {
		const char *w = words[rnd() % (sizeof(words) / sizeof(words[0]))];
		size_t l = strlen(w);
		memcpy(text + len, w, l);
		len += l;
		text[len++] = ' ';
	}
	text[len] = 0;
	for (unsigned r = 0; r < 80 * scale; r++) {
		enum lex_state st = START;
		for (size_t i = 0; i <= len; i++) {
			char c = text[i];
			switch (st) {
			case START:
				if ((c >= 'a' && c <= 'z') || c == '_')
					st = IDENT;
				else if (c == '0' && text[i + 1] == 'x')
					st = HEX, i++;
				else if (c >= '0' && c <= '9')
					st = NUMBER;
				else if (c == '"')
					st = STRING;
				else if (c != ' ' && c != '\n' && c != 0)
					st = OP;
				break;
			case IDENT:
				if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
					counts[IDENT]++, st = START, i--;
				break;
			case NUMBER:
				if (!((c >= '0' && c <= '9') || c == '.' || c == 'e'))
					counts[NUMBER]++, st = START, i--;
				break;
			case HEX:
				if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
					counts[HEX]++, st = START, i--;
				break;
			case STRING:
				if (c == '"')
					counts[STRING]++, st = START;
				break;
			case OP:
				if (!(c == '=' || c == '>' || c == '<' || c == '+'))
					counts[OP]++, st = START, i--;
				break;
			}
		}
	}
	return counts[IDENT] * 1 + counts[NUMBER] * 3 + counts[HEX] * 5 + counts[STRING] * 7 +
	       counts[OP] * 11;
}

/* ---- sort: quicksort of pseudo-random integers ---- */

static void quicksort(int64_t *a, long lo, long hi)
{
	while (lo < hi) {
		int64_t p = a[(lo + hi) / 2];
		long i = lo, j = hi;
		while (i <= j) {
			while (a[i] < p)
				i++;
			while (a[j] > p)
				j--;
			if (i <= j) {
				int64_t t = a[i];
				a[i++] = a[j];
				a[j--] = t;
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

static uint64_t k_sort(unsigned scale)
{
	enum { COUNT = 32768 };
	static int64_t a[COUNT];
	uint64_t sum = 0;

	for (unsigned r = 0; r < 3 * scale; r++) {
		for (unsigned i = 0; i < COUNT; i++)
			a[i] = (int64_t)rnd() - (1 << 23);
		quicksort(a, 0, COUNT - 1);
		for (unsigned i = 1; i < COUNT; i++)
			if (a[i - 1] > a[i])
				return 0; /* not sorted: a wrong checksum */
		sum += (uint64_t)a[COUNT / 2] + (uint64_t)a[r % COUNT];
	}
	return sum;
}

static const struct {
	const char *name;
	uint64_t (*fn)(unsigned scale);
} kernels[] = {
        {"crc", k_crc},     {"matrix", k_matrix}, {"list", k_list},
        {"state", k_state}, {"sort", k_sort},
};

static int run_kernel(unsigned k, unsigned scale)
{
	uint64_t t0, sum;

	rng_state = 12345;
	t0 = now_ns();
	sum = kernels[k].fn(scale);
	printf("vkbench %s scale=%u seconds=%.4f checksum=%016llx\n", kernels[k].name, scale,
	       (double)(now_ns() - t0) / 1e9, (unsigned long long)sum);
	return 0;
}

static int time_command(char **argv)
{
	uint64_t t0 = now_ns();
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		perror("vkbench: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		perror("vkbench: exec");
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("vkbench: wait");
		return 1;
	}
	printf("vkbench time seconds=%.4f status=%d\n", (double)(now_ns() - t0) / 1e9,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

int main(int argc, char **argv)
{
	unsigned scale = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && strcmp(argv[1], "time") == 0)
		return time_command(argv + 2);
	if (argc < 2) {
		fprintf(stderr, "usage: vkbench crc|matrix|list|state|sort|all [SCALE]\n"
		                "       vkbench time CMD [ARG...]\n");
		return 2;
	}
	if (scale == 0)
		scale = 1;
	for (unsigned k = 0; k < sizeof(kernels) / sizeof(kernels[0]); k++) {
		if (!strcmp(argv[1], "all") || !strcmp(argv[1], kernels[k].name))
			run_kernel(k, scale);
	}
	return 0;
}
