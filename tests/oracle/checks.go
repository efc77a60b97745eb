package main

// What each consumer does with a config file at start, up to the point where it
// would need a GPU. Loading is NVIDIA's spec.NewConfig; the checks that follow live in
// the consumers' main packages (not importable), so they are written again here with
// the upstream function named on each. They are the same in v0.17.x, v0.18.x and
// v0.19.x (compared release by release).

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	spec "github.com/NVIDIA/k8s-device-plugin/api/config/v1"
	cli "github.com/urfave/cli/v2"
	"golang.org/x/mod/semver"
	"k8s.io/klog/v2"
)

// loadConfig is spec.NewConfig plus what a release adds to the config that the module
// it was built from lacks (see release.go: nothing for v0.17 - v0.19).
func loadConfig(c *cli.Context, flags []cli.Flag) (*spec.Config, *releaseConfig, error) {
	config, err := spec.NewConfig(c, flags)
	if err != nil {
		return nil, nil, err
	}
	extra, err := loadReleaseConfig(c)
	if err != nil {
		return nil, nil, err
	}
	return config, extra, nil
}

// runApp runs a urfave/cli app over the consumer's flags with --config-file FILE, as
// the consumer's own main would, and calls load with the parsed context.
func runApp(flags []cli.Flag, file string, load func(*cli.Context) error) error {
	app := &cli.App{
		Name:        "oracle",
		Flags:       flags,
		Action:      load,
		HideHelp:    true,
		HideVersion: true,
		Writer:      io.Discard,
		ErrWriter:   io.Discard,
	}
	return app.Run([]string{"oracle", "--config-file", file})
}

// runPlugin: cmd/nvidia-device-plugin startPlugins -> loadConfig, then
// spec.DisableResourceNamingInConfig, then validateFlags. Everything after that
// (AddDefaultResourcesToConfig, GetPlugins) talks to NVML and is not reproduced.
func runPlugin(file string) error {
	flags := pluginFlags()
	return runApp(flags, file, func(c *cli.Context) error {
		config, extra, err := loadConfig(c, flags)
		if err != nil {
			return fmt.Errorf("unable to load config: unable to finalize config: %v", err)
		}
		config.Flags.GFD = nil
		disableResourceNaming(config)
		if err := validatePluginFlags(config); err != nil {
			return fmt.Errorf("unable to validate flags: %v", err)
		}
		if err := validateReleaseFlags(extra); err != nil {
			return fmt.Errorf("unable to validate flags: %v", err)
		}
		return nil
	})
}

// validatePluginFlags mirrors validateFlags of cmd/nvidia-device-plugin/main.go.
// Its NVML test (CDI list strategies need NVML) is taken as passed: a GPU node.
func validatePluginFlags(config *spec.Config) error {
	if _, err := spec.NewDeviceListStrategies(*config.Flags.Plugin.DeviceListStrategy); err != nil {
		return fmt.Errorf("invalid --device-list-strategy option: %v", err)
	}
	switch id := *config.Flags.Plugin.DeviceIDStrategy; id {
	case spec.DeviceIDStrategyUUID, spec.DeviceIDStrategyIndex:
	default:
		return fmt.Errorf("invalid --device-id-strategy option: %v", id)
	}
	mig := *config.Flags.MigStrategy
	if config.Sharing.SharingStrategy() == spec.SharingStrategyMPS {
		if mig == spec.MigStrategyMixed {
			return fmt.Errorf("using --mig-strategy=mixed is not supported with MPS")
		}
		if root := config.Flags.MpsRoot; root == nil || *root == "" {
			return fmt.Errorf("using MPS requires --mps-root to be specified")
		}
	}
	if s := *config.Flags.DeviceDiscoveryStrategy; !oneOf(s, "auto", "nvml", "tegra") {
		return fmt.Errorf("invalid --device-discovery-strategy option %v", s)
	}
	if !oneOf(mig, spec.MigStrategyNone, spec.MigStrategySingle, spec.MigStrategyMixed) {
		return fmt.Errorf("unknown MIG strategy: %v", mig)
	}
	if err := spec.AssertChannelIDsValid(config.Imex.ChannelIDs); err != nil {
		return fmt.Errorf("invalid IMEX channel IDs: %w", err)
	}
	return nil
}

