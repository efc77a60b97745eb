//go:build dp018

package main

// v0.18.x (read at v0.18.2): gdrcopy/gds/mofed flags default to true (v0.18.0 and
// v0.18.1 defaulted them to false, which changes no verdict); sleep-interval is
// still a plain Go duration.

import (
	"time"

	spec "github.com/NVIDIA/k8s-device-plugin/api/config/v1"
	cli "github.com/urfave/cli/v2"
)

const useNodeFeatureAPIDefault = false

func enabledFlags() []cli.Flag {
	return []cli.Flag{
		boolean("gdrcopy-enabled", true, "GDRCOPY_ENABLED"),
		boolean("gds-enabled", true, "GDS_ENABLED"),
		boolean("mofed-enabled", true, "MOFED_ENABLED"),
	}
}

func sleepIntervalFlag() cli.Flag {
	return &cli.DurationFlag{Name: "sleep-interval", Value: 60 * time.Second, EnvVars: []string{"GFD_SLEEP_INTERVAL"}}
}

func disableResourceNaming(config *spec.Config) { spec.DisableResourceNamingInConfig(config) }
