package completion_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esimd/esimd/internal/completion"
)

// tree has the words that break naive quoting.
var tree = completion.Command{Name: "tool", Subs: []completion.Command{
	{Name: "org", Summary: "the organisation's settings", Subs: []completion.Command{
		{Name: "set", Summary: `a back\slash and a "quote"`, Flags: []completion.Flag{
			{Name: "name", Usage: "it's the name\nsecond line", TakesValue: true},
			{Name: "f", Usage: "short for --force"},
		}},
	}},
}}

func TestScripts(t *testing.T) {
	for _, shell := range completion.Shells {
		script, err := completion.Script(shell, tree)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(script, "second line") {
			t.Errorf("%s: a description keeps only its first line", shell)
		}
		path := filepath.Join(t.TempDir(), "tool."+shell)
		if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		var check *exec.Cmd
		switch shell {
		case "bash":
			check = exec.Command("bash", "--norc", "--noprofile", "-c", "source "+path+"; COMP_WORDS=(tool org set -); COMP_CWORD=3; _tool; echo \"${COMPREPLY[*]}\"")
		case "zsh":
			check = exec.Command("zsh", "-n", path)
		case "fish":
			check = exec.Command("fish", "--no-config", "-c", "source "+path+"; complete -C 'tool org '; complete -C 'tool org set -'")
		}
		if _, err := exec.LookPath(check.Path); err != nil {
			t.Logf("%s is not installed", shell)
			continue
		}
		out, err := check.CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", shell, err, out)
			continue
		}
		switch shell {
		case "bash":
			if got := strings.TrimSpace(string(out)); got != "--name -f" {
				t.Errorf("bash completes %q, want --name -f", got)
			}
		case "fish":
			for _, want := range []string{"set\ta back\\slash and a \"quote\"", "--name\tit's the name", "-f\tshort for --force"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("fish: no %q in\n%s", want, out)
				}
			}
		}
	}
	if _, err := completion.Script("tcsh", tree); err == nil || !strings.Contains(err.Error(), "bash, zsh, fish") {
		t.Errorf("an unknown shell: %v", err)
	}
}
