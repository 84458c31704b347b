package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/esimd/esimd/internal/completion"
)

// secretEnv sets every variable that may hold a secret to a sentinel that
// must never appear in help.
var secretEnv = map[string]string{
	"ESIMD_DB":                "postgres://esimd:SENTINEL-DB-PASSWORD@db.example:5432/esimd",
	"ESIMD_ADMIN_TOKEN":       "SENTINEL-ADMIN-TOKEN",
	"ESIMD_SECRET_KEY":        "SENTINEL-SECRET-KEY",
	"ESIMD_BOOTSTRAP_API_KEY": "SENTINEL-BOOTSTRAP-KEY",
	"ESIMD_SEAL_API_KEY":      "SENTINEL-SEAL-KEY",
	"ESIMD_API_KEY":           "SENTINEL-API-KEY",
	"ESIMD_ADDR":              "SENTINEL-ADDR:1",
	"ESIMD_LOG_LEVEL":         "SENTINEL-LEVEL",
}

// helpInvocations is every way to ask for help of every command and
// subcommand.
func helpInvocations() [][]string {
	out := [][]string{{"-h"}, {"--help"}, {"help"}}
	for _, c := range commands() {
		out = append(out, []string{c.name, "-h"}, []string{c.name, "--help"}, []string{"help", c.name})
		for _, s := range c.subs {
			out = append(out, []string{c.name, s.name, "-h"}, []string{c.name, s.name, "--help"},
				[]string{"help", c.name, s.name}, []string{c.name, "help", s.name})
		}
	}
	return out
}

func TestHelpNeverPrintsSecrets(t *testing.T) {
	for _, args := range helpInvocations() {
		var stdout, stderr syncBuffer
		err := run(t.Context(), args, getenvFrom(secretEnv), &stdout, &stderr)
		out := stdout.String() + stderr.String()
		if err != nil || exitCode(err) != 0 {
			t.Errorf("esimd %s: %v (exit %d), want help and exit 0\n%s", strings.Join(args, " "), err, exitCode(err), out)
		}
		if stdout.String() == "" || stderr.String() != "" {
			t.Errorf("esimd %s: help belongs on stdout alone; stdout %q, stderr %q", strings.Join(args, " "), stdout.String(), stderr.String())
		}
		for k, v := range secretEnv {
			secret := v
			if k == "ESIMD_DB" {
				secret = "SENTINEL-DB-PASSWORD"
			}
			if strings.Contains(out, secret) {
				t.Errorf("esimd %s prints the value of %s:\n%s", strings.Join(args, " "), k, out)
			}
		}
	}
	var stdout, stderr syncBuffer
	if err := run(t.Context(), []string{"serve", "-h"}, getenvFrom(secretEnv), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(set from ESIMD_ADMIN_TOKEN)", "(set from ESIMD_DB)", "(env ESIMD_RATE_LIMIT)"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("esimd serve -h does not say %q:\n%s", want, stdout.String())
		}
	}
}

func TestUsageMistakes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: nil, want: "name a command"},
		{args: []string{"frobnicate"}, want: `unknown command "frobnicate"`},
		{args: []string{"org"}, want: "name a command of esimd org"},
		{args: []string{"org", "frobnicate"}, want: `unknown org command "frobnicate"`},
		{args: []string{"help", "frobnicate"}, want: `unknown command "frobnicate"`},
		{args: []string{"completion", "tcsh"}, want: `unknown completion command "tcsh"`},
		{args: []string{"version", "extra"}, want: "version takes no arguments"},
		// A variable is read after parsing; a bad one is named, its value is not repeated.
		{args: []string{"migrate"}, env: map[string]string{"ESIMD_LOG_LEVEL": "SENTINEL"}, want: `--log-level "SENTINEL"`},
		{args: []string{"serve", "--db", filepath.Join(t.TempDir(), "x.db")}, env: map[string]string{"ESIMD_RATE_LIMIT": "many"}, want: "ESIMD_RATE_LIMIT is not a valid --rate-limit"},
	} {
		var stdout, stderr syncBuffer
		err := run(t.Context(), tc.args, getenvFrom(tc.env), &stdout, &stderr)
		if !errors.Is(err, errUsage) || exitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("esimd %v: %v (exit %d), want a usage error saying %q", tc.args, err, exitCode(err), tc.want)
		}
		if stdout.String() != "" {
			t.Errorf("esimd %v wrote to stdout after a mistake:\n%s", tc.args, stdout.String())
		}
	}
}

func TestUsageNamesEveryCommand(t *testing.T) {
	for _, c := range commands() {
		if !strings.Contains(usage, "esimd "+c.name+" ") {
			t.Errorf("the usage text does not list %q", c.name)
		}
	}
}

