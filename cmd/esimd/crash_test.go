package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/storetest"
)

// crashKey is the bootstrap API key of the crash test's server.
const crashKey = "crash-test-bootstrap-key-0123456789"

// buildESIMD builds the esimd binary into a temporary directory.
func buildESIMD(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "esimd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is one esimd serve process.
type process struct {
	cmd  *exec.Cmd
	base string
	log  syncBuffer
}

// startESIMD runs `esimd serve` on a free port over dsn and waits until it
// answers /healthz.
func startESIMD(t *testing.T, bin, dsn string, env ...string) *process {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &process{base: "http://" + addr}
	p.cmd = exec.Command(bin, "serve", "--addr", addr, "--db", dsn)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.log, &p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(p.base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			p.kill()
			t.Fatalf("esimd did not start within 30s: %v\n%s", err, p.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL: no shutdown, no flush, whatever was running dies.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

// TestCrashWhileOrdering kills esimd with SIGKILL at random moments while
// clients place idempotent orders, restarts it on the same database each
// time, and retries every unanswered request with its key. No key may stay
// stuck ("still being processed"), no order may be charged twice, and every
// key's retry gets the answer of the order that was placed.
func TestCrashWhileOrdering(t *testing.T) {
	if testing.Short() {
		t.Skip("builds esimd and kills it 20 times")
	}
	const (
		kills   = 22
		clients = 6
		bundle  = "esim_1GB_7D_GB_V2"
	)
	bin := buildESIMD(t)
	dsn := storetest.DSN(t)
	env := []string{"ESIMD_BOOTSTRAP_API_KEY=" + crashKey, "ESIMD_RATE_LIMIT=0", "ESIMD_SANDBOX_BALANCE=1000000",
		"ESIMD_LOG_LEVEL=error", "ESIMD_SECRET_KEY=" + strings.Repeat("ab", 32)}

	var (
		mu      sync.Mutex
		current = startESIMD(t, bin, dsn, env...)
		stop    atomic.Bool // no new keys
		abandon atomic.Bool // the test failed: leave unanswered keys
		next    atomic.Int64
		sent    atomic.Int64          // requests sent, retries included
		lost    atomic.Int64          // requests that got no answer (the server was dying or down)
		retried atomic.Int64          // keys sent again after a request got no answer
		rescued atomic.Int64          // of those, keys whose order had committed: the retry replayed its answer
		stuck   atomic.Int64          // 409 "still being processed"
		refs    = map[string]string{} // key → order reference answered
	)
	defer func() { mu.Lock(); current.kill(); mu.Unlock() }()
	defer abandon.Store(true)
	base := func() string { mu.Lock(); defer mu.Unlock(); return current.base }
	client := &http.Client{Timeout: 10 * time.Second}
	order := fmt.Sprintf(`{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"%s","quantity":1}]}`, bundle)
	post := func(key string) (int, http.Header, []byte, error) {
		sent.Add(1)
		req, _ := http.NewRequest("POST", base()+"/v2.5/orders", strings.NewReader(order))
		req.Header.Set("X-API-Key", crashKey)
		req.Header.Set("Idempotency-Key", key)
		res, err := client.Do(req)
		if err != nil {
			return 0, nil, nil, err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, body, err
	}
	reference := func(body []byte) string {
		var o struct {
			OrderReference string `json:"orderReference"`
		}
		_ = json.Unmarshal(body, &o)
		return o.OrderReference
	}

	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for !stop.Load() {
				key := fmt.Sprintf("crash-order-%04d", next.Add(1))
				// Until it is answered: a request the server died under is
				// sent again, with its key, once the server is back.
				for again := false; ; again = true {
					status, header, body, err := post(key)
					switch {
					case (err != nil || status == 503) && abandon.Load():
						return
					case err != nil || status == 503:
						lost.Add(1)
						if !again {
							retried.Add(1)
						}
						time.Sleep(20 * time.Millisecond)
						continue
					case status == 409:
						stuck.Add(1)
						t.Errorf("key %s: 409 %s", key, body)
					case status != 200 || reference(body) == "":
						t.Errorf("key %s: %d %s", key, status, body)
					default:
						if again && header.Get("Idempotent-Replayed") == "true" {
							rescued.Add(1)
						}
						mu.Lock()
						refs[key] = reference(body)
						mu.Unlock()
					}
					break
				}
			}
		})
	}
	start := time.Now()
	for range kills {
		time.Sleep(time.Duration(50+rand.IntN(250)) * time.Millisecond)
		mu.Lock()
		current.kill()
		mu.Unlock()
		p := startESIMD(t, bin, dsn, env...)
		mu.Lock()
		current = p
		mu.Unlock()
	}
	time.Sleep(200 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(start)

	// Every key again: each gets the answer it got, replayed.
	mismatched := 0
	for key, ref := range refs {
		status, _, body, err := post(key)
		if err != nil || status != 200 || reference(body) != ref {
			mismatched++
			t.Errorf("key %s again: %d %s (%v), want the replay of order %s", key, status, body, err, ref)
		}
	}
	mu.Lock()
	current.kill()
	mu.Unlock()

	db := storetest.OpenRaw(t, dsn)
	orgID := db.Int(t, `SELECT id FROM organisations ORDER BY id LIMIT 1`)
	orders := db.Int(t, `SELECT count(*) FROM orders WHERE org_id = ? AND kind = 'order'`, orgID)
	debits := db.Int(t, `SELECT count(*) FROM ledger_entries WHERE org_id = ? AND kind = 'order'`, orgID)
	distinct := map[string]bool{}
	for _, ref := range refs {
		distinct[ref] = true
	}
	if int64(len(distinct)) != orders || debits != orders || len(distinct) != len(refs) {
		t.Errorf("%d keys answered with %d distinct orders; the database holds %d orders and %d debits: a retry was charged again",
			len(refs), len(distinct), orders, debits)
	}
	price := db.Int(t, `SELECT -amount FROM ledger_entries WHERE org_id = ? AND kind = 'order' LIMIT 1`, orgID)
	start0 := money.MustParse("1000000")
	if bal := db.Int(t, `SELECT balance FROM organisations WHERE id = ?`, orgID); bal != int64(start0)-orders*price {
		t.Errorf("balance %d, want %d − %d orders × %d", bal, int64(start0), orders, price)
	}
	if n := db.Int(t, `SELECT count(*) FROM idempotency_keys WHERE status = 0`); n != 0 {
		t.Errorf("%d keys left claimed without an answer", n)
	}
	checkInvariants(t, db)
	t.Logf("%d kills in %s: %d requests, %d keys answered; %d keys retried after a request got no answer (%d requests), "+
		"%d of them replayed an order committed before the kill; %d stuck keys, %d double charges, %d replays that differed",
		kills, elapsed.Round(time.Millisecond), sent.Load(), len(refs), retried.Load(), lost.Load(), rescued.Load(),
		stuck.Load(), debits-int64(len(distinct)), mismatched)
}

// checkInvariants checks what must hold in any esimd database, whatever
// happened to the process writing it: every organisation's ledger adds up
// to its balance, no ICCID or assignment reference was handed out twice,
// and every order that cost money has its debit.
func checkInvariants(t *testing.T, db *storetest.Raw) {
	t.Helper()
	for _, c := range []struct{ what, query string }{
		{"organisations whose ledger does not add up to the balance", `SELECT count(*) FROM organisations o
			WHERE o.balance <> (SELECT coalesce(sum(l.amount), 0) FROM ledger_entries l WHERE l.org_id = o.id)`},
		{"ICCIDs held by more than one eSIM", `SELECT count(*) FROM (SELECT iccid FROM esims GROUP BY iccid HAVING count(*) > 1) AS d`},
		{"assignment references used twice", `SELECT count(*) FROM (SELECT reference FROM assignments GROUP BY reference HAVING count(*) > 1) AS d`},
		{"orders that cost money without their debit", `SELECT count(*) FROM orders o WHERE o.kind = 'order' AND o.total > 0
			AND NOT EXISTS (SELECT 1 FROM ledger_entries l WHERE l.org_id = o.org_id AND l.kind = 'order' AND l.reference = o.reference)`},
		{"debits without their order", `SELECT count(*) FROM ledger_entries l WHERE l.kind = 'order'
			AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.org_id = l.org_id AND o.reference = l.reference)`},
		{"orders debited more than once", `SELECT count(*) FROM (SELECT reference FROM ledger_entries WHERE kind = 'order'
			GROUP BY reference HAVING count(*) > 1) AS d`},
	} {
		if n := db.Int(t, c.query); n != 0 {
			t.Errorf("%s: %d", c.what, n)
		}
	}
}