// runGFD: cmd/gpu-feature-discovery start -> Config.loadConfig (NewConfig, then
// validateFlags), spec.DisableResourceNamingInConfig, then the labelers. Of the
// labelers only the MIG-strategy switch is decidable without a GPU; it is reached on
// every node that has one (internal/lm NewResourceLabeler -> newMigLabeler).
func runGFD(file string) error {
	flags := gfdFlags()
	return runApp(flags, file, func(c *cli.Context) error {
		config, _, err := loadConfig(c, flags)
		if err != nil {
			return fmt.Errorf("unable to load config: unable to finalize config: %v", err)
		}
		if s := *config.Flags.DeviceDiscoveryStrategy; !oneOf(s, "auto", "nvml", "tegra", "vfio") {
			return fmt.Errorf("unable to load config: unable to validate flags: invalid --device-discovery-strategy option %v", s)
		}
		disableResourceNaming(config)
		if mig := *config.Flags.MigStrategy; !oneOf(mig, spec.MigStrategyNone, spec.MigStrategySingle, spec.MigStrategyMixed) {
			return fmt.Errorf("error creating labeler: error creating resource labeler: failed to construct MIG resource labeler: unknown strategy: %v", mig)
		}
		return nil
	})
}

// runMPSDaemon: cmd/mps-control-daemon startDaemons -> loadConfig (its validateFlags
// checks nothing), then per shared full GPU mpsDevice.assertReplicas
// (cmd/mps-control-daemon/mps/device.go): at most 48 clients from compute capability
// 7.5, 16 below. Only nvidia.com/gpu entries ever match full GPUs.
func runMPSDaemon(file, computeCapability string) error {
	flags := mpsDaemonFlags()
	return runApp(flags, file, func(c *cli.Context) error {
		config, _, err := loadConfig(c, flags)
		if err != nil {
			return fmt.Errorf("unable to load config: unable to finalize config: %v", err)
		}
		config.Flags.GFD = nil
		disableResourceNaming(config)
		if config.Sharing.SharingStrategy() != spec.SharingStrategyMPS {
			return nil
		}
		limit := 16
		cc := "v" + strings.TrimPrefix(computeCapability, "v")
		if semver.Compare(semver.Canonical(cc), "v7.5.0") >= 0 {
			limit = 48
		}
		for _, r := range config.Sharing.MPS.Resources {
			if string(r.Name) == "nvidia.com/gpu" && r.Replicas > limit {
				return fmt.Errorf("error getting daemons: invalid MPS configuration: invalid device maximum allowed replicas exceeded: %d > %d", r.Replicas, limit)
			}
		}
		return nil
	})
}

func oneOf(s string, allowed ...string) bool {
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	return false
}

// klog carries the consumers' warnings (ignored rename/devices/resources). Warnings
// and above go to a buffer that takeWarnings drains; nothing reaches stderr.
var klogWarnings bytes.Buffer

func silenceKlog() {
	klog.LogToStderr(false)
	klog.SetOutputBySeverity("INFO", io.Discard)
	klog.SetOutputBySeverity("WARNING", &klogWarnings)
	klog.SetOutputBySeverity("ERROR", io.Discard)
	klog.SetOutputBySeverity("FATAL", io.Discard)
}

func takeWarnings() []string {
	klog.Flush()
	var out []string
	for _, line := range strings.Split(klogWarnings.String(), "\n") {
		if _, msg, ok := strings.Cut(line, "] "); ok {
			out = append(out, msg)
		}
	}
	klogWarnings.Reset()
	return out
}

// allEnvVars lists every variable a consumer flag reads, to start each run clean.
func allEnvVars() []string {
	var names []string
	for _, set := range [][]cli.Flag{pluginFlags(), gfdFlags(), mpsDaemonFlags()} {
		for _, f := range set {
			if e, ok := f.(interface{ GetEnvVars() []string }); ok {
				names = append(names, e.GetEnvVars()...)
			}
		}
	}
	return names
}

// Helpers for the flag tables of flags_v0*.go.
func str(name, value string, env ...string) *cli.StringFlag {
	return &cli.StringFlag{Name: name, Value: value, EnvVars: env}
}

func boolean(name string, value bool, env ...string) *cli.BoolFlag {
	return &cli.BoolFlag{Name: name, Value: value, EnvVars: env}
}

func strs(name string, value []string, env ...string) *cli.StringSliceFlag {
	return &cli.StringSliceFlag{Name: name, Value: cli.NewStringSlice(value...), EnvVars: env}
}

func ints(name string, env ...string) *cli.IntSliceFlag {
	return &cli.IntSliceFlag{Name: name, EnvVars: env}
}

func alias(f *cli.StringFlag, aliases ...string) *cli.StringFlag {
	f.Aliases = aliases
	return f
}
