/* SPDX-License-Identifier: MIT */
/*
 * GET /1.0/host (docs/api.md): what this host offers and carries. The KVM
 * verdict is `virtkit-vm probe --json` (a short calibration guest), and the
 * helpers' versions their `--version`: both are asked once per daemon run and
 * kept. CPU, memory and the instances are read at every request.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/api-remote.h"
#include "daemon/api-stream.h"
#include "daemon/proc.h"

#define PROBE_TIMEOUT_MS   30000
#define VERSION_TIMEOUT_MS 5000

static struct {
	pthread_mutex_t lock;
	const char *vm_binary, *oci_runtime, *shim;
	json_object *kvm;      /* the probe's JSON, once asked */
	json_object *versions; /* the helpers' versions, once asked */
} host = {.lock = PTHREAD_MUTEX_INITIALIZER};

void api_host_init(const char *vm_binary, const char *oci_runtime, const char *shim)
{
	host.vm_binary = vm_binary;
	host.oci_runtime = oci_runtime;
	host.shim = shim;
}

/* The KVM verdict; never an error: what went wrong becomes the "reason". */
static json_object *probe_kvm(void)
{
	const char *argv[] = {host.vm_binary, "probe", "--json", NULL};
	struct vk_error err = {0};
	char out[16384];
	json_object *o = NULL;
	int st = 0;

	if (proc_run(argv, PROBE_TIMEOUT_MS, out, sizeof(out), &st, &err) == 0 && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0)
		o = json_tokener_parse(out);
	if (json_object_is_type(o, json_type_object))
		return o;
	json_object_put(o);
	o = json_object_new_object();
	json_object_object_add(o, "available", json_object_new_boolean(0));
	json_object_object_add(o, "classification", json_object_new_string("unknown"));
	json_object_object_add(
	        o, "reason",
	        json_object_new_string(err.msg[0] ? err.msg : "virtkit-vm probe failed"));
	vk_warn("host view: cannot probe KVM with '%s': %s", host.vm_binary,
	        err.msg[0] ? err.msg : "it failed");
	return o;
}

/* The first line of `PROGRAM --version`, or null when it does not answer. */
static json_object *version_of(const char *program)
{
	const char *argv[] = {program, "--version", NULL};
	struct vk_error err = {0};
	char out[512];
	int st = 0;

	if (proc_run(argv, VERSION_TIMEOUT_MS, out, sizeof(out), &st, &err) < 0 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		return NULL;
	out[strcspn(out, "\n")] = '\0';
	return json_object_new_string(out);
}

static json_object *versions(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "virtkitd", json_object_new_string(VIRTKIT_VERSION));
	json_object_object_add(o, "virtkit-vm", version_of(host.vm_binary));
	json_object_object_add(o, "oci_runtime", version_of(host.oci_runtime));
	json_object_object_add(o, "shim", json_object_new_string(host.shim));
	return o;
}

/* A deep copy of what was asked once (json-c objects are not shared between threads). */
static json_object *cached(json_object **slot, json_object *(*make)(void))
{
	json_object *copy = NULL;

	pthread_mutex_lock(&host.lock);
	if (!*slot)
		*slot = make();
	if (json_object_deep_copy(*slot, &copy, NULL) < 0)
		copy = NULL;
	pthread_mutex_unlock(&host.lock);
	return copy;
}

static int64_t meminfo(const char *key)
{
	char buf[4096], *p;
	unsigned long long kib;

	if (read_small_file("/proc/meminfo", buf, sizeof(buf)) < 0 || !(p = strstr(buf, key)) ||
	    sscanf(p + strlen(key), ": %llu kB", &kib) != 1)
		return -1;
	return (int64_t)kib * 1024;
}

static void add_int(json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, v < 0 ? NULL : json_object_new_int64(v));
}

