package framework

import future.keywords.every
import future.keywords.in

version := "@@FRAMEWORK_VERSION@@"

# Add ^ and $ to regex patterns that doesn't have them.
# This forces the regex to match the entire string, which is safer.
# Policies should include .* explicitly at the beginning or end if partial
# matches are to be allowed.

anchor_pattern(p) := p if {
    startswith(p, "^")
    endswith(p, "$")
} else := concat("", ["^", p]) if {
    endswith(p, "$")
} else := concat("", [p, "$"]) if {
    startswith(p, "^")
} else := concat("", ["^", p, "$"])

device_mounted(target) if {
    data.metadata.devices[target]
}

device_mounted(target) if {
    data.metadata.rw_devices[target]
}

default deviceHash_ok := false

# test if a device hash exists as a layer in a policy container
deviceHash_ok if {
    layer := data.policy.containers[_].layers[_]
    input.deviceHash == layer
}

# test if a device hash exists as a layer in a fragment container
deviceHash_ok if {
    feed := data.metadata.issuers[_].feeds[_]
    some fragment in feed
    layer := fragment.containers[_].layers[_]
    input.deviceHash == layer
}

default mount_device := {"allowed": false}

mount_target_ok if {
    regex.match(anchor_pattern(input.mountPathRegex), input.target)
}

mount_device := {"metadata": [addDevice], "allowed": true} if {
    not device_mounted(input.target)
    deviceHash_ok
    mount_target_ok
    addDevice := {
        "name": "devices",
        "action": "add",
        "key": input.target,
        "value": input.deviceHash,
    }
}

allowed_scratch_fs("ext4")
allowed_scratch_fs("xfs")

rwmount_device_encrypt_ok if {
    input.encrypted
}

rwmount_device_encrypt_ok if {
    allow_unencrypted_scratch
}

default rw_mount_device := {"allowed": false}

rw_mount_device := {"metadata": [addDevice], "allowed": true} if {
    not device_mounted(input.target)
    rwmount_device_encrypt_ok
    input.ensureFilesystem
    allowed_scratch_fs(input.filesystem)
    mount_target_ok
    addDevice := {
        "name": "rw_devices",
        "action": "add",
        "key": input.target,
        "value": true,
    }
}

default unmount_device := {"allowed": false}

unmount_device := {"metadata": [removeDevice], "allowed": true} if {
    data.metadata.devices[input.unmountTarget]

    removeDevice := {
        "name": "devices",
        "action": "remove",
        "key": input.unmountTarget,
    }
}

default rw_unmount_device := {"allowed": false}

rw_unmount_device := {"metadata": [removeRWDevice], "allowed": true} if {
    data.metadata.rw_devices[input.unmountTarget]

    removeRWDevice := {
        "name": "rw_devices",
        "action": "remove",
        "key": input.unmountTarget,
    }
}

# blockdev mounts (which are symlinks created at the mount point pointing to
# /dev/sdX instead of an actual mounted filesystem) are not supported on C-ACI
# and thus the framework currently denies them unconditionally.

default mount_blockdev := {"allowed": false}

default unmount_blockdev := {"allowed": false}

layerPaths_ok(layers) if {
    length := count(layers)
    count(input.layerPaths) == length
    every i, path in input.layerPaths {
        layers[(length - i) - 1] == data.metadata.devices[path]
    }
}

layerHashes_ok(layers) if {
    length := count(layers)
    count(input.layerHashes) == length
    every i, hash in input.layerHashes {
        layers[(length - i) - 1] == hash
    }
}

default overlay_exists := false

overlay_exists if {
    data.metadata.matches[input.containerID]
}

overlay_mounted(target) if {
    data.metadata.overlayTargets[target]
}

# Note that a valid policy might not even define (data.policy.)containers, if
# all its containers are coming from fragments.  This default rule prevents
# breaking other rules in this case.
default policy_containers := []

policy_containers := pc if {
    semver.compare(policy_framework_version, version) == 0
    pc := data.policy.containers
}

policy_containers := pc if {
    semver.compare(policy_framework_version, version) < 0
    pc := apply_defaults("container", data.policy.containers, policy_framework_version)
}

candidate_containers := containers if {
    fragment_containers := [c |
        feed := data.metadata.issuers[_].feeds[_]
        fragment := feed[_]
        c := fragment.containers[_]
    ]

    containers_raw := array.concat(policy_containers, fragment_containers)

    # Each container definition applied with platform_rules might turn into
    # multiple containers if multiple platforms are allowed.  We flatten the
    # result here.
    after_platform_rules := [c2 |
        c1 := containers_raw[_]
        applied := apply_platform_rules("container", c1)
        c2 := applied[_]
    ]

    containers := after_platform_rules
}

default mount_cims := {"allowed": false}

mount_cims := {"metadata": [addMatches], "allowed": true} if {
    not overlay_exists

    containers := [container |
        container := candidate_containers[_]
        layerHashes_ok(container.layers)
        input.mountedCim == container.mounted_cim
    ]

    count(containers) > 0
    addMatches := {
        "name": "matches",
        "action": "add",
        "key": input.containerID,
        "value": containers,
    }
}

default mount_overlay := {"allowed": false}

mount_overlay := {"metadata": [addMatches, addOverlayTarget], "allowed": true} if {
    not overlay_exists

    # sanity check, but due to checks in the Go code, this should always pass if
    # `not overlay_exists` passes.
    not overlay_mounted(input.target)

    containers := [container |
        container := candidate_containers[_]
        layerPaths_ok(container.layers)
    ]

    count(containers) > 0
    addMatches := {
        "name": "matches",
        "action": "add",
        "key": input.containerID,
        "value": containers,
    }

    addOverlayTarget := {
        "name": "overlayTargets",
        "action": "add",
        "key": input.target,
        "value": true,
    }
}

default unmount_overlay := {"allowed": false}

unmount_overlay := {"metadata": [removeOverlayTarget], "allowed": true} if {
    overlay_mounted(input.unmountTarget)
    removeOverlayTarget := {
        "name": "overlayTargets",
        "action": "remove",
        "key": input.unmountTarget,
    }
}

command_ok(command) if {
    count(input.argList) == count(command)
    every i, arg in input.argList {
        command[i] == arg
    }
}

# An env rule can be of two forms:
# {
#   "pattern": "name=value",
#   "strategy": "string" | "re2"
# }
# or
# {
#   "name": "name_pattern",
#   "name_strategy": "string" | "re2",
#   "value": "value_pattern",
#   "value_strategy": "string" | "re2"
# }

# env_pattern_ok(pattern, strategy, value) tests whether the given string
# pattern matches the input value.

env_pattern_ok(pattern, "string", value) if {
    pattern == value
}

env_pattern_ok(pattern, "re2", value) if {
    regex.match(anchor_pattern(pattern), value)
}

# env_rule_ok accepts both forms of env rules described above, and matches it
# against the given env string (of form name=value).

env_rule_ok(rule, env) if {
    pattern := object.get(rule, "pattern", null)
    strategy := object.get(rule, "strategy", null)
    pattern != null
    strategy != null
    env_pattern_ok(pattern, strategy, env)
}

env_rule_ok(rule, env) if {
    rule_name := object.get(rule, "name", null)
    name_strategy := object.get(rule, "name_strategy", null)
    rule_value := object.get(rule, "value", null)
    value_strategy := object.get(rule, "value_strategy", null)
    rule_name != null
    name_strategy != null
    rule_value != null
    value_strategy != null

    # Split the env into name and value (value can contain '=', name cannot)
    eq_idx := indexof(env, "=")
    eq_idx >= 0
    env_name := substring(env, 0, eq_idx)
    env_value := substring(env, eq_idx + 1, -1)

    env_pattern_ok(rule_name, name_strategy, env_name)
    env_pattern_ok(rule_value, value_strategy, env_value)
}

# For a required env rule, check that envList contains a matching env var for
# it.
env_required_rule_ok(rule, envList) if {
    rule.required
    some env in envList
    env_rule_ok(rule, env)
}

# If it's not required, skip the check
env_required_rule_ok(rule, envList) if {
    not rule.required
}

envList_ok(env_rules, envList) if {
    # Check that all required rules are satisfied
    every rule in env_rules {
        env_required_rule_ok(rule, envList)
    }

    # Check that any env provided is allowed
    every env in envList {
        some rule in env_rules
        env_rule_ok(rule, env)
    }
}

valid_envs_subset(env_rules) := envs if {
    envs := {env |
        some env in input.envList
        some rule in env_rules
        env_rule_ok(rule, env)
    }
}

valid_envs_for_all(items) := envs if {
    allow_environment_variable_dropping

    # for each item, find a subset of the environment rules
    # that are valid
    valid := [envs |
        some item in items
        envs := valid_envs_subset(item.env_rules)
    ]

    # we want to select the most specific matches, which in this
    # case consists of those matches which require dropping the
    # fewest environment variables (i.e. the longest lists)
    counts := [num_envs |
        envs := valid[_]
        num_envs := count(envs)
    ]
    max_count := max(counts)

    largest_env_sets := {envs |
        some i
        counts[i] == max_count
        envs := valid[i]
    }

    # if there is more than one set with the same size, we
    # can only proceed if they are all the same, so we verify
    # that the intersection is equal to the union. For a single
    # set this is trivially true.
    envs_i := intersection(largest_env_sets)
    envs_u := union(largest_env_sets)
    envs_i == envs_u
    envs := envs_i
}

valid_envs_for_all(items) := envs if {
    not allow_environment_variable_dropping

    # no dropping allowed, so we just return the input
    envs := input.envList
}

workingDirectory_ok(working_dir) if {
    input.workingDir == working_dir
}

privileged_ok(elevation_allowed) if {
    is_linux
    not input.privileged
}

privileged_ok(elevation_allowed) if {
    is_linux
    input.privileged
    input.privileged == elevation_allowed
}

privileged_ok(no_new_privileges) if {
    # no-op for windows
    is_windows
}

noNewPrivileges_ok(no_new_privileges) if {
    is_linux
    no_new_privileges
    input.noNewPrivileges
}

noNewPrivileges_ok(no_new_privileges) if {
    is_linux
    not no_new_privileges
}

noNewPrivileges_ok(obj) if {
    is_windows
}

idName_ok(pattern, "any", value) if {
    true
}

idName_ok(pattern, "id", value) if {
    pattern == value.id
}

idName_ok(pattern, "name", value) if {
    pattern == value.name
}

idName_ok(pattern, "re2", value) if {
    regex.match(anchor_pattern(pattern), value.name)
}

user_ok(user) if {
    is_linux
    user.umask == input.umask
    idName_ok(user.user_idname.pattern, user.user_idname.strategy, input.user)
    every group in input.groups {
        some group_idname in user.group_idnames
        idName_ok(group_idname.pattern, group_idname.strategy, group)
    }
}

