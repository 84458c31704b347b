// Package buildinfo describes the running binary from what the Go
// toolchain embeds in it: the module version and the version-control
// revision, time and state of the tree it was built from. Both esimd and
// esimctl print it with their version command, so that a bug report names
// the exact build.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// Info is one binary's build.
type Info struct {
	Program string `json:"program"`
	// Module is the main module's path; Version its version: a tag such
	// as v1.2.0 for "go install …@v1.2.0", "(devel)" for a build inside a
	// checkout.
	Module  string `json:"module"`
	Version string `json:"version"`
	// Revision, Time and Modified come from the checkout a build was made
	// in (empty when built outside one, or with -buildvcs=false).
	Revision  string    `json:"revision,omitempty"`
	Time      time.Time `json:"time,omitzero"`
	Modified  bool      `json:"modified"`
	GoVersion string    `json:"goVersion"`
}

// Read describes the running binary, named program.
func Read(program string) Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Program: program, Version: "unknown", GoVersion: runtime.Version()}
	}
	return FromBuildInfo(program, bi)
}

// FromBuildInfo describes the build bi.
func FromBuildInfo(program string, bi *debug.BuildInfo) Info {
	i := Info{Program: program, Module: bi.Main.Path, Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if i.Version == "" {
		i.Version = "unknown" // a test binary has no main module version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
		case "vcs.time":
			i.Time, _ = time.Parse(time.RFC3339, s.Value)
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	return i
}

// String is one line: "esimd v1.2.0 (revision 0123abcd…, 2026-12-01T10:00:00Z, modified) go1.26.0".
func (i Info) String() string {
	var b strings.Builder
	b.WriteString(i.Program + " " + i.Version)
	var vcs []string
	if i.Revision != "" {
		vcs = append(vcs, "revision "+i.Revision)
	}
	if !i.Time.IsZero() {
		vcs = append(vcs, i.Time.UTC().Format(time.RFC3339))
	}
	if i.Modified {
		vcs = append(vcs, "modified")
	}
	if len(vcs) > 0 {
		b.WriteString(" (" + strings.Join(vcs, ", ") + ")")
	}
	if i.GoVersion != "" {
		b.WriteString(" " + i.GoVersion)
	}
	return b.String()
}
