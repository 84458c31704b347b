package main

import (
	"encoding/json"
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
	"ESIMD_API_KEY":     "SENTINEL-API-KEY",
	"ESIMD_ADMIN_TOKEN": "SENTINEL-ADMIN-TOKEN",
	"ESIMD_URL":         "https://operator:SENTINEL-URL-PASSWORD@esimd.example",
}

func runWith(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr syncBuffer
	err := run(t.Context(), args, func(k string) string { return env[k] }, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// helpInvocations is every way to ask for help of every group and command.
func helpInvocations() [][]string {
	out := [][]string{{"-h"}, {"--help"}, {"help"}, {"version", "-h"}, {"help", "version"}}
	groups := (&app{getenv: func(string) string { return "" }}).groups()
	for _, g := range sortedNames(groups) {
		out = append(out, []string{g, "-h"}, []string{g, "--help"}, []string{g, "help"}, []string{"help", g})
		for _, c := range sortedNames(groups[g]) {
			out = append(out, []string{g, c, "-h"}, []string{g, c, "--help"}, []string{"help", g, c}, []string{g, "help", c},
				// A key given on the command line is not shown either.
				[]string{"--api-key", "SENTINEL-FLAG-KEY", g, c, "-h"})
		}
	}
	return out
}

func TestHelpNeverPrintsSecrets(t *testing.T) {
	for _, args := range helpInvocations() {
		out, errOut, err := runWith(t, secretEnv, args...)
		if err != nil || exitCode(err) != 0 {
			t.Errorf("esimctl %s: %v (exit %d), want help and exit 0", strings.Join(args, " "), err, exitCode(err))
		}
		if out == "" || errOut != "" {
			t.Errorf("esimctl %s: help belongs on stdout alone; stdout %q, stderr %q", strings.Join(args, " "), out, errOut)
		}
		for _, secret := range []string{"SENTINEL-API-KEY", "SENTINEL-ADMIN-TOKEN", "SENTINEL-URL-PASSWORD", "SENTINEL-FLAG-KEY"} {
			if strings.Contains(out+errOut, secret) {
				t.Errorf("esimctl %s prints %s:\n%s", strings.Join(args, " "), secret, out+errOut)
			}
		}
	}
	out, _, err := runWith(t, secretEnv, "callbacks", "deliveries", "-h")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(set from ESIMD_API_KEY)", "(set from ESIMD_ADMIN_TOKEN)", "(set from ESIMD_URL)"} {
		if !strings.Contains(out, want) {
			t.Errorf("callbacks deliveries -h does not say %q:\n%s", want, out)
		}
	}
	if out, _, _ := runWith(t, nil, "catalogue", "show", "-h"); !strings.Contains(out, "(env ESIMD_API_KEY)") {
		t.Errorf("without the variable, help names it:\n%s", out)
	}
}

func TestUsageMistakesGoToStderr(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "name a command group"},
		{[]string{"esims"}, "name a command of esims"},
		{[]string{"help", "nope"}, `unknown command group "nope"`},
		{[]string{"completion", "tcsh"}, `unknown command "completion" "tcsh"`},
		{[]string{"version", "extra"}, "takes no arguments"},
	} {
		out, _, err := runWith(t, nil, tc.args...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) || out != "" {
			t.Errorf("esimctl %v: %v (exit %d), stdout %q; want a usage error saying %q", tc.args, err, exitCode(err), out, tc.want)
		}
	}
}

func TestVersion(t *testing.T) {
	out, _, err := runWith(t, nil, "version")
	if err != nil || !strings.HasPrefix(out, "esimctl ") || !strings.HasSuffix(out, " "+runtime.Version()+"\n") {
		t.Errorf("version = %q, %v", out, err)
	}
	out, _, err = runWith(t, nil, "version", "--json")
	var v struct{ Program, Version, GoVersion string }
	if err != nil || json.Unmarshal([]byte(out), &v) != nil || v.Program != "esimctl" || v.Version == "" || v.GoVersion != runtime.Version() {
		t.Errorf("version --json = %s, %v", out, err)
	}
}

