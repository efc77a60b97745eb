//go:build dp019 || dp020 || !(dp017 || dp018)

package main

// v0.19.x (read at v0.19.1; v0.19.0 is the same; also the base of the v0.20 emulation): sleep-interval also takes
// "infinite", and GFD publishes through the NodeFeature API by default.

import (
	"time"

	spec "github.com/NVIDIA/k8s-device-plugin/api/config/v1"
	cli "github.com/urfave/cli/v2"
)

const useNodeFeatureAPIDefault = true

func enabledFlags() []cli.Flag {
	return []cli.Flag{
		boolean("gdrcopy-enabled", true, "GDRCOPY_ENABLED"),
		boolean("gds-enabled", true, "GDS_ENABLED"),
		boolean("mofed-enabled", true, "MOFED_ENABLED"),
	}
}

func sleepIntervalFlag() cli.Flag {
	return &cli.GenericFlag{Name: "sleep-interval", Value: spec.NewDurationValue(60 * time.Second), EnvVars: []string{"GFD_SLEEP_INTERVAL"}}
}

func disableResourceNaming(config *spec.Config) { spec.DisableResourceNamingInConfig(config) }
