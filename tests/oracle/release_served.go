//go:build !dp020

package main

// Releases the module proxy serves (v0.17 - v0.19): the config is exactly what
// NVIDIA's spec.NewConfig decodes, and there is nothing to add.

import cli "github.com/urfave/cli/v2"

const emulated = ""

type releaseConfig struct{}

func releasePluginFlags() []cli.Flag { return nil }

func loadReleaseConfig(*cli.Context) (*releaseConfig, error) { return &releaseConfig{}, nil }

func validateReleaseFlags(*releaseConfig) error { return nil }