user_ok(user) if {
    is_windows
    input.user == user
}

seccomp_ok(seccomp_profile_sha256) if {
    is_linux
    input.seccompProfileSHA256 == seccomp_profile_sha256
}

seccomp_ok(seccomp_profile_sha256) if {
    is_windows
}

devices_ok(expected_devices, actual_devices) if {
    # Allow out of order but not duplicates
    set_expected := {dev | dev := expected_devices[_]}
    set_actual := {dev | dev := actual_devices[_]}
    set_expected == set_actual
    count(set_actual) == count(actual_devices)
}

default container_started := false

container_started if {
    data.metadata.started[input.containerID]
}

default container_privileged := false

container_privileged if {
    is_linux
    data.metadata.started[input.containerID].privileged
}

capsList_ok(allowed_caps_list, requested_caps_list) if {
    count(allowed_caps_list) == count(requested_caps_list)

    every cap in requested_caps_list {
        some allowed in allowed_caps_list
        cap == allowed
    }

    every allowed in allowed_caps_list {
        some cap in requested_caps_list
        allowed == cap
    }
}

filter_capsList_by_allowed(allowed_caps_list, requested_caps_list) := caps if {
    # find a subset of the capabilities that are valid
    caps := {cap |
        some cap in requested_caps_list
        some allowed in allowed_caps_list
        cap == allowed
    }
}

filter_capsList_for_single_container(allowed_caps) := caps if {
    bounding := filter_capsList_by_allowed(allowed_caps.bounding, input.capabilities.bounding)
    effective := filter_capsList_by_allowed(allowed_caps.effective, input.capabilities.effective)
    inheritable := filter_capsList_by_allowed(allowed_caps.inheritable, input.capabilities.inheritable)
    permitted := filter_capsList_by_allowed(allowed_caps.permitted, input.capabilities.permitted)
    ambient := filter_capsList_by_allowed(allowed_caps.ambient, input.capabilities.ambient)

    caps := {
        "bounding": bounding,
        "effective": effective,
        "inheritable": inheritable,
        "permitted": permitted,
        "ambient": ambient
    }
}

largest_caps_sets_for_all(containers, privileged) := largest_caps_sets if {
    filtered := [caps |
        container := containers[_]
        capabilities := get_capabilities(container, privileged)
        caps := filter_capsList_for_single_container(capabilities)
    ]

    # we want to select the most specific matches, which in this
    # case consists of those matches which require dropping the
    # fewest capabilities (i.e. the longest lists)
    counts := [num_caps |
        caps := filtered[_]
        num_caps := count(caps.bounding) + count(caps.effective) +
            count(caps.inheritable) + count(caps.permitted) +
            count(caps.ambient)
    ]
    max_count := max(counts)

    largest_caps_sets := [caps |
        some i
        counts[i] == max_count
        caps := filtered[i]
    ]
}

all_caps_sets_are_equal(sets) := caps if {
    # if there is more than one set with the same size, we
    # can only proceed if they are all the same, so we verify
    # that the intersection is equal to the union. For a single
    # set this is trivially true.
    bounding_i := intersection({caps.bounding | caps := sets[_]})
    effective_i := intersection({caps.effective | caps := sets[_]})
    inheritable_i := intersection({caps.inheritable | caps := sets[_]})
    permitted_i := intersection({caps.permitted | caps := sets[_]})
    ambient_i := intersection({caps.ambient | caps := sets[_]})

    bounding_u := union({caps.bounding | caps := sets[_]})
    effective_u := union({caps.effective | caps := sets[_]})
    inheritable_u := union({caps.inheritable | caps := sets[_]})
    permitted_u := union({caps.permitted | caps := sets[_]})
    ambient_u := union({caps.ambient | caps := sets[_]})

    bounding_i == bounding_u
    effective_i == effective_u
    inheritable_i == inheritable_u
    permitted_i == permitted_u
    ambient_i == ambient_u

    caps := {
        "bounding": bounding_i,
        "effective": effective_i,
        "inheritable": inheritable_i,
        "permitted": permitted_i,
        "ambient": ambient_i,
    }
}

valid_caps_for_all(containers, privileged) := caps if {
    is_linux
    allow_capability_dropping

    # find largest matching capabilities sets aka "the most specific"
    largest_caps_sets := largest_caps_sets_for_all(containers, privileged)

    # if there is more than one set with the same size, we
    # can only proceed if they are all the same
    caps := all_caps_sets_are_equal(largest_caps_sets)
}

valid_caps_for_all(containers, privileged) := caps if {
    is_linux
    not allow_capability_dropping

    # no dropping allowed, so we just return the input
    caps := input.capabilities
}

caps_ok(allowed_caps, requested_caps) if {
    is_linux
    capsList_ok(allowed_caps.bounding, requested_caps.bounding)
    capsList_ok(allowed_caps.effective, requested_caps.effective)
    capsList_ok(allowed_caps.inheritable, requested_caps.inheritable)
    capsList_ok(allowed_caps.permitted, requested_caps.permitted)
    capsList_ok(allowed_caps.ambient, requested_caps.ambient)
}

caps_ok(allowed_caps, requested_caps) if {
    is_windows
}

get_capabilities(container, privileged) := capabilities if {
    container.capabilities != null
    capabilities := container.capabilities
}

default_privileged_capabilities := capabilities if {
    caps := {cap | cap := data.defaultPrivilegedCapabilities[_]}
    capabilities := {
        "bounding": caps,
        "effective": caps,
        "inheritable": caps,
        "permitted": caps,
        "ambient": set(),
    }
}

get_capabilities(container, true) := capabilities if {
    container.capabilities == null
    container.allow_elevated
    capabilities := default_privileged_capabilities
}

default_unprivileged_capabilities := capabilities if {
    caps := {cap | cap := data.defaultUnprivilegedCapabilities[_]}
    capabilities := {
        "bounding": caps,
        "effective": caps,
        "inheritable": set(),
        "permitted": caps,
        "ambient": set(),
    }
}

get_capabilities(container, false) := capabilities if {
    container.capabilities == null
    container.allow_elevated
    capabilities := default_unprivileged_capabilities
}

get_capabilities(container, privileged) := capabilities if {
    container.capabilities == null
    not container.allow_elevated
    capabilities := default_unprivileged_capabilities
}

default create_container := {"allowed": false}

create_container := {"metadata": [updateMatches, addStarted],
                     "env_list": env_list,
                     "caps_list": caps_list,
                     "allow_stdio_access": allow_stdio_access,
                     "allowed": true} if {
    is_linux
    not container_started

    # narrow the matches based upon command, working directory, and
    # mount list
    possible_after_initial_containers := [container |
        container := data.metadata.matches[input.containerID][_]
        # NB any change to these narrowing conditions should be reflected in
        # the error handling, such that error messaging correctly reflects
        # the narrowing process.
        noNewPrivileges_ok(container.no_new_privileges)
        user_ok(container.user)
        privileged_ok(container.allow_elevated)
        workingDirectory_ok(container.working_dir)
        command_ok(container.command)
        mountList_ok(container.mounts, container.allow_elevated)
        seccomp_ok(container.seccomp_profile_sha256)
        # We do not support adding device nodes to the policy yet
        devices_ok([], input.devices)
    ]

    count(possible_after_initial_containers) > 0

    # check to see if the environment variables match, dropping
    # them if allowed (and necessary)
    env_list := valid_envs_for_all(possible_after_initial_containers)
    possible_after_env_containers := [container |
        container := possible_after_initial_containers[_]
        envList_ok(container.env_rules, env_list)
    ]

    count(possible_after_env_containers) > 0

    # check to see if the capabilities variables match, dropping
    # them if allowed (and necessary)
    caps_list := valid_caps_for_all(possible_after_env_containers, input.privileged)
    possible_after_caps_containers := [container |
        container := possible_after_env_containers[_]
        caps_ok(get_capabilities(container, input.privileged), caps_list)
    ]

    count(possible_after_caps_containers) > 0

    # set final container list
    containers := possible_after_caps_containers

    # we can't do narrowing based on allowing stdio access so at this point
    # every container from the policy that might match this create request
    # must have the same allow stdio value otherwise, we are in an undecidable
    # state
    allow_stdio_access := containers[0].allow_stdio_access
    every c in containers {
        c.allow_stdio_access == allow_stdio_access
    }

    updateMatches := {
        "name": "matches",
        "action": "update",
        "key": input.containerID,
        "value": containers,
    }

    addStarted := {
        "name": "started",
        "action": "add",
        "key": input.containerID,
        "value": {
            "privileged": input.privileged,
        },
    }
}

create_container := {"metadata": [updateMatches, addStarted],
                     "env_list": env_list,
                     "allow_stdio_access": allow_stdio_access,
                     "allowed": true} if {
    is_windows
    not container_started

    # narrow the matches based upon command, working directory, and
    # mount list
    possible_after_initial_containers := [container |
        container := data.metadata.matches[input.containerID][_]
        # NB any change to these narrowing conditions should be reflected in
        # the error handling, such that error messaging correctly reflects
        # the narrowing process.
        user_ok(container.user)
        workingDirectory_ok(container.working_dir)
        command_ok(container.command)
    ]

    count(possible_after_initial_containers) > 0

    # check to see if the environment variables match, dropping
    # them if allowed (and necessary)
    env_list := valid_envs_for_all(possible_after_initial_containers)
    possible_after_env_containers := [container |
        container := possible_after_initial_containers[_]
        envList_ok(container.env_rules, env_list)
    ]

    count(possible_after_env_containers) > 0

    # set final container list
    containers := possible_after_env_containers

    # we can't do narrowing based on allowing stdio access so at this point
    # every container from the policy that might match this create request
    # must have the same allow stdio value otherwise, we are in an undecidable
    # state
    allow_stdio_access := containers[0].allow_stdio_access
    every c in containers {
        c.allow_stdio_access == allow_stdio_access
    }

    updateMatches := {
        "name": "matches",
        "action": "update",
        "key": input.containerID,
        "value": containers,
    }

    addStarted := {
        "name": "started",
        "action": "add",
        "key": input.containerID,
        "value": {
            "privileged": false,
        },
    }
}

security_ok(current_container) if {
    is_linux
    noNewPrivileges_ok(current_container.no_new_privileges)
    privileged_ok(current_container.allow_elevated)
    seccomp_ok(current_container.seccomp_profile_sha256)
    mountList_ok(current_container.mounts, current_container.allow_elevated)
}

security_ok(current_container) if {
    is_windows
}

mountSource_ok(constraint, source) if {
    startswith(constraint, data.sandboxPrefix)
    newConstraint := replace(constraint, data.sandboxPrefix, input.sandboxDir)
    regex.match(anchor_pattern(newConstraint), source)
}

