/* SPDX-License-Identifier: MIT */
/*
 * The cgroup v2 device filter: v2 has no devices.allow, so the rule list is
 * compiled into a BPF_PROG_TYPE_CGROUP_DEVICE program and attached to the
 * container's cgroup. Rules are checked last to first and the first match
 * decides (the v1 "later rule wins" order); no match denies. An allow rule
 * matches when every requested access bit is in the rule; a deny rule when
 * any is.
 */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_INSNS 4096

struct prog {
	struct bpf_insn *v;
	size_t n;
};

static void emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (p->n < MAX_INSNS)
		p->v[p->n] = (struct bpf_insn){code, dst, src, off, imm};
	p->n++;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static unsigned access_bits(const char *a)
{
	unsigned b = 0;

	for (; *a; a++)
		b |= *a == 'm'   ? BPF_DEVCG_ACC_MKNOD
		     : *a == 'r' ? BPF_DEVCG_ACC_READ
		                 : BPF_DEVCG_ACC_WRITE;
	return b;
}

/* Instructions a rule block takes before its final "r0 = verdict; exit". */
static int16_t block_len(const struct oci_dev_rule *d)
{
	int16_t n = 2; /* mov r0, verdict; exit */

	if (d->type != 'a')
		n += 1;
	if (access_bits(d->access) != 7)
		n += 3;
	if (d->type != 'a' && d->major >= 0)
		n += 1;
	if (d->type != 'a' && d->minor >= 0)
		n += 1;
	return n;
}

static void compile(struct prog *p, const struct oci_dev_rule *rules, size_t n)
{
	/* r2 = type, r3 = access, r4 = major, r5 = minor */
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0);
	emit(p, BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 0, 0);
	emit(p, BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0);
	for (size_t i = n; i-- > 0;) {
		const struct oci_dev_rule *d = &rules[i];
		unsigned acc = access_bits(d->access);
		int16_t blen = block_len(d), j = 0; /* j: position inside the block */

		/* A jump at j skipping the block: pc + 1 + off == block end. */
		if (d->type != 'a') {
			emit(p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, blen - j - 1,
			     d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
			j++;
		}
		if (acc != 7) {
			emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_3, 0, 0);
			emit(p, BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_0, 0, 0,
			     (int32_t)(d->allow ? (~acc & 7) : acc));
			j += 2;
			emit(p, BPF_JMP | (d->allow ? BPF_JNE : BPF_JEQ) | BPF_K, BPF_REG_0, 0,
			     blen - j - 1, 0);
			j++;
		}
		if (d->type != 'a' && d->major >= 0) {
			emit(p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, blen - j - 1,
			     (int32_t)d->major);
			j++;
		}
		if (d->type != 'a' && d->minor >= 0) {
			emit(p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, blen - j - 1,
			     (int32_t)d->minor);
			j++;
		}
		emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, d->allow ? 1 : 0);
		emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		/* A rule matching everything ends the program: the verifier refuses
		 * unreachable instructions. */
		if (blen == 2)
			return;
	}
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/* Program ids attached to the cgroup now (to detach after the new one is in). */
static int query_attached(int cgfd, uint32_t *ids, uint32_t cap)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (uint32_t)cgfd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
	attr.query.prog_cnt = cap;
	if (sys_bpf(BPF_PROG_QUERY, &attr) < 0)
		return 0;
	return (int)attr.query.prog_cnt;
}

static void detach_id(int cgfd, uint32_t id)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
	if (fd < 0)
		return;
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgfd;
	attr.attach_bpf_fd = (uint32_t)fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	sys_bpf(BPF_PROG_DETACH, &attr);
	close(fd);
}

int cg_v2_devices(struct oci_cg_hier *h, const struct oci_dev_rule *rules, size_t n,
                  struct vk_error *err)
{
	struct prog p = {calloc(MAX_INSNS, sizeof(struct bpf_insn)), 0};
	char *log = NULL, path[4096];
	uint32_t old[64];
	union bpf_attr attr;
	int prog = -1, cgfd = -1, n_old, r = 0;

	if (!p.v)
		return vk_error_set(err, ENOMEM, "out of memory");
	compile(&p, rules, n);
	if (p.n > MAX_INSNS) {
		r = vk_error_set(err, E2BIG, "too many device rules for the cgroup v2 filter");
		goto out;
	}
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)p.v;
	attr.insn_cnt = (uint32_t)p.n;
	attr.license = (uint64_t)(uintptr_t) "MIT";
	prog = sys_bpf(BPF_PROG_LOAD, &attr);
	if (prog < 0) {
		int e = errno;

		/* Again with the verifier's log, to say why. */
		log = calloc(1, 65536);
		if (log) {
			attr.log_buf = (uint64_t)(uintptr_t)log;
			attr.log_size = 65536;
			attr.log_level = 1;
			sys_bpf(BPF_PROG_LOAD, &attr);
		}
		r = vk_error_errno(err, e, "cannot load the cgroup v2 device filter%s%.200s",
		                   log && log[0] ? ": " : "", log ? log : "");
		goto out;
	}
	snprintf(path, sizeof(path), "%s%s", h->mount, h->path);
	cgfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0) {
		r = vk_error_errno(err, errno, "cannot open cgroup %s", path);
		goto out;
	}
	n_old = query_attached(cgfd, old, ARRAY_SIZE(old));
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgfd;
	attr.attach_bpf_fd = (uint32_t)prog;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0) {
		r = vk_error_errno(err, errno, "cannot attach the device filter to cgroup %s",
		                   path);
		goto out;
	}
	for (int i = 0; i < n_old && i < (int)ARRAY_SIZE(old); i++)
		detach_id(cgfd, old[i]);
out:
	if (cgfd >= 0)
		close(cgfd);
	if (prog >= 0)
		close(prog);
	free(p.v);
	free(log);
	return r;
}