func TestCompletionScripts(t *testing.T) {
	tree, err := (&app{getenv: func(string) string { return "" }}).commandTree()
	if err != nil {
		t.Fatal(err)
	}
	groups := (&app{getenv: func(string) string { return "" }}).groups()
	scripts := map[string]string{}
	for _, shell := range completion.Shells {
		script, _, err := runWith(t, secretEnv, "completion", shell)
		if err != nil {
			t.Fatalf("completion %s: %v", shell, err)
		}
		scripts[shell] = script
		for _, secret := range []string{"SENTINEL-API-KEY", "SENTINEL-ADMIN-TOKEN", "SENTINEL-URL-PASSWORD"} {
			if strings.Contains(script, secret) {
				t.Errorf("the %s script holds a secret", shell)
			}
		}
		for g, cmds := range groups {
			for c := range cmds {
				if !strings.Contains(script, "/"+g+"/"+c) {
					t.Errorf("%s: no esimctl %s %s", shell, g, c)
				}
			}
		}
		for _, g := range tree.Subs {
			for _, c := range g.Subs {
				if g.Name != "completion" && len(c.Flags) == 0 {
					t.Errorf("esimctl %s %s has no flags in the tree", g.Name, c.Name)
				}
				for _, f := range c.Flags {
					if !strings.Contains(script, f.Name) {
						t.Errorf("%s: no flag --%s of %s %s", shell, f.Name, g.Name, c.Name)
					}
				}
			}
		}
	}
	if _, err := exec.LookPath("bash"); err == nil {
		for _, tc := range []struct {
			words []string
			want  string
		}{
			{[]string{"esimctl", "or"}, "order org orgs"},
			{[]string{"esimctl", "--json", "esims", "co"}, "compatible"},
			{[]string{"esimctl", "sandbox", "f"}, "fault faults"},
			{[]string{"esimctl", "orgs", "credit", "--"}, "--admin-token --api-key --base-url --json --kind --note"},
			{[]string{"esimctl", "order", "install-data", "--zip", ""}, ""}, // file names, from -o default
		} {
			script := filepath.Join(t.TempDir(), "esimctl.bash")
			if err := os.WriteFile(script, []byte(scripts["bash"]), 0o644); err != nil {
				t.Fatal(err)
			}
			words := make([]string, len(tc.words))
			for i, w := range tc.words {
				words[i] = "'" + w + "'"
			}
			prog := "source " + script + "; COMP_WORDS=(" + strings.Join(words, " ") + "); COMP_CWORD=" + strconv.Itoa(len(words)-1) + "; _esimctl; echo \"${COMPREPLY[*]}\""
			out, err := exec.Command("bash", "--norc", "--noprofile", "-c", prog).CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, out)
			}
			if got := strings.TrimSpace(string(out)); got != tc.want {
				t.Errorf("completing %q: %q, want %q", tc.words, got, tc.want)
			}
		}
	}
	for shell, check := range map[string][]string{"zsh": {"-n"}, "fish": {"--no-execute"}} {
		if _, err := exec.LookPath(shell); err != nil {
			t.Logf("%s is not installed; its script is checked for content only", shell)
			continue
		}
		script := filepath.Join(t.TempDir(), "esimctl."+shell)
		if err := os.WriteFile(script, []byte(scripts[shell]), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(shell, append(check, script)...).CombinedOutput(); err != nil {
			t.Errorf("%s %v: %v\n%s", shell, check, err, out)
		}
		if shell == "fish" { // fish completes a line on request
			out, err := exec.Command("fish", "--no-config", "-c", "source "+script+"; complete -C 'esimctl orgs cr'").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "create\t") || !strings.Contains(string(out), "credit\t") {
				t.Errorf("fish completing %q: %v\n%s", "esimctl orgs cr", err, out)
			}
		}
	}
}
