package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/store"
	"github.com/esimd/esimd/internal/storetest"
)

// readmeSkipMarker, in a comment of a README shell block, keeps the README
// walk from running that block (on the block's first line) or that command
// (anywhere on its line): for what cannot run inside a test, such as
// setting up PostgreSQL or a command that runs until Ctrl-C.
const readmeSkipMarker = "not run by the README test"

// readmeSQLiteMarker, on a command's line, keeps the walk from running it
// when the suite runs on PostgreSQL (esimd backup works on SQLite files).
const readmeSQLiteMarker = "SQLite only"

// readmeCommand is one shell command of the README, continuation lines
// joined, with the line it starts on.
type readmeCommand struct {
	line int
	text string
}

// readmeCommands extracts the commands of the README's ```sh blocks that
// the walk runs: curl, esimd and esimctl commands and the shell variables
// they use (X=…, export X=…, also when they capture a command's output).
// The go commands (go run, go test, go install) are what the walk itself
// does by building the binaries; blocks and commands marked with
// readmeSkipMarker are left out. Any other command is an error, so that
// the README cannot grow a command that is neither run nor marked.
func readmeCommands(readme []byte) ([]readmeCommand, error) {
	var out []readmeCommand
	var block []readmeCommand
	in, skipBlock := false, false
	var cur *readmeCommand
	sc := bufio.NewScanner(bytes.NewReader(readme))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case !in && trimmed == "```sh":
			in, skipBlock, block = true, false, nil
			continue
		case in && trimmed == "```":
			in = false
			if cur != nil {
				return nil, fmt.Errorf("README line %d: the command starting there does not end inside its block", cur.line)
			}
			if !skipBlock {
				out = append(out, block...)
			}
			continue
		case !in:
			continue
		}
		if cur == nil && len(block) == 0 && strings.HasPrefix(trimmed, "#") && strings.Contains(trimmed, readmeSkipMarker) {
			skipBlock = true
		}
		if cur == nil {
			if trimmed == "" || strings.HasPrefix(trimmed, "#") {
				continue
			}
			cur = &readmeCommand{line: n}
			cur.text = line
		} else {
			cur.text += "\n" + line
		}
		if strings.HasSuffix(trimmed, `\`) || strings.Count(stripComment(cur.text), "'")%2 == 1 {
			continue // the command goes on
		}
		block = append(block, *cur)
		cur = nil
	}
	var run []readmeCommand
	for _, c := range out {
		if strings.Contains(c.text, readmeSkipMarker) {
			continue
		}
		switch word := commandWord(c.text); word {
		case "curl", "esimd", "esimctl", "":
			run = append(run, c)
		case "go":
		default:
			return nil, fmt.Errorf("README line %d: %q runs %s, which the README walk does not run; mark its block or line with %q", c.line, c.text, word, readmeSkipMarker)
		}
	}
	return run, nil
}

// stripComment drops a trailing shell comment from each line, roughly: a
// # after a space and outside quotes.
func stripComment(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		inSingle, inDouble := false, false
		for i, r := range line {
			switch {
			case r == '\'' && !inDouble:
				inSingle = !inSingle
			case r == '"' && !inSingle:
				inDouble = !inDouble
			case r == '#' && !inSingle && !inDouble && (i == 0 || line[i-1] == ' '):
				line = line[:i]
			}
			if len(line) <= i {
				break
			}
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

var assignment = regexp.MustCompile(`^(export\s+)?[A-Z_][A-Z0-9_]*=`)

// commandWord is the program a command runs: after leading variable
// assignments, and the program inside $( … ) when the command only
// assigns its output; "" for a command that only sets variables.
func commandWord(cmd string) string {
	s := strings.TrimSpace(cmd)
	for {
		m := assignment.FindString(s)
		if m == "" {
			break
		}
		rest := s[len(m):]
		if strings.HasPrefix(rest, "$(") {
			return strings.Fields(rest[2:])[0]
		}
		// Skip the value: up to the first unquoted space or semicolon.
		i, inSingle, inDouble := 0, false, false
		for ; i < len(rest); i++ {
			c := rest[i]
			if c == '\'' && !inDouble {
				inSingle = !inSingle
			} else if c == '"' && !inSingle {
				inDouble = !inDouble
			} else if (c == ' ' || c == ';' || c == '\n') && !inSingle && !inDouble {
				break
			}
		}
		s = strings.TrimLeft(rest[i:], " ;\n")
		if s == "" || strings.HasPrefix(s, "#") {
			return ""
		}
	}
	return strings.Fields(s)[0]
}

func TestReadmeCommands(t *testing.T) {
	readme := "intro\n```sh\n" +
		"go run ./cmd/esimd serve     # 1. run\n" +
		"export KEY=esimd_x   # the key\n" +
		"ICCID=$(curl -s -d '{\"a\":\n  1}' \\\n  http://x | sed 's/x/y/')\n" +
		"B=http://x; H=\"X-API-Key: $KEY\"\n" +
		"esimctl callbacks tail --follow   # " + readmeSkipMarker + "\n" +
		"```\n" +
		"```sh\n# " + readmeSkipMarker + ": needs PostgreSQL\nesimd copy --from a --to b\n.ci/postgres stop x\n```\n"
	got, err := readmeCommands([]byte(readme))
	if err != nil {
		t.Fatal(err)
	}
	want := []readmeCommand{
		{4, "export KEY=esimd_x   # the key"},
		{5, "ICCID=$(curl -s -d '{\"a\":\n  1}' \\\n  http://x | sed 's/x/y/')"},
		{8, "B=http://x; H=\"X-API-Key: $KEY\""},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("commands\n%v\nwant\n%v", got, want)
	}
	if _, err := readmeCommands([]byte("```sh\nopenssl rand -hex 32\n```\n")); err == nil || !strings.Contains(err.Error(), readmeSkipMarker) {
		t.Errorf("an unmarked command the walk does not run: %v", err)
	}
}

