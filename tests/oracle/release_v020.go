//go:build dp020

package main

// v0.20 EMULATED. The module proxy does not serve v0.20.x, so this variant is built
// from v0.19.1 (NVIDIA's parser, decoders and checks of that release) and adds what
// v0.20.0 changes on top, as described in NVIDIA's pull requests (#1621):
//
//   - flags.plugin.sharedDevicesAllocationPolicy, a string (a number, list or
//     mapping is a decoding error for every consumer, as for any *string flag);
//     the plugin's --shared-devices-allocation-policy / SHARED_DEVICES_ALLOCATION_POLICY
//     beats the file; the plugin accepts "distributed" (the default) and "packed".
//   - MPS failRequestsGreaterThanOne: false is honoured; that changes what the plugin
//     does at Allocate, not whether it starts, so no verdict depends on it here.
//
// The key is decoded the way spec.NewConfig decodes every flag (sigs.k8s.io/yaml to
// JSON, then encoding/json, keys matched case-insensitively), from the first YAML
// document of the file. Everything else is v0.19.1's.

import (
	"fmt"
	"os"

	cli "github.com/urfave/cli/v2"
	"sigs.k8s.io/yaml"
)

const emulated = "v0.20 emulated on "

type releaseConfig struct {
	sharedDevicesAllocationPolicy string
}

func releasePluginFlags() []cli.Flag {
	return []cli.Flag{str("shared-devices-allocation-policy", "distributed", "SHARED_DEVICES_ALLOCATION_POLICY")}
}

type v020File struct {
	Flags *struct {
		Plugin *struct {
			SharedDevicesAllocationPolicy *string `json:"sharedDevicesAllocationPolicy"`
		} `json:"plugin"`
	} `json:"flags"`
}

func loadReleaseConfig(c *cli.Context) (*releaseConfig, error) {
	out := &releaseConfig{sharedDevicesAllocationPolicy: "distributed"}
	if file := c.String("config-file"); file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("unable to parse config file: read error: %v", err)
		}
		var doc v020File
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("unable to parse config file: error parsing config file: unmarshal error: %v", err)
		}
		if doc.Flags != nil && doc.Flags.Plugin != nil && doc.Flags.Plugin.SharedDevicesAllocationPolicy != nil {
			out.sharedDevicesAllocationPolicy = *doc.Flags.Plugin.SharedDevicesAllocationPolicy
		}
	}
	if c.IsSet("shared-devices-allocation-policy") {
		out.sharedDevicesAllocationPolicy = c.String("shared-devices-allocation-policy")
	}
	return out, nil
}

func validateReleaseFlags(r *releaseConfig) error {
	if p := r.sharedDevicesAllocationPolicy; !oneOf(p, "distributed", "packed") {
		return fmt.Errorf("invalid --shared-devices-allocation-policy option: %v", p)
	}
	return nil
}