mountSource_ok(constraint, source) if {
    startswith(constraint, data.hugePagesPrefix)
    newConstraint := replace(constraint, data.hugePagesPrefix, input.hugePagesDir)
    regex.match(anchor_pattern(newConstraint), source)
}

mountSource_ok(constraint, source) if {
    startswith(constraint, data.plan9Prefix)
    some target, containerID in data.metadata.p9mounts
    source == target
    input.containerID == containerID
}

mountSource_ok(constraint, source) if {
    constraint == source
}

mountConstraint_ok(constraint, mount) if {
    mount.type == constraint.type
    mountSource_ok(constraint.source, mount.source)
    mount.destination != ""
    mount.destination == constraint.destination

    # the following check is not required (as the following tests will prove this
    # condition as well), however it will check whether those more expensive
    # tests need to be performed.
    count(mount.options) == count(constraint.options)
    every option in mount.options {
        some constraintOption in constraint.options
        option == constraintOption
    }

    every option in constraint.options {
        some mountOption in mount.options
        option == mountOption
    }
}

mount_ok(mounts, allow_elevated, mount) if {
    some constraint in mounts
    mountConstraint_ok(constraint, mount)
}

mount_ok(mounts, allow_elevated, mount) if {
    some constraint in data.defaultMounts
    mountConstraint_ok(constraint, mount)
}

mount_ok(mounts, allow_elevated, mount) if {
    allow_elevated
    some constraint in data.privilegedMounts
    mountConstraint_ok(constraint, mount)
}

# Special case for the pod sandbox (pause) container: starting with v2,
# containerd mounts /sys as rw on the sandbox container when the pod is
# privileged (1fc497218 "Fix privileged container sysfs can't be rw because pod
# is ro by default") instead of ro.  This means that the mount list for a
# privileged pause container no longer matches with just data.defaultMounts and
# will either need a special case for sysfs (which is the only mount being
# treated differently), or use data.privilegedMounts.  However, if we blindly
# use data.privilegedMounts, this could result in the host being able to mount
# "privileged" mounts on even a non-privileged container, as long as it runs as
# the sandbox.  Since we have no other way to determine if the sandbox should be
# allowed to be privileged or not (input.privileged is set to false for the
# pause container even if the pod is privileged), we just special case the sysfs
# mount.
#
# We have to allow this special case whether or not this policy currently allows
# any privileged containers at all, since a fragment that is loaded in the
# future may allow privileged containers.
mount_ok(mounts, allow_elevated, mount) if {
    input.isSandboxContainer

    # we allow allow_elevated to be false since this is what existing policies
    # already does, even when some workload containers can be privileged, the
    # sandbox container itself is not.

    mount.type == "sysfs"
    mount.source == "sysfs"
    mount.destination == "/sys"
    count(mount.options) == 4
    "nosuid" in mount.options
    "noexec" in mount.options
    "nodev" in mount.options
    "rw" in mount.options
}

mountList_ok(mounts, allow_elevated) if {
    is_linux
    every mount in input.mounts {
        mount_ok(mounts, allow_elevated, mount)
    }
}
mountList_ok(mounts, allow_elevated) if {
    # no-op for windows
    is_windows
}

is_linux if {
    data.metadata.operatingsystem[ostype] == "linux"
}

is_windows if {
    data.metadata.operatingsystem[ostype] == "windows"
}

default exec_in_container := {"allowed": false}

exec_in_container := {"metadata": [updateMatches],
                      "env_list": env_list,
                      "caps_list": caps_list,
                      "allowed": true} if {
    is_linux
    container_started

    # narrow our matches based upon the process requested
    possible_after_initial_containers := [container |
        container := data.metadata.matches[input.containerID][_]
        # NB any change to these narrowing conditions should be reflected in
        # the error handling, such that error messaging correctly reflects
        # the narrowing process.
        workingDirectory_ok(container.working_dir)
        noNewPrivileges_ok(container.no_new_privileges)
        user_ok(container.user)
        some process in container.exec_processes
        command_ok(process.command)
    ]

    count(possible_after_initial_containers) > 0

    # check to see if the environment variables match, dropping
    # them if allowed (and necessary)
    env_list := valid_envs_for_all(possible_after_initial_containers)
    possible_after_env_containers := [container |
        container := possible_after_initial_containers[_]
        envList_ok(container.env_rules, env_list)
    ]

    count(possible_after_env_containers) > 0

    # check to see if the capabilities variables match, dropping
    # them if allowed (and necessary)
    caps_list := valid_caps_for_all(possible_after_env_containers, container_privileged)
    possible_after_caps_containers := [container |
        container := possible_after_env_containers[_]
        caps_ok(get_capabilities(container, container_privileged), caps_list)
    ]

    count(possible_after_caps_containers) > 0

    # set final container list
    containers := possible_after_caps_containers

    updateMatches := {
        "name": "matches",
        "action": "update",
        "key": input.containerID,
        "value": containers,
    }
}

exec_in_container := {"metadata": [updateMatches],
                      "env_list": env_list,
                      "allowed": true} if {

    is_windows
    container_started

    # narrow our matches based upon the process requested
    possible_after_initial_containers := [container |
        container := data.metadata.matches[input.containerID][_]
        # NB any change to these narrowing conditions should be reflected in
        # the error handling, such that error messaging correctly reflects
        # the narrowing process.
        workingDirectory_ok(container.working_dir)
        user_ok(container.user)
        some process in container.exec_processes
        command_ok(process.command)
    ]

    count(possible_after_initial_containers) > 0

    # check to see if the environment variables match, dropping
    # them if allowed (and necessary)
    env_list := valid_envs_for_all(possible_after_initial_containers)
    possible_after_env_containers := [container |
        container := possible_after_initial_containers[_]
        envList_ok(container.env_rules, env_list)
    ]

    count(possible_after_env_containers) > 0

    # set final container list
    containers := possible_after_env_containers

    updateMatches := {
        "name": "matches",
        "action": "update",
        "key": input.containerID,
        "value": containers,
    }
}

default shutdown_container := {"allowed": false}

shutdown_container := {"metadata": [remove], "allowed": true} if {
    container_started
    remove := {
        "name": "matches",
        "action": "remove",
        "key": input.containerID,
    }
}

default signal_container_process := {"allowed": false}

signal_container_process := {"metadata": [updateMatches], "allowed": true} if {
    container_started
    input.isInitProcess
    containers := [container |
        container := data.metadata.matches[input.containerID][_]
        signal_ok(container.signals)
    ]

    count(containers) > 0
    updateMatches := {
        "name": "matches",
        "action": "update",
        "key": input.containerID,
        "value": containers,
    }
}

signal_container_process := {"metadata": [updateMatches], "allowed": true} if {
    container_started
    not input.isInitProcess
    containers := [container |
        container := data.metadata.matches[input.containerID][_]
        some process in container.exec_processes
        command_ok(process.command)
        signal_ok(process.signals)
    ]

    count(containers) > 0
    updateMatches := {
        "name": "matches",
        "action": "update",
        "key": input.containerID,
        "value": containers,
    }
}

signal_ok(signals) if {
    some signal in signals
    input.signal == signal
}

plan9_mounted(target) if {
    data.metadata.p9mounts[target]
}

default plan9_mount := {"allowed": false}

plan9_mount := {"metadata": [addPlan9Target], "allowed": true} if {
    not plan9_mounted(input.target)
    some containerID, _ in data.metadata.matches
    pattern := concat("", ["^", input.rootPrefix, "/", containerID, input.mountPathPrefix, "$"])
    regex.match(pattern, input.target)
    addPlan9Target := {
        "name": "p9mounts",
        "action": "add",
        "key": input.target,
        "value": containerID,
    }
}

default plan9_unmount := {"allowed": false}

plan9_unmount := {"metadata": [removePlan9Target], "allowed": true} if {
    plan9_mounted(input.unmountTarget)
    removePlan9Target := {
        "name": "p9mounts",
        "action": "remove",
        "key": input.unmountTarget,
    }
}


default enforcement_point_info := {
    "available": false,
    "default_results": {"allow": false},
    "unknown": true,
    "invalid": false,
    "version_missing": false,
    "use_framework": false
}

enforcement_point_info := {"available": false, "default_results": {"allow": false}, "unknown": false, "invalid": false, "version_missing": true, "use_framework": false} if {
    policy_api_version == null
}

enforcement_point_info := {"available": available, "default_results": default_results, "unknown": false, "invalid": false, "version_missing": false, "use_framework": use_framework} if {
    enforcement_point := data.api.enforcement_points[input.name]
    semver.compare(data.api.version, enforcement_point.introducedVersion) >= 0
    available := semver.compare(policy_api_version, enforcement_point.introducedVersion) >= 0
    default_results := enforcement_point.default_results
    use_framework := enforcement_point.use_framework
}

enforcement_point_info := {"available": false, "default_results": {"allow": false}, "unknown": false, "invalid": true, "version_missing": false, "use_framework": false} if {
    enforcement_point := data.api.enforcement_points[input.name]
    semver.compare(data.api.version, enforcement_point.introducedVersion) < 0
}

default candidate_external_processes := []

candidate_external_processes := external_processes if {
    semver.compare(policy_framework_version, version) == 0

    policy_external_processes := [e | e := data.policy.external_processes[_]]
    fragment_external_processes := [e |
        feed := data.metadata.issuers[_].feeds[_]
        fragment := feed[_]
        e := fragment.external_processes[_]
    ]

    external_processes := array.concat(policy_external_processes, fragment_external_processes)
}

candidate_external_processes := external_processes if {
    semver.compare(policy_framework_version, version) < 0

    policy_external_processes := apply_defaults("external_process", data.policy.external_processes, policy_framework_version)
    fragment_external_processes := [e |
        feed := data.metadata.issuers[_].feeds[_]
        fragment := feed[_]
        e := fragment.external_processes[_]
    ]

    external_processes := array.concat(policy_external_processes, fragment_external_processes)
}

external_process_ok(process) if {
    command_ok(process.command)
    envList_ok(process.env_rules, input.envList)
    workingDirectory_ok(process.working_dir)
}

default exec_external := {"allowed": false}

exec_external := {"allowed": true,
                  "allow_stdio_access": allow_stdio_access,
                  "env_list": env_list} if {
    possible_processes := [process |
        process := candidate_external_processes[_]
        # NB any change to these narrowing conditions should be reflected in
        # the error handling, such that error messaging correctly reflects
        # the narrowing process.
        workingDirectory_ok(process.working_dir)
        command_ok(process.command)
    ]

    count(possible_processes) > 0

    # check to see if the environment variables match, dropping
    # them if allowed (and necessary)
    env_list := valid_envs_for_all(possible_processes)
    processes := [process |
        process := possible_processes[_]
        envList_ok(process.env_rules, env_list)
    ]

    count(processes) > 0

    allow_stdio_access := processes[0].allow_stdio_access
    every p in processes {
        p.allow_stdio_access == allow_stdio_access
    }
}

