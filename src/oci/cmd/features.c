/* SPDX-License-Identifier: MIT */
/* features: what this runtime implements, in the runtime-spec features format. */
#include <json-c/json.h>
#include <seccomp.h>

#include "cgroup.h"
#include "cmd.h"
#include "security.h"
#include "spec.h"

static json_object *strs(const char *const *v)
{
	json_object *a = json_object_new_array();

	for (; *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

int cmd_features(struct oci_globals *g, int argc, char **argv, struct vk_error *err)
{
	static const char *const hooks[] = {"prestart",
	                                    "createRuntime",
	                                    "createContainer",
	                                    "startContainer",
	                                    "poststart",
	                                    "poststop",
	                                    NULL};
	static const char *const actions[] = {"SCMP_ACT_ALLOW",       "SCMP_ACT_ERRNO",
	                                      "SCMP_ACT_KILL",        "SCMP_ACT_KILL_PROCESS",
	                                      "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
	                                      "SCMP_ACT_NOTIFY",      "SCMP_ACT_TRACE",
	                                      "SCMP_ACT_TRAP",        NULL};
	static const char *const ops[] = {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
	                                  "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
	                                  "SCMP_CMP_NE", NULL};
	static const char *const archs[] = {
	        "SCMP_ARCH_X86_64",  "SCMP_ARCH_X86",   "SCMP_ARCH_X32",
	        "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM",   "SCMP_ARCH_RISCV64",
	        "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390X", NULL};
	static const char *const flags[] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
	                                    "SECCOMP_FILTER_FLAG_SPEC_ALLOW", NULL};
	json_object *o = json_object_new_object(), *l = json_object_new_object();
	json_object *cg = json_object_new_object(), *sc = json_object_new_object();
	json_object *aa = json_object_new_object(), *se = json_object_new_object();
	json_object *ann = json_object_new_object();

	json_object_object_add(o, "ociVersionMin", json_object_new_string("1.0.0"));
	json_object_object_add(o, "ociVersionMax", json_object_new_string(OCI_VERSION));
	json_object_object_add(o, "hooks", strs(hooks));
	json_object_object_add(o, "mountOptions", strs(oci_mount_option_names));
	json_object_object_add(l, "namespaces", strs(oci_ns_names));
	json_object_object_add(l, "capabilities", oci_caps_names());
	json_object_object_add(cg, "v1", json_object_new_boolean(1));
	json_object_object_add(cg, "v2", json_object_new_boolean(1));
	json_object_object_add(cg, "systemd", json_object_new_boolean(0));
	json_object_object_add(cg, "systemdUser", json_object_new_boolean(0));
	json_object_object_add(l, "cgroup", cg);
	json_object_object_add(sc, "enabled", json_object_new_boolean(1));
	json_object_object_add(sc, "actions", strs(actions));
	json_object_object_add(sc, "operators", strs(ops));
	json_object_object_add(sc, "archs", strs(archs));
	json_object_object_add(sc, "knownFlags", strs(flags));
	json_object_object_add(sc, "supportedFlags", strs(flags));
	json_object_object_add(l, "seccomp", sc);
	json_object_object_add(aa, "enabled", json_object_new_boolean(1));
	json_object_object_add(l, "apparmor", aa);
	json_object_object_add(se, "enabled", json_object_new_boolean(1));
	json_object_object_add(l, "selinux", se);
	json_object_object_add(o, "linux", l);
	json_object_object_add(ann, "io.virtkit.oci.cgroup.mode",
	                       json_object_new_string(oci_cg_mode_name(oci_cgroup_detect_mode())));
	json_object_object_add(o, "annotations", ann);
	cmd_print_json(o, true);
	json_object_put(o);
	(void)g;
	(void)argc;
	(void)argv;
	(void)err;
	return 0;
}