/* Instance counts by state and type, and what the active ones were given. */
static void instances(json_object *out, int64_t *cpus, int64_t *memory)
{
	json_object *by_state = json_object_new_object(), *by_type = json_object_new_object();
	struct instance **list;
	size_t n = 0;

	*cpus = *memory = 0;
	if (instance_list(&list, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct instance *inst = list[i];
			const char *st, *ty = def_type_name(inst->type);
			json_object *v, *lim;
			bool active;

			pthread_mutex_lock(&inst->lock);
			st = inst_state_name(inst->state);
			active = inst_state_active(inst->state);
			if (active && inst->type == DEF_VM) {
				*cpus += def_get_int(inst->def, "cpus", 0);
				*memory += def_get_int(inst->def, "memory", 0);
			} else if (active && (lim = json_object_object_get(inst->def, "limits"))) {
				*memory += def_get_int(lim, "memory", 0);
			}
			pthread_mutex_unlock(&inst->lock);
			v = json_object_object_get(by_state, st);
			json_object_object_add(
			        by_state, st,
			        json_object_new_int(v ? json_object_get_int(v) + 1 : 1));
			v = json_object_object_get(by_type, ty);
			json_object_object_add(
			        by_type, ty,
			        json_object_new_int(v ? json_object_get_int(v) + 1 : 1));
		}
		instance_list_free(list, n);
	}
	json_object_object_add(out, "total", json_object_new_int((int)n));
	json_object_object_add(out, "by_state", by_state);
	json_object_object_add(out, "by_type", by_type);
}

enum MHD_Result api_host(struct http_req *req)
{
	json_object *o = json_object_new_object(), *kvm = cached(&host.kvm, probe_kvm);
	json_object *archs = json_object_new_array(), *a, *cpu = json_object_new_object();
	json_object *mem = json_object_new_object(), *inst = json_object_new_object(), *load;
	int64_t total = meminfo("MemTotal"), avail = meminfo("MemAvailable"), vcpus, vmem;
	double la[3];
	bool kvm_ok = false;
	json_object *v;

	if (kvm && json_object_object_get_ex(kvm, "classification", &v))
		kvm_ok = strcmp(json_object_get_string(v), "hardware-accelerated") == 0;
	json_object_object_add(o, "kvm", kvm);

	a = json_object_new_object();
	json_object_object_add(a, "arch", json_object_new_string("riscv64"));
	json_object_object_add(a, "accel", json_object_new_string("emu"));
	json_object_object_add(a, "available",
	                       json_object_new_boolean(access(host.vm_binary, X_OK) == 0));
	json_object_array_add(archs, a);
	a = json_object_new_object();
	json_object_object_add(a, "arch", json_object_new_string("x86_64"));
	json_object_object_add(a, "accel", json_object_new_string("kvm"));
	json_object_object_add(a, "available", json_object_new_boolean(kvm_ok));
	json_object_array_add(archs, a);
	json_object_object_add(o, "architectures", archs);

	instances(inst, &vcpus, &vmem);
	json_object_object_add(cpu, "count",
	                       json_object_new_int((int)sysconf(_SC_NPROCESSORS_ONLN)));
	if (getloadavg(la, 3) == 3) {
		load = json_object_new_array();
		for (int i = 0; i < 3; i++)
			json_object_array_add(load, json_object_new_double(la[i]));
		json_object_object_add(cpu, "load", load);
	}
	add_int(cpu, "allocated", vcpus);
	json_object_object_add(o, "cpu", cpu);
	add_int(mem, "total_bytes", total);
	add_int(mem, "available_bytes", avail);
	add_int(mem, "used_bytes", total >= 0 && avail >= 0 ? total - avail : -1);
	add_int(mem, "allocated_bytes", vmem);
	json_object_object_add(o, "memory", mem);
	json_object_object_add(o, "instances", inst);
	json_object_object_add(o, "versions", cached(&host.versions, versions));
	json_object_object_add(o, "tls", api_remote_host());
	return http_json(req->conn, MHD_HTTP_OK, o);
}