default get_properties := {"allowed": false}

get_properties := {"allowed": true} if {
    allow_properties_access
}

default dump_stacks := {"allowed": false}

dump_stacks := {"allowed": true} if {
    allow_dump_stacks
}

default runtime_logging := {"allowed": false}

runtime_logging := {"allowed": true} if {
    allow_runtime_logging
}

default host_network := {"allowed": false}

host_network := {"allowed": true} if {
    allow_host_network
}

# Helpers to get data from the fragment that is currently being loaded.  Since
# input.namespace is the package name the fragment loaded as,
# data[input.namespace] can be used to access the fragment.  This is only valid
# during a load_fragment call - the content exported by the fragment needs to be
# persisted into the metadata for later enforcement use.  (c.f.
# extract_fragment_includes)

default fragment_containers := []
fragment_containers := data[input.namespace].containers

default fragment_fragments := []
fragment_fragments := data[input.namespace].fragments

default fragment_external_processes := []
fragment_external_processes := data[input.namespace].external_processes

default fragment_transparency_trust_lists := []
fragment_transparency_trust_lists := data[input.namespace].transparency_trust_lists

default fragment_platform_rules := []
fragment_platform_rules := data[input.namespace].platform_rules

apply_defaults(name, raw_values, framework_version) := values if {
    semver.compare(framework_version, version) == 0
    values := raw_values
}

apply_defaults("container", raw_values, framework_version) := values if {
    semver.compare(framework_version, version) < 0
    values := [checked |
        raw := raw_values[_]
        checked := check_container(raw, framework_version)
    ]
}

apply_defaults("external_process", raw_values, framework_version) := values if {
    semver.compare(framework_version, version) < 0
    values := [checked |
        raw := raw_values[_]
        checked := check_external_process(raw, framework_version)
    ]
}

apply_defaults("fragment", raw_values, framework_version) := values if {
    semver.compare(framework_version, version) < 0
    values := [checked |
        raw := raw_values[_]
        checked := check_fragment(raw, framework_version)
    ]
}

# transparency_trust_lists is introduced in framework version 0.5.0.  If an old
# policy has it, silently ignore as it might be using the name for something
# else.

apply_defaults("transparency_trust_lists", raw_values, framework_version) := values if {
    semver.compare(framework_version, version) < 0
    semver.compare(framework_version, "0.5.0") >= 0
    values := raw_values
}

apply_defaults("transparency_trust_lists", raw_values, framework_version) := values if {
    semver.compare(framework_version, "0.5.0") < 0
    values := []
}

# platform_rules is introduced in framework version 0.5.0.  If an old policy has it,
# silently ignore as it might be using the name for something else.

apply_defaults("platform_rules", raw_values, framework_version) := values if {
    semver.compare(framework_version, version) < 0
    semver.compare(framework_version, "0.5.0") >= 0
    # This is currently unreachable, otherwise we would call something like
    # check_platform_rule here, like above (not defined yet).
    values := raw_values
}

apply_defaults("platform_rules", raw_values, framework_version) := values if {
    semver.compare(framework_version, "0.5.0") < 0
    values := []
}

default fragment_framework_version := null
fragment_framework_version := data[input.namespace].framework_version

extract_fragment_includes(includes) := fragment if {
    framework_version := fragment_framework_version
    objects := {
        "containers": apply_defaults("container", fragment_containers, framework_version),
        "fragments": apply_defaults("fragment", fragment_fragments, framework_version),
        "external_processes": apply_defaults("external_process", fragment_external_processes, framework_version),
        "transparency_trust_lists": apply_defaults("transparency_trust_lists", fragment_transparency_trust_lists, framework_version),
        "platform_rules": apply_defaults("platform_rules", fragment_platform_rules, framework_version),
    }

    fragment := {
        include: objects[include] | include := includes[_]
    }
}

# data.metadata.issuers is a map of maps that contains information loaded from fragments:
# {
#   "did:issuer_1...": {
#     "feeds": {
#       "feed1": [
#         {
#           // The extracted "includes" for a fragment with this issuer and feed, e.g.:
#           "containers": [...],
#           "fragments": [...],
#         },
#         // if multiple fragments with the same issuer and feed exists, they go here
#       ]
#     }
#   }
# }
#
# Rules like candidate_containers and candidate_fragments will read this map to
# gather all the allowed containers / nested fragments.
#
# This map does not contain any containers / fragments allowed by the top-level
# policy itself.  The candidate_* rules need to combine both sources.

issuer_exists(iss) if {
    data.metadata.issuers[iss]
}

feed_exists(iss, feed) if {
    data.metadata.issuers[iss].feeds[feed]
}

update_issuer(includes) := issuer if {
    feed_exists(input.issuer, input.feed)
    old_issuer := data.metadata.issuers[input.issuer]
    old_fragments := old_issuer.feeds[input.feed]
    new_issuer := {"feeds": {input.feed: array.concat([extract_fragment_includes(includes)], old_fragments)}}

    issuer := object.union(old_issuer, new_issuer)
}

update_issuer(includes) := issuer if {
    not feed_exists(input.issuer, input.feed)
    old_issuer := data.metadata.issuers[input.issuer]
    new_issuer := {"feeds": {input.feed: [extract_fragment_includes(includes)]}}

    issuer := object.union(old_issuer, new_issuer)
}

update_issuer(includes) := issuer if {
    not issuer_exists(input.issuer)
    issuer := {"feeds": {input.feed: [extract_fragment_includes(includes)]}}
}

# The policy might not define the fragments variable, in which case we default
# to [] to prevent breaking other rules.
default policy_fragments := []

policy_fragments := pf if {
    semver.compare(policy_framework_version, version) == 0
    pf := data.policy.fragments
}

policy_fragments := pf if {
    semver.compare(policy_framework_version, version) < 0
    pf := apply_defaults("fragment", data.policy.fragments, policy_framework_version)
}

# data.metadata.fragment_parameters is a set of {issuer, feed, parameters}
# objects, representing possible parameters for nested fragments.  (There can be
# duplicate issuer and feeds, All possible parameters will be tried on load of
# the respective fragment.)
# [
#   {
#     "issuer": "did:issuer_1...",
#     "feed": "feed1",
#     "parameters": {
#       "foo": "foo_standard",
#       "bar": "bar_standard",
#     }
#   },
#   {
#     "issuer": "did:issuer_1...",
#     "feed": "feed1",
#     "parameters": {
#       "foo": "foo_premium",
#       "bar": "bar_premium",
#     }
#   },
#   {
#     "issuer": "did:issuer_2...",
#     "feed": "feed2",
#     "parameters": {
#       ...
#     }
#   }
# ]
#
# This set does not contains any parameters specified by the top-level policy.
# Readers must combine both sources.
#
# Note that although both the issuers map and the fragment_parameters set are
# updated during fragment load, issuers represents the information extracted
# from _already loaded_ fragments (and hence it will only contain (issuer, feed)
# pairs which the host has injected a fragment for).  The fragment_parameters
# set represents what parameters to use when a fragment is loaded later on, so
# it contains (issuer, feed) pairs for not-yet-loaded fragments.

default fragment_parameters_for(_, _) := []

fragment_parameters_for(iss, feed) := params if {
    params_nested := [
        p.parameters
        | p := data.metadata.fragment_parameters[_]
          p.issuer == iss
          p.feed == feed
    ]
    params_policy := [
        p.parameters
        | p := policy_fragments[_]
          p.issuer == iss
          p.feed == feed
          p.parameters
    ]
    params := array.concat(params_nested, params_policy)
}

candidate_fragments := fragments if {
    fragment_fragments := [f |
        feed := data.metadata.issuers[_].feeds[_]
        fragment := feed[_]
        f := fragment.fragments[_]
    ]

    fragments := array.concat(policy_fragments, fragment_fragments)
}

svn_ok(svn, minimum_svn) if {
    # deprecated
    semver.is_valid(svn)
    semver.is_valid(minimum_svn)
    semver.compare(svn, minimum_svn) >= 0
}

svn_ok(svn, minimum_svn) if {
    to_number(svn) >= to_number(minimum_svn)
}

fragment_issuer_feed_ok(fragment) if {
    input.issuer == fragment.issuer
    input.feed == fragment.feed
}

# header_svn_ok checks that the fragment's CWT-declared SVN is at least the
# minimum, if it is present.  If it's not present, then we don't check it here,
# but later in svn_ok_if_defined we will ensure that the fragment itself
# declares an SVN and that it meets the minimum requirement.  A case where
# neither the header nor the fragment Rego declares an SVN is tested in
# Test_Rego_LoadFragment_MissingSVN.

header_svn_ok(fragment) if {
    not input.has_header_svn
}

header_svn_ok(fragment) if {
    input.has_header_svn
    svn_ok(input.header_svn, fragment.minimum_svn)
}

svn_ok_if_defined(minimum_svn) if {
    data[input.namespace].svn # This also works if the svn is 0
    not input.has_header_svn
    svn_ok(data[input.namespace].svn, minimum_svn)
}

svn_ok_if_defined(minimum_svn) if {
    data[input.namespace].svn
    input.has_header_svn
    # Use to_number as fragment may define svn as a string
    to_number(input.header_svn) == to_number(data[input.namespace].svn)
    svn_ok(data[input.namespace].svn, minimum_svn)
}

# If not defined in fragment, require SVN to present in the header
svn_ok_if_defined(minimum_svn) if {
    not data[input.namespace].svn
    input.has_header_svn
    svn_ok(input.header_svn, minimum_svn)
}

# A fragment rule may require transparency receipts from one or more ledgers
# (identified by the issuer of the receipt, and checked by the key used to sign
# the receipt).  input.receipts is the set of receipts that the enforcer
# successfully validated against keys learned from accepted TTLs (Transparency
# Trust Lists). Each receipt is {"issuer": <ledger>, "ttl_subjects": [<ttl
# subject>, ...]} where ttl_subjects lists the subjects of the TTLs that
# contributed the key that validated the receipt.
#
# fragment.required_receipts contains the list of required receipt issuers or
# feeds of the TTLs containing the key for the receipt.  If not set, no receipts
# are required.  The list is an AND: every required entry must be satisfied.
# One receipt can satisfy multiple such requirement entries.
fragment_receipts_ok(fragment) if {
    required := object.get(fragment, "required_receipts", [])
    every required_issuer in required {
        receipt_requirement_satisfied(required_issuer)
    }
}

