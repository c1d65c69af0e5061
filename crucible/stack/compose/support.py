"""What Crucible does with each key of the Compose specification that it does not simply honour.

Honoured keys are read into the model and given to the engine (README, "Compose support", lists
them). The keys below are either passed to the engine as they are, ignored with a one-line notice
(what they ask for makes no difference to what is tested, or one engine cannot do it), or refused
with the reason (ignoring them would change what is tested). A test keeps README in step with
these tables.
"""

from __future__ import annotations

# Service keys given to the engine unchanged: Compose key -> the engine's host-config option.
HOST_OPTIONS = {
    "cap_add": "cap_add", "cap_drop": "cap_drop", "privileged": "privileged", "init": "init",
    "read_only": "read_only", "security_opt": "security_opt", "sysctls": "sysctls", "ulimits": "ulimits",
    "shm_size": "shm_size", "dns": "dns", "dns_search": "dns_search", "dns_opt": "dns_opt",
    "devices": "devices", "device_cgroup_rules": "device_cgroup_rules", "group_add": "group_add",
    "oom_score_adj": "oom_score_adj", "ipc": "ipc_mode", "pid": "pid_mode", "runtime": "runtime",
    "userns_mode": "userns_mode", "cgroup_parent": "cgroup_parent", "cgroup": "cgroupns", "uts": "uts_mode",
    "storage_opt": "storage_opt",
}

# Service keys Crucible reads itself.
HONOURED = (
    "image", "build", "command", "entrypoint", "environment", "env_file", "ports", "expose", "depends_on",
    "healthcheck", "labels", "label_file", "tmpfs", "volumes", "volumes_from", "secrets", "configs",
    "networks", "network_mode", "links", "working_dir", "user", "hostname", "domainname", "extra_hosts",
    "restart", "stop_signal", "stop_grace_period", "tty", "stdin_open", "mac_address", "profiles", "extends",
    "scale", "deploy", "post_start", "pre_stop",
)

_LIMITS = "resource limits are not applied: one shared engine runs every test stack"
_PULL = "no registry is asked: images are built from their build section or taken from the engine"

# Service keys ignored with a notice: key -> why.
IGNORED = {
    "container_name": "runs must not collide: the container is named <project>-<run>-<service>",
    "logging": "the engine's default log driver is kept: Crucible reads every service's logs for the report",
    "platform": "images are built and run for the engine's own platform",
    "pull_policy": _PULL,
    "pull_refresh_after": _PULL,
    "develop": "file watching belongs to development sessions, not test runs",
    "attach": "every service's logs are collected",
    "annotations": "annotations are metadata for orchestrators; the engine used here does not store them",
    "credential_spec": "Windows containers only",
    "isolation": "Windows containers only",
    "gpus": "test stacks get no GPU",
    "umask": "the engine used here has no umask option: set it in the image or the command",
    **{key: _LIMITS for key in (
        "mem_limit", "mem_reservation", "mem_swappiness", "memswap_limit", "cpus", "cpu_count", "cpu_percent",
        "cpu_period", "cpu_quota", "cpu_rt_period", "cpu_rt_runtime", "cpu_shares", "cpuset", "blkio_config",
        "pids_limit", "oom_kill_disable")},
}


# Service keys refused: key -> why ignoring them would change what is tested.
REFUSED = {
    "external_links": "it links to containers outside the stack, and a run must be self-contained: "
                      "add those services to the compose file",
    "provider": "a provider service is run by a Compose plugin, not by the engine",
    "pre_start": "init containers before a service are not run; a one-shot service that the service depends on "
                 "with `condition: service_completed_successfully` does the same job",
    "use_api_socket": "services under test are not given the engine's socket",
    "models": "language models need Docker Model Runner, which one engine does not have",
}

# Top-level keys: Crucible reads name, services, networks, volumes, secrets, configs, include.
TOP_IGNORED = {"version": "it is obsolete: Compose ignores it too"}
TOP_REFUSED = {
    "models": "language models need Docker Model Runner, which one engine does not have",
    "jobs": "jobs are run by a Compose extension the engine does not have; write them as one-shot services",
}

# deploy: what is read (replicas 0/1, restart_policy); anything else is ignored with a notice.
DEPLOY_IGNORED = {
    "resources": _LIMITS,
    "placement": "placement is for a swarm of engines; one engine runs everything",
    "update_config": "rolling updates are for a swarm",
    "rollback_config": "rolling updates are for a swarm",
    "mode": "one engine runs one container per service",
    "endpoint_mode": "one engine runs one container per service",
    "labels": "service labels of a swarm; container labels are `labels`",
}

# build: what is read; the keys below are ignored with a notice or refused.
BUILD_IGNORED = {
    "cache_to": "the build cache stays on the engine",
    "platforms": "images are built for the engine's own platform",
    "pull": _PULL,
    "tags": "the image gets one tag, its `image` name",
    "provenance": "attestations need BuildKit",
    "sbom": "attestations need BuildKit",
    "no_cache_filter": "stages are cached as a whole",
    "isolation": "Windows containers only",
    "privileged": "builds are never privileged",
    "ulimits": _LIMITS,
    "entitlements": "builds get no extra entitlements",
}
BUILD_REFUSED = {
    "ssh": "Crucible builds with the engine's classic builder, which has no SSH forwarding (BuildKit)",
    "secrets": "Crucible builds with the engine's classic builder, which has no build secrets (BuildKit)",
    "additional_contexts": "Crucible builds with the engine's classic builder, which takes one context (BuildKit)",
    "dockerfile_inline": "write the Dockerfile into the build context and name it with `dockerfile`",
}