// TestReadmeWalk runs the README's commands, top to bottom, against a real
// server on a free port (on the suite's engine), built from this module as a user would: the two
// binaries on PATH, the documented address replaced by the server's, and
// the API key and admin token the README tells the reader to copy set to
// the server's. Every command must succeed (curl must get a 2xx).
func TestReadmeWalk(t *testing.T) {
	if testing.Short() {
		t.Skip("builds esimd and esimctl and runs the whole README against them")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("needs bash to run the README's shell commands")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("needs curl, which the README's commands use")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	build := exec.Command("go", "build", "-o", bin+string(os.PathSeparator), "./cmd/esimd", "./cmd/esimctl")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := filepath.Join(tmp, "work") // where the commands run and write (esim.png, qr/)
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "examples"), filepath.Join(work, "examples")); err != nil {
		t.Fatal(err)
	}

	// The callback receiver the reader would run at hooks.example.com.
	var received atomic.Int64
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { received.Add(1) }))
	t.Cleanup(hooks.Close)
	const key = "esimd_readme_walk_key_0123456789abcdef"
	const token = "readme-walk-admin-token-0123456789"
	addr := freeAddr(t)
	base := "http://" + addr
	env := append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		// SQLite, or a fresh schema of the suite's PostgreSQL (ESIMD_TEST_POSTGRES).
		"ESIMD_DB="+storetest.DSN(t),
		// Required on PostgreSQL; on SQLite it stands for <db>.secret.
		"ESIMD_SECRET_KEY=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"ESIMD_URL="+base,
		"ESIMD_API_KEY="+key,
		"ESIMD_ADMIN_TOKEN="+token,
		"NO_COLOR=1",
		"ESIMD_ALLOW_PRIVATE_CALLBACKS=true", // the receiver is on loopback, also for the live organisation
	)
	for _, v := range []string{"ESIMD_ADDR", "ESIMD_LOG_LEVEL", "ESIMD_LOG_FORMAT"} {
		env = append(env, v+"=")
	}
	// What the README tells the reader to fill in: the server's address,
	// the key it printed, a token of their own.
	readme = []byte(strings.NewReplacer(
		"http://localhost:8080", base, "localhost:8080", addr,
		"https://hooks.example.com/esim", hooks.URL+"/esim",
		"$(openssl rand -hex 24)", token,
		"esimd_3v5k…", key, "esimd_…", key,
	).Replace(string(readme)))
	cmds, err := readmeCommands(readme)
	if err != nil {
		t.Fatal(err)
	}
	if storetest.Engine() == store.EnginePostgres {
		cmds = slices.DeleteFunc(cmds, func(c readmeCommand) bool { return strings.Contains(c.text, readmeSQLiteMarker) })
	}
	var serverLog bytes.Buffer
	srv := exec.Command(filepath.Join(bin, "esimd"), "serve", "--addr", addr, "--rate-limit", "0")
	srv.Dir, srv.Stdout, srv.Stderr = work, &serverLog, &serverLog
	srv.Env = append(env, "ESIMD_BOOTSTRAP_API_KEY="+key)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Signal(os.Interrupt)
		srv.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", serverLog.String())
		}
	})
	waitHealthy(t, base)

	// One bash runs every command in order, so that the variables they set
	// reach the ones after; each command's status is reported by its line.
	var script strings.Builder
	script.WriteString("curl() { command curl -sS --fail-with-body --max-time 30 \"$@\"; }\n")
	for _, c := range cmds {
		fmt.Fprintf(&script, "echo '=== README line %d'\n%s\nrc=$?; echo; echo \"=== status $rc (README line %d)\"\n", c.line, c.text, c.line)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	sh := exec.CommandContext(ctx, "bash", "--noprofile", "--norc")
	sh.Dir, sh.Env, sh.Stdin = work, env, strings.NewReader(script.String())
	sh.WaitDelay = 5 * time.Second // a command left running must not hold the test
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	ran := 0
	status := regexp.MustCompile(`(?m)^=== status (\d+) \(README line (\d+)\)$`)
	for _, m := range status.FindAllSubmatch(out, -1) {
		ran++
		if code, _ := strconv.Atoi(string(m[1])); code != 0 {
			t.Errorf("README line %s: exit status %d", m[2], code)
		}
	}
	if ran != len(cmds) {
		t.Errorf("%d of %d commands reported a status", ran, len(cmds))
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("the walk:\n%s", out)
	}
	if received.Load() == 0 {
		t.Error("no callback reached the receiver the README's callback URL stands for")
	}
	t.Logf("ran %d commands of the README; %d callbacks received", ran, received.Load())
}

// freeAddr returns a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func waitHealthy(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("esimd serve did not answer /healthz at %s within a minute", base)
}