# receipt_requirement_satisfied checks a single receipt requirement against the
# validated receipts in input.receipts. A requirement may be:
# - "*": satisfied by any validated receipt. This still implies the receipt was
#   signed by a key from a TTL we have accepted, it just doesn't constrain which
#   one.
# - "TTL:<subject>": satisfied by a validated receipt that was signed by a key
#   contributed by a TTL with the given subject.
# - a literal ledger name: satisfied by a validated receipt with that issuer.
receipt_requirement_satisfied(required_issuer) if {
    required_issuer == "*"
    count(input.receipts) > 0
}

receipt_requirement_satisfied(required_issuer) if {
    startswith(required_issuer, "TTL:")
    subject := substring(required_issuer, count("TTL:"), -1)
    some receipt in input.receipts
    subject in receipt.ttl_subjects
}

receipt_requirement_satisfied(required_issuer) if {
    required_issuer != "*"
    not startswith(required_issuer, "TTL:")
    some receipt in input.receipts
    receipt.issuer == required_issuer
}

default load_fragment := {"allowed": false}

# load_fragment gets called twice - first before loading the fragment as a Rego
# module, with input.fragment_loaded set to false, in which case we do not yet
# have access to anything under data[fragment.namespace] yet, and so we only
# check that the fragment issuer and feed is valid, but does not actually load
# the fragment into metadata.  It will then be called a second time, at which
# point we can check the SVN defined in the fragment is valid (if the SVN is not
# in the header, and thus we could not have checked earlier), and if successful,
# add the fragment to the metadata.

load_fragment := {"allowed": true, "parameters": possibleParams} if {
    not input.fragment_loaded
    some fragment in candidate_fragments
    fragment_issuer_feed_ok(fragment)
    # If SVN provided in header, validate it now.
    header_svn_ok(fragment)
    fragment_receipts_ok(fragment)
    possibleParams := fragment_parameters_for(fragment.issuer, fragment.feed)
}

load_fragment := {"metadata": array.concat([updateIssuer], updateParameters), "add_module": add_module, "allowed": true} if {
    input.fragment_loaded
    some fragment in candidate_fragments
    fragment_issuer_feed_ok(fragment)
    # If SVN is defined in the fragment's Rego module, also validate it.
    # If header SVN was present, it must match that.
    svn_ok_if_defined(fragment.minimum_svn)

    issuer := update_issuer(fragment.includes)
    updateIssuer := {
        "name": "issuers",
        "action": "update",
        "key": input.issuer,
        "value": issuer,
    }

    updateParameters := [
        {
            "name": "fragment_parameters",
            "type": "set",
            "action": "add",
            "value": fp,
        }
        | fragment := fragment_fragments[_]
          fragment.parameters
          fp := {
              "issuer": fragment.issuer,
              "feed": fragment.feed,
              "parameters": fragment.parameters
          }
    ]

    add_module := "namespace" in fragment.includes
}

# transparency_trust_lists declares which signed Transparency Trust Lists (TTLs)
# the policy is willing to accept, and which ledgers each such TTL may
# contribute keys for.  Like candidate_fragments, the candidate set is the union
# of the top-level policy's transparency_trust_lists and any contributed by
# already-loaded fragments that included "transparency_trust_lists".
default policy_transparency_trust_lists := []
policy_transparency_trust_lists := data.policy.transparency_trust_lists

candidate_transparency_trust_lists := ttls if {
    fragment_ttls := [r |
        feed := data.metadata.issuers[_].feeds[_]
        fragment := feed[_]
        r := fragment.transparency_trust_lists[_]
    ]

    ttls := array.concat(policy_transparency_trust_lists, fragment_ttls)
}

# The set of ledger names a matching TTL authorizes for the given (issuer,
# subject, svn).  "*" is a wildcard meaning "any ledger".
ttl_allowed_ledgers_for_issuer_subject_svn(issuer, subject, svn) := allowed_ledgers if {
    allowed_ledgers := {l |
        ttl := candidate_transparency_trust_lists[_]
        ttl.issuer == issuer
        ttl.subject == subject
        svn_ok(svn, ttl.minimum_svn)
        l := ttl.allowed_ledgers[_]
    }
}

ttl_intersect_or_allow_all_if_wildcard(allowed_ledgers, input_ledgers) := result if {
    not "*" in allowed_ledgers
    result := {l | l := input_ledgers[_]; l in allowed_ledgers}
}

ttl_intersect_or_allow_all_if_wildcard(allowed_ledgers, input_ledgers) := result if {
    "*" in allowed_ledgers
    result := {l | l := input_ledgers[_]}
}

default load_transparency_trust_list := {"allowed": false}

load_transparency_trust_list := {"allowed": true, "allowed_ledgers": allowed_ledgers} if {
    ttl_ledgers := ttl_allowed_ledgers_for_issuer_subject_svn(input.issuer, input.subject, input.svn)
    allowed_ledgers := ttl_intersect_or_allow_all_if_wildcard(ttl_ledgers, input.ledgers)
    count(allowed_ledgers) > 0
}

default scratch_mount := {"allowed": false}

scratch_mounted(target) if {
    data.metadata.scratch_mounts[target]
}

scratch_mount := {"metadata": [add_scratch_mount], "allowed": true} if {
    not scratch_mounted(input.target)
    allow_unencrypted_scratch
    add_scratch_mount := {
        "name": "scratch_mounts",
        "action": "add",
        "key": input.target,
        "value": {"encrypted": input.encrypted},
    }
}

scratch_mount := {"metadata": [add_scratch_mount], "allowed": true} if {
    not scratch_mounted(input.target)
    not allow_unencrypted_scratch
    input.encrypted
    add_scratch_mount := {
        "name": "scratch_mounts",
        "action": "add",
        "key": input.target,
        "value": {"encrypted": input.encrypted},
    }
}

default scratch_unmount := {"allowed": false}

scratch_unmount := {"metadata": [remove_scratch_mount], "allowed": true} if {
    scratch_mounted(input.unmountTarget)
    remove_scratch_mount := {
        "name": "scratch_mounts",
        "action": "remove",
        "key": input.unmountTarget,
    }
}

# Log provider validation for Windows containers.
#
# Two modes (mirrors allow_environment_variable_dropping):
#   - allow_log_provider_dropping := false (default, fail-close): every
#     requested provider name must appear in allowed_log_providers, otherwise
#     the rule denies the entire request.
#   - allow_log_provider_dropping := true: providers not in the allow-list are
#     silently dropped from providers_to_keep; the call still allows and the
#     caller is expected to only forward the remaining providers.
#
# Input:  {"providers": [name, ...]}
# Output: {"allowed": bool, "providers_to_keep": [name, ...]}
default log_provider := {"allowed": false, "providers_to_keep": []}

valid_log_providers := providers if {
    allow_log_provider_dropping

    providers := [name |
        name := input.providers[_]
        some allowed_provider in data.policy.allowed_log_providers
        lower(name) == lower(allowed_provider)
    ]
}

valid_log_providers := providers if {
    not allow_log_provider_dropping
    providers := input.providers
}

log_providers_ok(providers) if {
    every name in providers {
        some allowed_provider in data.policy.allowed_log_providers
        lower(name) == lower(allowed_provider)
    }
}

log_provider := {"allowed": true, "providers_to_keep": providers} if {
    providers := valid_log_providers
    log_providers_ok(providers)
}

# Registry changes validation
default registry_changes := {"allowed": false}

# Helper function to compare registry keys
registry_keys_match(policy_key, input_key) if {
    policy_key.hive == input_key.Hive
    policy_key.name == input_key.Name
    # Volatile field comparison (default to false if not specified)
    policy_volatile := object.get(policy_key, "volatile", false)
    input_volatile := object.get(input_key, "Volatile", false)
    policy_volatile == input_volatile
}

# Helper function to compare registry values
# STRING type
registry_value_matches(policy_value, input_value) if {
    registry_keys_match(policy_value.key, input_value.Key)
    policy_value.name == input_value.Name
    policy_value.type == input_value.Type
    policy_value.type == "String"
    policy_value.string_value == input_value.StringValue
}

# EXPANDED_STRING type (uses StringValue field)
registry_value_matches(policy_value, input_value) if {
    registry_keys_match(policy_value.key, input_value.Key)
    policy_value.name == input_value.Name
    policy_value.type == input_value.Type
    policy_value.type == "ExpandedString"
    policy_value.string_value == input_value.StringValue
}

# MULTI_STRING type (uses StringValue field)
registry_value_matches(policy_value, input_value) if {
    registry_keys_match(policy_value.key, input_value.Key)
    policy_value.name == input_value.Name
    policy_value.type == input_value.Type
    policy_value.type == "MultiString"
    policy_value.string_value == input_value.StringValue
}

# D_WORD type
registry_value_matches(policy_value, input_value) if {
    registry_keys_match(policy_value.key, input_value.Key)
    policy_value.name == input_value.Name
    policy_value.type == input_value.Type
    policy_value.type == "DWord"
    policy_value.dword_value == input_value.DWordValue
}

# Q_WORD type
registry_value_matches(policy_value, input_value) if {
    registry_keys_match(policy_value.key, input_value.Key)
    policy_value.name == input_value.Name
    policy_value.type == input_value.Type
    policy_value.type == "QWord"
    policy_value.qword_value == input_value.QWordValue
}

# BINARY type
registry_value_matches(policy_value, input_value) if {
    registry_keys_match(policy_value.key, input_value.Key)
    policy_value.name == input_value.Name
    policy_value.type == input_value.Type
    policy_value.type == "Binary"
    policy_value.binary_value == input_value.BinaryValue
}

# CUSTOM_TYPE - both CustomType field and BinaryValue must match
registry_value_matches(policy_value, input_value) if {
    registry_keys_match(policy_value.key, input_value.Key)
    policy_value.name == input_value.Name
    policy_value.type == input_value.Type
    policy_value.type == "CustomType"
    policy_value.custom_type == input_value.CustomType
    policy_value.binary_value == input_value.BinaryValue
}

# NONE type - no value to compare, just key and name
registry_value_matches(policy_value, input_value) if {
    registry_keys_match(policy_value.key, input_value.Key)
    policy_value.name == input_value.Name
    policy_value.type == input_value.Type
    policy_value.type == "None"
}

# Filter input registry values to only include those that match policy
filtered_registry_values(input_values, policy_values) := [input_val |
    input_val := input_values[_]
    some policy_val in policy_values
    registry_value_matches(policy_val, input_val)
]

registry_changes := {"allowed": true} if {
    containers := data.metadata.matches[input.containerID]
    container := containers[_]

    # Check if container has registry_changes defined in policy
    container.registry_changes

    # If input has registry changes, filter to only matching ones
    input.registryChanges.AddValues
    matched_values := filtered_registry_values(input.registryChanges.AddValues, container.registry_changes.add_values)

    # Build result with filtered AddValues
    result := {
        "AddValues": matched_values
    }
}

