// Command deviceplugin-oracle reads NVIDIA k8s-device-plugin config files the way the
// config's consumers (device plugin, GPU Feature Discovery, MPS control daemon) read
// them at start, and prints one JSON line per file:
//
//	{"file":"x.yaml","version":"v0.19.1","verdict":"ok|error","message":"...",
//	 "plugin":"ok","gfd":"ok","mps":"ok","warnings":[...]}
//
// Parsing and decoding are NVIDIA's own: api/config/v1.NewConfig, called through
// urfave/cli with each consumer's command-line flags, exactly as the consumers do.
// What the consumers check in their (unexported) main packages after loading is
// reproduced in checks.go, each check naming the upstream function it mirrors.
// The flag tables of each release are in flags_v0*.go, selected by a build tag.
//
// Usage: deviceplugin-oracle [-env NAME=VALUE]... [-compute-capability 8.0] FILE...
//
// Test-only code: it is never part of the operator.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
)

// Result is the verdict on one file. A consumer's field is "ok" or "error: <message>".
type Result struct {
	File     string   `json:"file"`
	Version  string   `json:"version"`
	Verdict  string   `json:"verdict"`
	Message  string   `json:"message,omitempty"`
	Plugin   string   `json:"plugin"`
	GFD      string   `json:"gfd"`
	MPS      string   `json:"mps"`
	Warnings []string `json:"warnings,omitempty"`
}

type envList []string

func (e *envList) String() string { return strings.Join(*e, ",") }
func (e *envList) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want NAME=VALUE, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

func main() {
	var env envList
	flag.Var(&env, "env", "NAME=VALUE in the environment of every consumer (repeatable); by default the consumers see none of their variables")
	cc := flag.String("compute-capability", "8.0", "compute capability of the node's GPUs, for the MPS control daemon's replica limit")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: %s [-env NAME=VALUE]... [-compute-capability X.Y] FILE...\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	silenceKlog()

	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	for _, file := range flag.Args() {
		r := Result{File: file, Version: upstreamVersion()}
		consumers := []struct {
			field *string
			name  string
			run   func(string) error
		}{
			{&r.Plugin, "plugin", runPlugin},
			{&r.GFD, "gfd", runGFD},
			{&r.MPS, "mps", func(f string) error { return runMPSDaemon(f, *cc) }},
		}
		r.Verdict = "ok"
		for _, c := range consumers {
			setEnvironment(env)
			takeWarnings() // a consumer's warnings are collected from here on
			err := c.run(file)
			r.Warnings = appendNew(r.Warnings, takeWarnings())
			if err == nil {
				*c.field = "ok"
				continue
			}
			*c.field = "error: " + err.Error()
			if r.Verdict == "ok" {
				r.Verdict, r.Message = "error", c.name+": "+err.Error()
			}
		}
		if err := out.Encode(r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// setEnvironment clears every variable any consumer flag reads, then sets the given ones.
func setEnvironment(env envList) {
	for _, name := range allEnvVars() {
		os.Unsetenv(name)
	}
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		os.Setenv(name, value)
	}
}

func appendNew(list, more []string) []string {
	for _, m := range more {
		seen := false
		for _, l := range list {
			seen = seen || l == m
		}
		if !seen {
			list = append(list, m)
		}
	}
	return list
}

// upstreamVersion is the version of NVIDIA's module this binary was built against.
func upstreamVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/NVIDIA/k8s-device-plugin" {
				return emulated + dep.Version
			}
		}
	}
	return "unknown"
}
