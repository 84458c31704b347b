package buildinfo_test

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/buildinfo"
)

func TestFromBuildInfo(t *testing.T) {
	for _, tc := range []struct {
		name string
		bi   debug.BuildInfo
		want buildinfo.Info
		line string
	}{
		{
			name: "installed at a tag",
			bi: debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/esimd/esimd", Version: "v1.2.0"},
				Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "false"}}},
			want: buildinfo.Info{Program: "esimd", Module: "github.com/esimd/esimd", Version: "v1.2.0", Revision: "0123abcd",
				Time: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), GoVersion: "go1.26.0"},
			line: "esimd v1.2.0 (revision 0123abcd, 2026-12-01T10:00:00Z) go1.26.0",
		},
		{
			name: "built in a checkout with changes",
			bi: debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/esimd/esimd", Version: "(devel)"},
				Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "fedcba98"}, {Key: "vcs.modified", Value: "true"}}},
			want: buildinfo.Info{Program: "esimd", Module: "github.com/esimd/esimd", Version: "(devel)", Revision: "fedcba98", Modified: true, GoVersion: "go1.26.0"},
			line: "esimd (devel) (revision fedcba98, modified) go1.26.0",
		},
		{
			name: "no version control",
			bi:   debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/esimd/esimd"}},
			want: buildinfo.Info{Program: "esimd", Module: "github.com/esimd/esimd", Version: "unknown", GoVersion: "go1.26.0"},
			line: "esimd unknown go1.26.0",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := buildinfo.FromBuildInfo("esimd", &tc.bi)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Info (-want +got):\n%s", diff)
			}
			if got.String() != tc.line {
				t.Errorf("String() = %q, want %q", got.String(), tc.line)
			}
		})
	}
}

func TestReadNamesTheToolchain(t *testing.T) {
	i := buildinfo.Read("esimctl")
	if i.GoVersion != runtime.Version() || !strings.HasPrefix(i.String(), "esimctl ") {
		t.Errorf("Read = %+v (%s), want the running toolchain %s", i, i, runtime.Version())
	}
}