# This is a helper function that will be used by the parameter() function
# injected into fragments, and is not otherwise intended to be called by user
# directly.

extract_parameter(name, fragment_parameters_obj, parameters_metadata) := fragment_parameters_obj[name] if {
	name in object.keys(fragment_parameters_obj)
} else := parameters_metadata[name]["default"] if {
	"default" in object.keys(parameters_metadata[name])
}

default policy_platform_rules := []

policy_platform_rules := platform_rules if {
    semver.compare(policy_framework_version, version) == 0
    platform_rules := data.policy.platform_rules
}

# For policy with framework_version < 0.5.0, apply_defaults will ignore
# platform_rules and return [].

policy_platform_rules := platform_rules if {
    semver.compare(policy_framework_version, version) < 0
    platform_rules := apply_defaults("platform_rules", data.policy.platform_rules, policy_framework_version)
}

default candidate_platform_rules := []

candidate_platform_rules := platform_rules if {
    fragment_platform_rules := [r |
        feed := data.metadata.issuers[_].feeds[_]
        fragment := feed[_]
        r := fragment.platform_rules[_]
    ]

    platform_rules := array.concat(policy_platform_rules, fragment_platform_rules)
}

# apply_platform_rules("container", c) applies "platform_rules" to the container
# object c, and returns a list of containers which are the input container with
# platform rules applied.  The return value may contain more than one container
# if multiple platform rules are defined.

# No platform rules - return as-is.
apply_platform_rules("container", container) := updated_containers if {
    count(candidate_platform_rules) == 0
    updated_containers := [container]
}

apply_platform_rules("container", container) := updated_containers if {
    count(candidate_platform_rules) > 0
    updated_containers := [updated_container |
        platform_rule := candidate_platform_rules[_]
        updated_container := apply_single_platform_rule("container", container, platform_rule)
    ]
}

apply_single_platform_rule("container", container, platform_rule) := updated_container if {
    container_env_rules := object.get(container, "env_rules", [])
    updated_env_rules := array.concat(container_env_rules, object.get(platform_rule, "env_rules", []))

    container_mounts := object.get(container, "mounts", [])
    updated_mounts := array.concat(container_mounts, object.get(platform_rule, "mounts", []))

    updated_container := object.union(container, {
        "env_rules": updated_env_rules,
        "mounts": updated_mounts,
    })
}

reason := {
    "errors": errors,
    "error_objects": error_objects
}

################################################################
# Error messages
################################################################

errors contains "blockdev mounts are not supported" if {
    input.rule in ["mount_blockdev", "unmount_blockdev"]
}

errors contains "deviceHash not found" if {
    input.rule == "mount_device"
    not deviceHash_ok
}

errors contains "device already mounted at path" if {
    input.rule in ["mount_device", "rw_mount_device"]
    device_mounted(input.target)
}

errors contains "mountpoint invalid" if {
    input.rule in ["mount_device", "rw_mount_device"]
    not mount_target_ok
}

errors contains "no device at path to unmount" if {
    input.rule == "unmount_device"
    not data.metadata.devices[input.unmountTarget]
    not data.metadata.rw_devices[input.unmountTarget]
}

errors contains "received read-only unmount request, but device provided is read-write" if {
    input.rule == "unmount_device"
    not data.metadata.devices[input.unmountTarget]
    data.metadata.rw_devices[input.unmountTarget]
}

errors contains "no device at path to unmount" if {
    input.rule == "rw_unmount_device"
    not data.metadata.devices[input.unmountTarget]
    not data.metadata.rw_devices[input.unmountTarget]
}

errors contains "received read-write unmount request, but device provided is read-only" if {
    input.rule == "rw_unmount_device"
    not data.metadata.rw_devices[input.unmountTarget]
    data.metadata.devices[input.unmountTarget]
}

# Error string tested in azcri-containerd Test_RunPodSandboxNotAllowed_WithPolicy_EncryptedScratchPolicy
errors contains "unencrypted scratch not allowed, non-readonly mount request for SCSI disk must request encryption" if {
    input.rule == "rw_mount_device"
    not allow_unencrypted_scratch
    not input.encrypted
}

errors contains "ensureFilesystem must be set on rw device mounts" if {
    input.rule == "rw_mount_device"
    not input.ensureFilesystem
}

errors contains "rw device mounts uses a filesystem that is not allowed" if {
    input.rule == "rw_mount_device"
    not allowed_scratch_fs(input.filesystem)
}

errors contains "container already started" if {
    input.rule == "create_container"
    container_started
}

errors contains "container not started" if {
    input.rule in ["exec_in_container", "shutdown_container", "signal_container_process"]
    not container_started
}

errors contains "overlay has already been mounted" if {
    input.rule == "mount_overlay"
    overlay_exists
}

default overlay_matches := false

overlay_matches if {
    some container in candidate_containers
    layerPaths_ok(container.layers)
}

errors contains "no overlay at path to unmount" if {
    input.rule == "unmount_overlay"
    not overlay_mounted(input.unmountTarget)
}

errors contains "no matching containers for overlay" if {
    input.rule == "mount_overlay"
    not overlay_matches
}

default privileged_matches := false

privileged_matches if {
    input.rule == "create_container"
    some container in data.metadata.matches[input.containerID]
    privileged_ok(container.allow_elevated)
}

errors contains "privileged escalation not allowed" if {
    is_linux
    input.rule in ["create_container"]
    not privileged_matches
}

default command_matches := false

command_matches if {
    input.rule == "create_container"
    some container in data.metadata.matches[input.containerID]
    command_ok(container.command)
}

command_matches if {
    input.rule == "exec_in_container"
    some container in data.metadata.matches[input.containerID]
    some process in container.exec_processes
    command_ok(process.command)
}

command_matches if {
    input.rule == "exec_external"
    some process in candidate_external_processes
    command_ok(process.command)
}

errors contains "invalid command" if {
    input.rule in ["create_container", "exec_in_container", "exec_external"]
    not command_matches
}

env_matches(env) if {
    input.rule in ["create_container", "exec_in_container"]
    some container in data.metadata.matches[input.containerID]
    some rule in container.env_rules
    env_rule_ok(rule, env)
}

env_matches(env) if {
    input.rule in ["exec_external"]
    some process in candidate_external_processes
    some rule in process.env_rules
    env_rule_ok(rule, env)
}

errors contains envError if {
    input.rule in ["create_container", "exec_in_container", "exec_external"]
    bad_envs := [invalid |
        env := input.envList[_]
        not env_matches(env)
        parts := split(env, "=")
        invalid = parts[0]
    ]

    count(bad_envs) > 0
    envError := concat(" ", ["invalid env list:", concat(",", bad_envs)])
}

env_rule_matches(rule) if {
    some env in input.envList
    env_rule_ok(rule, env)
}

errors contains "missing required environment variable" if {
    is_linux
    input.rule == "create_container"

    not container_started
    possible_containers := [container |
        container := data.metadata.matches[input.containerID][_]
        noNewPrivileges_ok(container.no_new_privileges)
        user_ok(container.user)
        privileged_ok(container.allow_elevated)
        workingDirectory_ok(container.working_dir)
        command_ok(container.command)
        mountList_ok(container.mounts, container.allow_elevated)
    ]

    count(possible_containers) > 0

    containers := [container |
        container := possible_containers[_]
        missing_rules := {invalid |
            invalid := {rule |
                rule := container.env_rules[_]
                rule.required
                not env_rule_matches(rule)
            }
            count(invalid) > 0
        }
        count(missing_rules) > 0
    ]

    count(containers) > 0
}

errors contains "missing required environment variable" if {
    input.rule == "exec_in_container"

    container_started
    possible_containers := [container |
        container := data.metadata.matches[input.containerID][_]
        noNewPrivileges_ok(container.no_new_privileges)
        user_ok(container.user)
        workingDirectory_ok(container.working_dir)
        some process in container.exec_processes
        command_ok(process.command)
    ]

    count(possible_containers) > 0

    containers := [container |
        container := possible_containers[_]
        missing_rules := {invalid |
            invalid := {rule |
                rule := container.env_rules[_]
                rule.required
                not env_rule_matches(rule)
            }
            count(invalid) > 0
        }
        count(missing_rules) > 0
    ]

    count(containers) > 0
}

errors contains "missing required environment variable" if {
    input.rule == "exec_external"

    possible_processes := [process |
        process := candidate_external_processes[_]
        workingDirectory_ok(process.working_dir)
        command_ok(process.command)
    ]

    count(possible_processes) > 0

    processes := [process |
        process := possible_processes[_]
        missing_rules := {invalid |
            invalid := {rule |
                rule := process.env_rules[_]
                rule.required
                not env_rule_matches(rule)
            }
            count(invalid) > 0
        }
        count(missing_rules) > 0
    ]

    count(processes) > 0
}

# All environment variables matches some rule in some container, but there are
# no containers with exactly the given combination of rules (i.e. for every
# container, there is at least one mismatching rule).
errors contains "invalid env list" if {
    input.rule in ["create_container"]

    every container in data.metadata.matches[input.containerID] {
        noNewPrivileges_ok(container.no_new_privileges)
        user_ok(container.user)
        privileged_ok(container.allow_elevated)
        workingDirectory_ok(container.working_dir)
        command_ok(container.command)
        mountList_ok(container.mounts, container.allow_elevated)

        some env_in in input.envList
        every rule in container.env_rules {
            not env_rule_ok(rule, env_in)
        }
    }
}

default workingDirectory_matches := false

workingDirectory_matches if {
    input.rule in ["create_container", "exec_in_container"]
    some container in data.metadata.matches[input.containerID]
    workingDirectory_ok(container.working_dir)
}

workingDirectory_matches if {
    input.rule == "exec_external"
    some process in candidate_external_processes
    workingDirectory_ok(process.working_dir)
}

errors contains "invalid working directory" if {
    input.rule in ["create_container", "exec_in_container", "exec_external"]
    not workingDirectory_matches
}

mount_matches(mount) if {
    some container in data.metadata.matches[input.containerID]
    mount_ok(container.mounts, container.allow_elevated, mount)
}

errors contains mountError if {
    is_linux
    input.rule == "create_container"
    bad_mounts := [mount.destination |
        mount := input.mounts[_]
        not mount_matches(mount)
    ]

    count(bad_mounts) > 0
    mountError := concat(" ", ["invalid mount list:", concat(",", bad_mounts)])
}

default signal_allowed := false

signal_allowed if {
    input.isInitProcess
    some container in data.metadata.matches[input.containerID]
    signal_ok(container.signals)
}

signal_allowed if {
    not input.isInitProcess
    some container in data.metadata.matches[input.containerID]
    some process in container.exec_processes
    command_ok(process.command)
    signal_ok(process.signals)
}

