package main

// Flags whose table is the same in every release read (v0.17.x - v0.19.x).

import (
	spec "github.com/NVIDIA/k8s-device-plugin/api/config/v1"
	cli "github.com/urfave/cli/v2"
)

// The device plugin's flags that map onto the config (kubelet-socket and
// cdi-feature-flags do not), from cmd/nvidia-device-plugin/main.go. The three
// *-enabled booleans differ per release: see enabledFlags.
func pluginFlags() []cli.Flag {
	flags := []cli.Flag{
		str("mig-strategy", spec.MigStrategyNone, "MIG_STRATEGY"),
		boolean("fail-on-init-error", true, "FAIL_ON_INIT_ERROR"),
		alias(str("driver-root", "/", "NVIDIA_DRIVER_ROOT"), "nvidia-driver-root"),
		alias(str("dev-root", "", "NVIDIA_DEV_ROOT"), "nvidia-dev-root"),
		boolean("pass-device-specs", false, "PASS_DEVICE_SPECS"),
		strs("device-list-strategy", []string{spec.DeviceListStrategyEnvVar}, "DEVICE_LIST_STRATEGY"),
		str("device-id-strategy", spec.DeviceIDStrategyUUID, "DEVICE_ID_STRATEGY"),
	}
	flags = append(flags, enabledFlags()...)
	flags = append(flags, releasePluginFlags()...)
	return append(flags,
		str("cdi-annotation-prefix", spec.DefaultCDIAnnotationPrefix, "CDI_ANNOTATION_PREFIX"),
		alias(str("nvidia-cdi-hook-path", spec.DefaultNvidiaCTKPath, "NVIDIA_CDI_HOOK_PATH", "NVIDIA_CTK_PATH"), "nvidia-ctk-path"),
		alias(str("driver-root-ctr-path", spec.DefaultContainerDriverRoot, "DRIVER_ROOT_CTR_PATH", "CONTAINER_DRIVER_ROOT"), "container-driver-root"),
		str("mps-root", "", "MPS_ROOT"),
		str("device-discovery-strategy", "auto", "DEVICE_DISCOVERY_STRATEGY"),
		ints("imex-channel-ids", "IMEX_CHANNEL_IDS"),
		boolean("imex-required", false, "IMEX_REQUIRED"),
		str("config-file", "", "CONFIG_FILE"),
	)
}

// GPU Feature Discovery's flags that map onto the config, from
// cmd/gpu-feature-discovery/main.go (its kube-client and node flags do not).
func gfdFlags() []cli.Flag {
	return []cli.Flag{
		str("mig-strategy", spec.MigStrategyNone, "GFD_MIG_STRATEGY", "MIG_STRATEGY"),
		boolean("fail-on-init-error", true, "GFD_FAIL_ON_INIT_ERROR", "FAIL_ON_INIT_ERROR"),
		boolean("oneshot", false, "GFD_ONESHOT"),
		boolean("no-timestamp", false, "GFD_NO_TIMESTAMP"),
		sleepIntervalFlag(),
		alias(str("output-file", "/etc/kubernetes/node-feature-discovery/features.d/gfd", "GFD_OUTPUT_FILE"), "output", "o"),
		str("machine-type-file", "/sys/class/dmi/id/product_name", "GFD_MACHINE_TYPE_FILE"),
		str("config-file", "", "GFD_CONFIG_FILE", "CONFIG_FILE"),
		boolean("use-node-feature-api", useNodeFeatureAPIDefault, "GFD_USE_NODE_FEATURE_API", "USE_NODE_FEATURE_API"),
		str("device-discovery-strategy", "auto", "DEVICE_DISCOVERY_STRATEGY"),
		alias(str("driver-root-ctr-path", spec.DefaultContainerDriverRoot, "DRIVER_ROOT_CTR_PATH", "CONTAINER_DRIVER_ROOT"), "container-driver-root"),
	}
}

// The MPS control daemon's flags, from cmd/mps-control-daemon/main.go.
func mpsDaemonFlags() []cli.Flag {
	return []cli.Flag{
		str("config-file", "", "CONFIG_FILE"),
		str("mig-strategy", spec.MigStrategyNone, "MIG_STRATEGY"),
	}
}
