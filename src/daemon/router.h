/* SPDX-License-Identifier: MIT */
/*
 * The REST routes of API version 1.0 (docs/api.md): a request method and path
 * become a route id plus the instance name (or uuid) and action they name. Pure code
 * (fuzzed together with the body parsers).
 */
#ifndef VKD_ROUTER_H
#define VKD_ROUTER_H

#include "common/error.h"
#include "daemon/def.h"

/*
 * Routes from ROUTE_INSTANCE to ROUTE_EXEC name an instance; from ROUTE_NETWORK, a network;
 * ROUTE_POOL and ROUTE_VOLUMES a pool, ROUTE_VOLUME a pool and a volume; ROUTE_SAVE,
 * ROUTE_SNAPSHOTS, ROUTE_MIGRATE and ROUTE_INCOMING* an instance, ROUTE_SNAPSHOT and
 * ROUTE_SNAPSHOT_RESTORE an instance and a snapshot.
 */
enum route_id {
	ROUTE_SERVER,         /* GET /1.0 */
	ROUTE_HOST,           /* GET /1.0/host */
	ROUTE_INSTANCES,      /* GET, POST /1.0/instances */
	ROUTE_INSTANCE,       /* GET, PUT, PATCH, DELETE /1.0/instances/NAME */
	ROUTE_ACTION,         /* POST /1.0/instances/NAME/{start,stop,kill,restart,pause,resume} */
	ROUTE_XML,            /* GET /1.0/instances/NAME/xml */
	ROUTE_CONSOLE,        /* GET /1.0/instances/NAME/console (Upgrade) */
	ROUTE_LOGS,           /* GET /1.0/instances/NAME/logs */
	ROUTE_STATS,          /* GET /1.0/instances/NAME/stats */
	ROUTE_EXEC,           /* POST /1.0/instances/NAME/exec (Upgrade) */
	ROUTE_EVENTS,         /* GET /1.0/events */
	ROUTE_NETWORKS,       /* GET, POST /1.0/networks */
	ROUTE_NETWORK,        /* GET, DELETE /1.0/networks/NAME */
	ROUTE_NETWORK_LEASES, /* GET /1.0/networks/NAME/leases */
	ROUTE_POOLS,          /* GET /1.0/pools */
	ROUTE_POOL,           /* GET /1.0/pools/POOL */
	ROUTE_VOLUMES,        /* GET, POST /1.0/pools/POOL/volumes */
	ROUTE_VOLUME,         /* GET, PATCH, DELETE /1.0/pools/POOL/volumes/NAME */
	ROUTE_SAVE,           /* POST /1.0/instances/NAME/save */
	ROUTE_RESTORE,        /* POST /1.0/restore */
	ROUTE_SNAPSHOTS,      /* GET, POST /1.0/instances/NAME/snapshots */
	ROUTE_SNAPSHOT,       /* DELETE /1.0/instances/NAME/snapshots/SNAP */
	ROUTE_SNAPSHOT_RESTORE, /* POST /1.0/instances/NAME/snapshots/SNAP/restore */
	ROUTE_TRUST,            /* GET, POST /1.0/trust */
	ROUTE_TRUST_CERT,       /* DELETE /1.0/trust/FINGERPRINT (key) */
	ROUTE_TRUST_TOKENS,     /* POST /1.0/trust/tokens */
	ROUTE_TRUST_TOKEN,      /* DELETE /1.0/trust/tokens/NAME (key) */
	ROUTE_MIGRATE,          /* POST /1.0/instances/NAME/migrate */
	ROUTE_INCOMING,         /* POST, DELETE /1.0/instances/NAME/incoming */
	ROUTE_INCOMING_CONFIRM, /* POST /1.0/instances/NAME/incoming/confirm */
};

enum route_action {
	ACTION_NONE,
	ACTION_START,
	ACTION_STOP,
	ACTION_KILL,
	ACTION_RESTART,
	ACTION_PAUSE,
	ACTION_RESUME,
};

struct route_match {
	enum route_id id;
	enum route_action action;
	char name[DEF_NAME_MAX + 1];     /* the instance or the volume */
	char pool[DEF_NAME_MAX + 1];     /* the storage pool (pool routes) */
	char snapshot[DEF_NAME_MAX + 1]; /* the snapshot (ROUTE_SNAPSHOT*) */
	char key[DEF_NAME_MAX + 2];      /* the trust routes' fingerprint or token name */
	const char *allow;               /* the methods the path allows, for 405 responses */
};

/*
 * Match a request. Returns 0; -ENOENT for an unknown path (404), -EINVAL for
 * an invalid instance, pool or volume name (400), -EOPNOTSUPP when the path exists but not
 * with this method (405; m->allow is set).
 */
int router_match(const char *method, const char *path, struct route_match *m,
                 struct vk_error *err) VK_MUST_CHECK;

const char *route_action_name(enum route_action a);

#endif