errors contains "target isn't allowed to receive the signal" if {
    input.rule == "signal_container_process"
    not signal_allowed
}

errors contains "device already mounted at path" if {
    input.rule == "plan9_mount"
    plan9_mounted(input.target)
}

errors contains "no device at path to unmount" if {
    input.rule == "plan9_unmount"
    not plan9_mounted(input.unmountTarget)
}

default fragment_issuer_matches := false

fragment_issuer_matches if {
    some fragment in candidate_fragments
    fragment.issuer == input.issuer
}

errors contains "invalid fragment issuer" if {
    input.rule == "load_fragment"
    not fragment_issuer_matches
}

default fragment_feed_matches := false

fragment_feed_matches if {
    some fragment in candidate_fragments
    fragment.issuer == input.issuer
    fragment.feed == input.feed
}

fragment_feed_matches if {
    input.feed in data.metadata.issuers[input.issuer]
}

errors contains "invalid fragment feed" if {
    input.rule == "load_fragment"
    fragment_issuer_matches
    not fragment_feed_matches
}

default fragment_version_is_valid := false

fragment_version_is_valid if {
    some fragment in candidate_fragments
    input.fragment_loaded
    fragment.issuer == input.issuer
    fragment.feed == input.feed
    svn_ok(data[input.namespace].svn, fragment.minimum_svn)
}

fragment_version_is_valid if {
    some fragment in candidate_fragments
    fragment.issuer == input.issuer
    fragment.feed == input.feed
    input.has_header_svn
    svn_ok(input.header_svn, fragment.minimum_svn)
}

default svn_mismatch := false

svn_mismatch if {
    some fragment in candidate_fragments
    fragment.issuer == input.issuer
    fragment.feed == input.feed
    input.fragment_loaded
    to_number(data[input.namespace].svn)
    semver.is_valid(fragment.minimum_svn)
}

svn_mismatch if {
    some fragment in candidate_fragments
    fragment.issuer == input.issuer
    fragment.feed == input.feed
    input.fragment_loaded
    semver.is_valid(data[input.namespace].svn)
    to_number(fragment.minimum_svn)
}

# Header SVN is always a number, not semver
svn_mismatch if {
    some fragment in candidate_fragments
    fragment.issuer == input.issuer
    fragment.feed == input.feed
    input.fragment_loaded
    semver.is_valid(fragment.minimum_svn)
    input.has_header_svn
}

default header_svn_not_match_fragment := false

header_svn_not_match_fragment if {
    input.has_header_svn
    some fragment in candidate_fragments
    fragment.issuer == input.issuer
    fragment.feed == input.feed
    input.fragment_loaded
    data[input.namespace].svn
    to_number(data[input.namespace].svn) != to_number(input.header_svn)
}

default missing_svn := false

missing_svn if {
    not input.has_header_svn
    some fragment in candidate_fragments
    fragment.issuer == input.issuer
    fragment.feed == input.feed
    input.fragment_loaded
    not data[input.namespace].svn
}

errors contains "fragment svn is below the specified minimum" if {
    input.rule == "load_fragment"
    fragment_feed_matches
    input.fragment_loaded
    not svn_mismatch
    not fragment_version_is_valid
}

errors contains "fragment svn and the specified minimum are different types" if {
    input.rule == "load_fragment"
    fragment_feed_matches
    input.fragment_loaded
    svn_mismatch
}

errors contains svnMismatchError if {
    input.rule == "load_fragment"
    fragment_feed_matches
    input.fragment_loaded
    header_svn_not_match_fragment

    svnMismatchError := sprintf("svn in header %v does not match svn in fragment rego %v", [input.header_svn, data[input.namespace].svn])
}

errors contains "missing fragment svn in either header or rego payload" if {
    input.rule == "load_fragment"
    fragment_feed_matches
    input.fragment_loaded
    missing_svn
}

# This will result in one error per missing receipt requirement
errors contains receipt_error if {
    input.rule == "load_fragment"
    not input.fragment_loaded
    some fragment in candidate_fragments
    fragment_issuer_feed_ok(fragment)
    required := object.get(fragment, "required_receipts", [])
    some required_issuer in required
    not receipt_requirement_satisfied(required_issuer)
    receipt_error := sprintf("missing receipt from %s", [required_issuer])
}

default ttl_matches := false

ttl_matches if {
    some ttl in candidate_transparency_trust_lists
    ttl.issuer == input.issuer
    ttl.subject == input.subject
    svn_ok(input.svn, ttl.minimum_svn)
}

errors contains "no TTL candidate matches the provided TTL's issuer, subject and svn" if {
    input.rule == "load_transparency_trust_list"
    not ttl_matches
}

errors contains "The provided TTL does not contain any ledgers it is allowed to load" if {
    input.rule == "load_transparency_trust_list"
    ttl_matches
    ttl_ledgers := ttl_allowed_ledgers_for_issuer_subject_svn(input.issuer, input.subject, input.svn)
    allowed_ledgers := ttl_intersect_or_allow_all_if_wildcard(ttl_ledgers, input.ledgers)
    count(allowed_ledgers) == 0
}

errors contains "scratch already mounted at path" if {
    input.rule == "scratch_mount"
    scratch_mounted(input.target)
}

errors contains "unencrypted scratch not allowed" if {
    input.rule == "scratch_mount"
    not allow_unencrypted_scratch
    not input.encrypted
}

errors contains "no scratch at path to unmount" if {
    input.rule == "scratch_unmount"
    not scratch_mounted(input.unmountTarget)
}

errors contains "log provider not allowed by policy" if {
    input.rule == "log_provider"
    not log_provider.allowed
}

errors contains framework_version_error if {
    policy_framework_version == null
    framework_version_error := concat(" ", ["framework_version is missing. Current version:", version])
}

errors contains framework_version_error if {
    semver.compare(policy_framework_version, version) > 0
    framework_version_error := concat(" ", ["framework_version is ahead of the current version:", policy_framework_version, "is greater than", version])
}

errors contains fragment_framework_version_error if {
    input.rule == "load_fragment"
    input.fragment_loaded
    input.namespace
    fragment_framework_version == null
    fragment_framework_version_error := concat(" ", ["fragment framework_version is missing. Current version:", version])
}

errors contains fragment_framework_version_error if {
    input.rule == "load_fragment"
    input.fragment_loaded
    input.namespace
    semver.compare(fragment_framework_version, version) > 0
    fragment_framework_version_error := concat(" ", ["fragment framework_version is ahead of the current version:", fragment_framework_version, "is greater than", version])
}

errors contains "containers only distinguishable by allow_stdio_access" if {
    is_linux
    input.rule == "create_container"

     not container_started

    # narrow the matches based upon command, working directory, and
    # mount list
    possible_after_initial_containers := [container |
        container := data.metadata.matches[input.containerID][_]
        noNewPrivileges_ok(container.no_new_privileges)
        user_ok(container.user)
        privileged_ok(container.allow_elevated)
        workingDirectory_ok(container.working_dir)
        command_ok(container.command)
        mountList_ok(container.mounts, container.allow_elevated)
        seccomp_ok(container.seccomp_profile_sha256)
    ]

    count(possible_after_initial_containers) > 0

    # check to see if the environment variables match, dropping
    # them if allowed (and necessary)
    env_list := valid_envs_for_all(possible_after_initial_containers)
    possible_after_env_containers := [container |
        container := possible_after_initial_containers[_]
        envList_ok(container.env_rules, env_list)
    ]

    count(possible_after_env_containers) > 0

    # check to see if the capabilities variables match, dropping
    # them if allowed (and necessary)
    caps_list := valid_caps_for_all(possible_after_env_containers, input.privileged)
    possible_after_caps_containers := [container |
        container := possible_after_env_containers[_]
        caps_ok(get_capabilities(container, input.privileged), caps_list)
    ]

    count(possible_after_caps_containers) > 0

    # set final container list
    containers := possible_after_caps_containers

    allow_stdio_access := containers[0].allow_stdio_access
    some c in containers
    c.allow_stdio_access != allow_stdio_access
}

errors contains "containers only distinguishable by allow_stdio_access" if {
    is_windows
    input.rule == "create_container"

    not container_started

    # narrow the matches based upon command, working directory, and
    # mount list
    possible_after_initial_containers := [container |
        container := data.metadata.matches[input.containerID][_]
        # NB any change to these narrowing conditions should be reflected in
        # the error handling, such that error messaging correctly reflects
        # the narrowing process.
        user_ok(container.user)
        workingDirectory_ok(container.working_dir)
        command_ok(container.command)
    ]

    count(possible_after_initial_containers) > 0

    # check to see if the environment variables match, dropping
    # them if allowed (and necessary)
    env_list := valid_envs_for_all(possible_after_initial_containers)
    possible_after_env_containers := [container |
        container := possible_after_initial_containers[_]
        envList_ok(container.env_rules, env_list)
    ]

    count(possible_after_env_containers) > 0

    # set final container list
    containers := possible_after_env_containers

    allow_stdio_access := containers[0].allow_stdio_access
    some c in containers
    c.allow_stdio_access != allow_stdio_access
}

errors contains "external processes only distinguishable by allow_stdio_access" if {
    input.rule == "exec_external"

    possible_processes := [process |
        process := candidate_external_processes[_]
        workingDirectory_ok(process.working_dir)
        command_ok(process.command)
    ]

    count(possible_processes) > 0

    # check to see if the environment variables match, dropping
    # them if allowed (and necessary)
    env_list := valid_envs_for_all(possible_processes)
    processes := [process |
        process := possible_processes[_]
        envList_ok(process.env_rules, env_list)
    ]

    count(processes) > 0

    allow_stdio_access := processes[0].allow_stdio_access
    some p in processes
    p.allow_stdio_access != allow_stdio_access
}


default noNewPrivileges_matches := false

noNewPrivileges_matches if {
    input.rule == "create_container"
    some container in data.metadata.matches[input.containerID]
    noNewPrivileges_ok(container.no_new_privileges)
}

noNewPrivileges_matches if {
    input.rule == "exec_in_container"
    some container in data.metadata.matches[input.containerID]
    some process in container.exec_processes
    command_ok(process.command)
    workingDirectory_ok(process.working_dir)
    noNewPrivileges_ok(process.no_new_privileges)
}

errors contains "invalid noNewPrivileges" if {
    is_linux
    input.rule in ["create_container", "exec_in_container"]
    not noNewPrivileges_matches
}

default user_matches := false

user_matches if {
    input.rule == "create_container"
    some container in data.metadata.matches[input.containerID]
    user_ok(container.user)
}

