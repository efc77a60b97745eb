//go:build dp017

package main

// v0.17.x (read at v0.17.4; v0.17.2 and v0.17.3 are the same): no gdrcopy flag, the
// gds/mofed flags default to false, sleep-interval is a plain Go duration, and
// DisableResourceNamingInConfig takes a logger.

import (
	"time"

	spec "github.com/NVIDIA/k8s-device-plugin/api/config/v1"
	cli "github.com/urfave/cli/v2"
	"k8s.io/klog/v2"
)

const useNodeFeatureAPIDefault = false

func enabledFlags() []cli.Flag {
	return []cli.Flag{
		boolean("gds-enabled", false, "GDS_ENABLED"),
		boolean("mofed-enabled", false, "MOFED_ENABLED"),
	}
}

func sleepIntervalFlag() cli.Flag {
	return &cli.DurationFlag{Name: "sleep-interval", Value: 60 * time.Second, EnvVars: []string{"GFD_SLEEP_INTERVAL"}}
}

type klogWarner struct{}

func (klogWarner) Warning(args ...interface{})                 { klog.Warning(args...) }
func (klogWarner) Warningf(format string, args ...interface{}) { klog.Warningf(format, args...) }

func disableResourceNaming(config *spec.Config) {
	spec.DisableResourceNamingInConfig(klogWarner{}, config)
}