func TestVersion(t *testing.T) {
	var stdout, stderr syncBuffer
	if err := run(t.Context(), []string{"version"}, getenvFrom(nil), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout.String(), "esimd ") || !strings.HasSuffix(stdout.String(), " "+runtime.Version()+"\n") {
		t.Errorf("esimd version = %q, want esimd, the version and %s", stdout.String(), runtime.Version())
	}
	stdout = syncBuffer{}
	if err := run(t.Context(), []string{"version", "--json"}, getenvFrom(nil), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	var v struct{ Program, Version, GoVersion string }
	if err := json.Unmarshal([]byte(stdout.String()), &v); err != nil || v.Program != "esimd" || v.Version == "" || v.GoVersion != runtime.Version() {
		t.Errorf("esimd version --json = %s (%v)", stdout.String(), err)
	}
}

func TestCompletionScripts(t *testing.T) {
	tree, err := env{}.commandTree(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	scripts := map[string]string{}
	for _, shell := range completion.Shells {
		var stdout, stderr syncBuffer
		if err := run(t.Context(), []string{"completion", shell}, getenvFrom(secretEnv), &stdout, &stderr); err != nil {
			t.Fatalf("completion %s: %v\n%s", shell, err, stderr.String())
		}
		script := stdout.String()
		scripts[shell] = script
		for _, secret := range []string{"SENTINEL-DB-PASSWORD", "SENTINEL-ADMIN-TOKEN"} {
			if strings.Contains(script, secret) {
				t.Errorf("the %s script holds a secret", shell)
			}
		}
		// Every command, subcommand and flag, each from the real flag set.
		for _, c := range commands() {
			if !strings.Contains(script, c.name) {
				t.Errorf("%s: no command %s", shell, c.name)
			}
			for _, s := range c.subs {
				if !strings.Contains(script, "/"+c.name+"/"+s.name) {
					t.Errorf("%s: no %s %s", shell, c.name, s.name)
				}
			}
		}
		for _, c := range tree.Subs {
			nodes := append([]completion.Command{c}, c.Subs...)
			for _, n := range nodes {
				if len(n.Subs) == 0 && len(n.Flags) == 0 && c.Name != "completion" {
					t.Errorf("esimd %s %s has no flags in the tree", c.Name, n.Name)
				}
				for _, f := range n.Flags {
					if !strings.Contains(script, f.Name) {
						t.Errorf("%s: no flag --%s of %s %s", shell, f.Name, c.Name, n.Name)
					}
				}
			}
		}
	}
	flagsOfSub := func(cmd, sub string) map[string]bool {
		for _, c := range tree.Subs {
			for _, s := range c.Subs {
				if c.Name == cmd && s.Name == sub {
					m := map[string]bool{}
					for _, f := range s.Flags {
						m[f.Name] = true
					}
					return m
				}
			}
		}
		return nil
	}
	if f := flagsOfSub("org", "create"); !f["name"] || !f["balance"] || !f["db"] || f["amount"] {
		t.Errorf("org create flags = %v, want its own (name, balance, db) and not credit's", f)
	}

	// bash completes as a person would see it.
	if _, err := exec.LookPath("bash"); err == nil {
		for _, tc := range []struct {
			words []string
			want  string
			not   string
		}{
			{words: []string{"esimd", ""}, want: "serve migrate copy backup restore org apikey catalogue pool callbacks version completion"},
			{words: []string{"esimd", "or"}, want: "org"},
			{words: []string{"esimd", "org", "c"}, want: "create credit"},
			{words: []string{"esimd", "org", "credit", "--am"}, want: "--amount"},
			{words: []string{"esimd", "--db", "x.db", "serve", "--admin"}, want: "--admin-token"},
			{words: []string{"esimd", "completion", ""}, want: "bash zsh fish"},
			{words: []string{"esimd", "pool", "import", "--csv", ""}, want: ""}, // file names, from -o default
		} {
			script := filepath.Join(t.TempDir(), "esimd.bash")
			if err := os.WriteFile(script, []byte(scripts["bash"]), 0o644); err != nil {
				t.Fatal(err)
			}
			words := make([]string, len(tc.words))
			for i, w := range tc.words {
				words[i] = "'" + w + "'"
			}
			prog := "source " + script + "; COMP_WORDS=(" + strings.Join(words, " ") + "); COMP_CWORD=" + strconv.Itoa(len(words)-1) + "; _esimd; echo \"${COMPREPLY[*]}\""
			out, err := exec.Command("bash", "--norc", "--noprofile", "-c", prog).CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, out)
			}
			if got := strings.TrimSpace(string(out)); got != tc.want {
				t.Errorf("completing %q: %q, want %q", tc.words, got, tc.want)
			}
		}
	}
	// The other shells check the syntax, where installed.
	for shell, check := range map[string][]string{"zsh": {"-n"}, "fish": {"--no-execute"}} {
		if _, err := exec.LookPath(shell); err != nil {
			t.Logf("%s is not installed; its script is checked for content only", shell)
			continue
		}
		script := filepath.Join(t.TempDir(), "esimd."+shell)
		if err := os.WriteFile(script, []byte(scripts[shell]), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(shell, append(check, script)...).CombinedOutput(); err != nil {
			t.Errorf("%s %v: %v\n%s", shell, check, err, out)
		}
		if shell == "fish" { // fish completes a line on request
			out, err := exec.Command("fish", "--no-config", "-c", "source "+script+"; complete -C 'esimd org cr'").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "create\t") || !strings.Contains(string(out), "credit\t") {
				t.Errorf("fish completing %q: %v\n%s", "esimd org cr", err, out)
			}
		}
	}
}

// TestEnvironmentFillsFlags checks that variables still work now that
// they are read after parsing, and that a flag wins over its variable.
func TestEnvironmentFillsFlags(t *testing.T) {
	dir := t.TempDir()
	fromEnv, fromFlag := filepath.Join(dir, "env.db"), filepath.Join(dir, "flag.db")
	env := map[string]string{"ESIMD_DB": fromEnv}
	for _, args := range [][]string{{"migrate"}, {"migrate", "--db", fromFlag}} {
		var stdout, stderr syncBuffer
		if err := run(t.Context(), args, getenvFrom(env), &stdout, &stderr); err != nil {
			t.Fatalf("esimd %v: %v\n%s", args, err, stderr.String())
		}
	}
	for _, path := range []string{fromEnv, fromFlag} {
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s was not created: %v", path, err)
		}
	}
}