user_matches if {
    input.rule == "exec_in_container"
    some container in data.metadata.matches[input.containerID]
    some process in container.exec_processes
    command_ok(process.command)
    workingDirectory_ok(process.working_dir)
    user_ok(process.user)
}

errors contains "invalid user" if {
    input.rule in ["create_container", "exec_in_container"]
    not user_matches
}

errors contains "capabilities don't match" if {
    is_linux
    input.rule == "create_container"

    not container_started

    possible_after_initial_containers := [container |
        container := data.metadata.matches[input.containerID][_]
        privileged_ok(container.allow_elevated)
        noNewPrivileges_ok(container.no_new_privileges)
        user_ok(container.user)
        workingDirectory_ok(container.working_dir)
        command_ok(container.command)
        mountList_ok(container.mounts, container.allow_elevated)
        seccomp_ok(container.seccomp_profile_sha256)
    ]

    count(possible_after_initial_containers) > 0

    # check to see if the environment variables match, dropping
    # them if allowed (and necessary)
    env_list := valid_envs_for_all(possible_after_initial_containers)
    possible_after_env_containers := [container |
        container := possible_after_initial_containers[_]
        envList_ok(container.env_rules, env_list)
    ]

    count(possible_after_env_containers) > 0

    # check to see if the capabilities variables match, dropping
    # them if allowed (and necessary)
    caps_list := valid_caps_for_all(possible_after_env_containers, input.privileged)
    possible_after_caps_containers := [container |
        container := possible_after_env_containers[_]
        caps_ok(get_capabilities(container, input.privileged), caps_list)
    ]

    count(possible_after_caps_containers) == 0
}

errors contains "capabilities don't match" if {
    is_linux
    input.rule == "exec_in_container"

    container_started

    possible_after_initial_containers := [container |
        container := data.metadata.matches[input.containerID][_]
        workingDirectory_ok(container.working_dir)
        noNewPrivileges_ok(container.no_new_privileges)
        user_ok(container.user)
        some process in container.exec_processes
        command_ok(process.command)
    ]

    count(possible_after_initial_containers) > 0

    # check to see if the environment variables match, dropping
    # them if allowed (and necessary)
    env_list := valid_envs_for_all(possible_after_initial_containers)
    possible_after_env_containers := [container |
        container := possible_after_initial_containers[_]
        envList_ok(container.env_rules, env_list)
    ]

    count(possible_after_env_containers) > 0

    # check to see if the capabilities variables match, dropping
    # them if allowed (and necessary)
    caps_list := valid_caps_for_all(possible_after_env_containers, container_privileged)
    possible_after_caps_containers := [container |
        container := possible_after_env_containers[_]
        caps_ok(get_capabilities(container, container_privileged), caps_list)
    ]

    count(possible_after_caps_containers) == 0
}

errors contains "devices not supported" if {
    is_linux
    input.rule == "create_container"
    not devices_ok([], input.devices)
}

# covers exec_in_container as well. it shouldn't be possible to ever get
# an exec_in_container as it "inherits" capabilities rules from create_container
errors contains "containers only distinguishable by capabilties" if {
    is_linux
    input.rule == "create_container"

    allow_capability_dropping
    not container_started

    # narrow the matches based upon command, working directory, and
    # mount list
    possible_after_initial_containers := [container |
        container := data.metadata.matches[input.containerID][_]
        # NB any change to these narrowing conditions should be reflected in
        # the error handling, such that error messaging correctly reflects
        # the narrowing process.
        noNewPrivileges_ok(container.no_new_privileges)
        user_ok(container.user)
        privileged_ok(container.allow_elevated)
        workingDirectory_ok(container.working_dir)
        command_ok(container.command)
        mountList_ok(container.mounts, container.allow_elevated)
    ]

    count(possible_after_initial_containers) > 0

    # check to see if the environment variables match, dropping
    # them if allowed (and necessary)
    env_list := valid_envs_for_all(possible_after_initial_containers)
    possible_after_env_containers := [container |
        container := possible_after_initial_containers[_]
        envList_ok(container.env_rules, env_list)
    ]

    count(possible_after_env_containers) > 0

    largest := largest_caps_sets_for_all(possible_after_env_containers, input.privileged)
    not all_caps_sets_are_equal(largest)
}

default seccomp_matches := false

seccomp_matches if {
    input.rule == "create_container"
    some container in data.metadata.matches[input.containerID]
    seccomp_ok(container.seccomp_profile_sha256)
}

errors contains "invalid seccomp" if {
    is_linux
    input.rule == "create_container"
    not seccomp_matches
}

default error_objects := null

error_objects := containers if {
    input.rule == "create_container"
    containers := data.metadata.matches[input.containerID]
}

error_objects := processes if {
    input.rule == "exec_in_container"
    processes := [process |
        container := data.metadata.matches[input.containerID][_]
        process := container.exec_processes[_]
    ]
}

error_objects := processes if {
    input.rule == "exec_external"
    processes := candidate_external_processes
}

error_objects := fragments if {
    input.rule == "load_fragment"
    fragments := candidate_fragments
}


################################################################################
# Logic for providing backwards compatibility for framework data objects
################################################################################


check_container(raw_container, framework_version) := container if {
    semver.compare(framework_version, version) == 0
    container := raw_container
}

check_container(raw_container, framework_version) := container if {
    semver.compare(framework_version, version) < 0
    container := {
        # Base fields
        "command": raw_container.command,
        "env_rules": raw_container.env_rules,
        "layers": raw_container.layers,
        "mounts": raw_container.mounts,
        "allow_elevated": raw_container.allow_elevated,
        "working_dir": raw_container.working_dir,
        "exec_processes": raw_container.exec_processes,
        "signals": check_signals(raw_container, framework_version),
        "allow_stdio_access": raw_container.allow_stdio_access,
        # Additional fields need to have default logic applied
        "no_new_privileges": check_no_new_privileges(raw_container, framework_version),
        "user": check_user(raw_container, framework_version),
        "capabilities": check_capabilities(raw_container, framework_version),
        "seccomp_profile_sha256": check_seccomp_profile_sha256(raw_container, framework_version),
    }
}

check_no_new_privileges(raw_container, framework_version) := no_new_privileges if {
    semver.compare(framework_version, "0.2.0") >= 0
    no_new_privileges := raw_container.no_new_privileges
}

check_no_new_privileges(raw_container, framework_version) := no_new_privileges if {
    semver.compare(framework_version, "0.2.0") < 0
    no_new_privileges := false
}

check_user(raw_container, framework_version) := user if {
    semver.compare(framework_version, "0.2.1") >= 0
    user := raw_container.user
}

check_user(raw_container, framework_version) := user if {
    semver.compare(framework_version, "0.2.1") < 0
    user := {
        "umask": "0022",
        "user_idname": {
            "pattern": "",
            "strategy": "any"
        },
        "group_idnames": [
            {
                "pattern": "",
                "strategy": "any"
            }
        ]
    }
}

check_capabilities(raw_container, framework_version) := capabilities if {
    semver.compare(framework_version, "0.2.2") >= 0
    capabilities := raw_container.capabilities
}

check_capabilities(raw_container, framework_version) := capabilities if {
    semver.compare(framework_version, "0.2.2") < 0
    # we cannot determine a reasonable default at the time this is called,
    # which is either during `mount_overlay` or `load_fragment`, and so
    # we set it to `null`, which indicates that the capabilities should
    # be determined dynamically when needed.
    capabilities := null
}

check_seccomp_profile_sha256(raw_container, framework_version) := seccomp_profile_sha256 if {
    semver.compare(framework_version, "0.2.3") >= 0
    seccomp_profile_sha256 := raw_container.seccomp_profile_sha256
}

check_seccomp_profile_sha256(raw_container, framework_version) := seccomp_profile_sha256 if {
    semver.compare(framework_version, "0.2.3") < 0
    seccomp_profile_sha256 := ""
}

check_signals(raw_container, framework_version) := signals if {
    semver.compare(framework_version, "0.4.1") >= 0
    signals := raw_container.signals
}

check_signals(raw_container, framework_version) := signals if {
    semver.compare(framework_version, "0.4.1") < 0
    signals := array.concat(raw_container.signals, [9, 15])
}

check_external_process(raw_process, framework_version) := process if {
    semver.compare(framework_version, version) == 0
    process := raw_process
}

check_external_process(raw_process, framework_version) := process if {
    semver.compare(framework_version, version) < 0
    process := {
        # Base fields
        "command": raw_process.command,
        "env_rules": raw_process.env_rules,
        "working_dir": raw_process.working_dir,
        "allow_stdio_access": raw_process.allow_stdio_access,
        # Additional fields need to have default logic applied
    }
}

check_fragment(raw_fragment, framework_version) := fragment if {
    semver.compare(framework_version, version) == 0
    fragment := raw_fragment
}

check_fragment(raw_fragment, framework_version) := fragment if {
    semver.compare(framework_version, version) < 0
    fragment := {
        # Base fields
        "issuer": raw_fragment.issuer,
        "feed": raw_fragment.feed,
        "minimum_svn": raw_fragment.minimum_svn,
        "includes": raw_fragment.includes,

        # required_receipts was added in 0.5.0. Older policies default to
        # [], i.e. no transparency receipts are required, but if any is
        # specified, even when the policy has an older framework_version, we
        # respect it since it is restrictive.
        "required_receipts": object.get(raw_fragment, "required_receipts", []),

        # The "parameters" field was added in 0.5.0, but we really do not want
        # to silently ignore it if is provided in a policy mistakenly using an
        # older framework_version, since it is restrictive.  Therefore, instead
        # of doing a check_fragment_parameters function which returns {} if the
        # policy's framework_version is lower, we simply do an object.get to
        # default it, but set the value if it exists.
        "parameters": object.get(raw_fragment, "parameters", {}),

        # Additional fields need to have default logic applied
    }
}

# base policy-level flags
allow_properties_access := data.policy.allow_properties_access
allow_dump_stacks := data.policy.allow_dump_stacks
allow_runtime_logging := data.policy.allow_runtime_logging
allow_environment_variable_dropping := data.policy.allow_environment_variable_dropping
allow_unencrypted_scratch := data.policy.allow_unencrypted_scratch
allow_log_provider_dropping := data.policy.allow_log_provider_dropping
allow_host_network := data.policy.allow_host_network

# all flags not in the base set need to have default logic applied

default allow_capability_dropping := false

allow_capability_dropping := flag if {
    semver.compare(policy_framework_version, "0.2.2") >= 0
    flag := data.policy.allow_capability_dropping
}

default policy_framework_version := null
default policy_api_version := null

policy_framework_version := data.policy.framework_version
policy_api_version := data.policy.api_version

# deprecated
policy_framework_version := data.policy.framework_svn
policy_api_version := data.policy.api_svn
fragment_framework_version := data[input.namespace].framework_svn
