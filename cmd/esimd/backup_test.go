package main

import (
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/storetest"
)

// TestBackupWhileServingRestores backs up a SQLite database while a load
// of orders runs against the server using it, restores the backup into a
// new file, and finds there every invariant holding: a snapshot of one
// moment, not a torn copy. The restored database then serves.
func TestBackupWhileServingRestores(t *testing.T) {
	if storetest.Engine() != "sqlite" {
		t.Skip("esimd backup copies SQLite files; PostgreSQL's recipe is checked in TestBackupRefusals")
	}
	const key = "backup-test-bootstrap-key-0123456789"
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	env := map[string]string{"ESIMD_BOOTSTRAP_API_KEY": key, "ESIMD_RATE_LIMIT": "0", "ESIMD_SANDBOX_BALANCE": "100000"}
	base, _, stopServer := startServer(t, live, env)
	stop := sync.OnceFunc(stopServer)
	defer stop()

	var (
		wg      sync.WaitGroup
		done    atomic.Bool
		placed  atomic.Int64
		client  = &http.Client{Timeout: 10 * time.Second}
		ordered = `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`
	)
	for range 4 {
		wg.Go(func() {
			for !done.Load() {
				req, _ := http.NewRequest("POST", base+"/v2.5/orders", strings.NewReader(ordered))
				req.Header.Set("X-API-Key", key)
				res, err := client.Do(req)
				if err != nil {
					t.Errorf("order: %v", err)
					return
				}
				res.Body.Close()
				if res.StatusCode != 200 {
					t.Errorf("order: %d", res.StatusCode)
					return
				}
				placed.Add(1)
			}
		})
	}
	for placed.Load() < 20 {
		time.Sleep(5 * time.Millisecond)
	}
	backup := filepath.Join(dir, "backup.db")
	out, err := runCmd(t, "backup", "--db", live, "--to", backup)
	during := placed.Load()
	time.Sleep(100 * time.Millisecond) // the load goes on after the backup
	done.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup while serving: %v\n%s", err, out)
	}
	if !strings.Contains(out, "schema version") || !strings.Contains(out, "backup.db.secret") {
		t.Errorf("backup output %q: want the schema version and the copied secret key file", out)
	}

	restored := filepath.Join(dir, "restored.db")
	if out, err := runCmd(t, "restore", "--from", backup, "--db", restored); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	db := storetest.OpenRaw(t, restored)
	checkInvariants(t, db)
	liveDB := storetest.OpenRaw(t, live)
	orders, total := db.Int(t, `SELECT count(*) FROM orders WHERE kind = 'order'`), liveDB.Int(t, `SELECT count(*) FROM orders WHERE kind = 'order'`)
	if orders < 20 || orders >= total {
		t.Errorf("the backup holds %d orders; the load had placed 20 before it, %d around it and %d in the end", orders, during, total)
	}
	if a, b := mustRead(t, live+".secret"), mustRead(t, restored+".secret"); a != b {
		t.Error("the restored secret key file differs from the live one: sealed signing keys would not open")
	}
	stop()

	// The restored database serves, with the same organisation and key.
	base2, _, stop2 := startServer(t, restored, env)
	defer stop2()
	status, body := httpGet(t, base2+"/v2.5/orders?limit=1", key)
	if status != 200 || !strings.Contains(string(body), fmt.Sprintf(`"rows":%d`, orders)) {
		t.Errorf("orders of the restored database: %d %.200s; want %d rows", status, body, orders)
	}
}

// TestBackupRefusals: what backup and restore refuse, and why.
func TestBackupRefusals(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "esimd.db")
	if out, err := runCmd(t, "migrate", "--db", db); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	backup := filepath.Join(dir, "backup.db")
	if out, err := runCmd(t, "backup", "--db", db, "--to", backup); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("not a database\n"), 0o600)
	foreign := filepath.Join(dir, "foreign.db")
	execSQLite(t, foreign, `CREATE TABLE things (id INTEGER PRIMARY KEY)`)
	newer := filepath.Join(dir, "newer.db")
	if out, err := runCmd(t, "backup", "--db", db, "--to", newer); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	execSQLite(t, newer, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (999, true)`)
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o600)

	for _, tc := range []struct {
		name    string
		args    []string
		mention string
	}{
		{"backup over an existing file", []string{"backup", "--db", db, "--to", backup}, "exists; pass --force"},
		{"backup onto itself", []string{"backup", "--db", db, "--to", db, "--force"}, "another file"},
		{"backup of no database", []string{"backup", "--db", filepath.Join(dir, "missing.db"), "--to", filepath.Join(dir, "x.db")}, "no SQLite database"},
		{"backup of PostgreSQL", []string{"backup", "--db", "postgres://esimd@db.example/esimd", "--to", "x.dump"}, "pg_dump --format=custom"},
		{"restore into a database that has data", []string{"restore", "--from", backup, "--db", db}, "pass --force"},
		{"restore from a text file", []string{"restore", "--from", text, "--db", filepath.Join(dir, "r1.db")}, "not a SQLite database"},
		{"restore from another program's database", []string{"restore", "--from", foreign, "--db", filepath.Join(dir, "r2.db")}, "not esimd's"},
		{"restore from a newer esimd", []string{"restore", "--from", newer, "--db", filepath.Join(dir, "r3.db")}, "newer than this esimd"},
		{"restore into PostgreSQL", []string{"restore", "--from", backup, "--db", "postgres://esimd@db.example/esimd"}, "pg_restore --no-owner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCmd(t, tc.args...)
			if err == nil || !strings.Contains(err.Error()+out, tc.mention) {
				t.Errorf("esimd %s: %v\n%s\nwant a refusal mentioning %q", strings.Join(tc.args, " "), err, out, tc.mention)
			}
		})
	}
	for _, p := range []string{filepath.Join(dir, "r1.db"), filepath.Join(dir, "r2.db"), filepath.Join(dir, "r3.db")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("a refused restore left %s", p)
		}
	}
	// An empty file is no database to lose; --force replaces one that is.
	if out, err := runCmd(t, "restore", "--from", backup, "--db", empty); err != nil {
		t.Errorf("restore into an empty file: %v\n%s", err, out)
	}
	if out, err := runCmd(t, "restore", "--from", backup, "--db", db, "--force"); err != nil {
		t.Errorf("restore --force: %v\n%s", err, out)
	}
	if out, err := runCmd(t, "backup", "--db", db, "--to", backup, "--force"); err != nil {
		t.Errorf("backup --force: %v\n%s", err, out)
	}
}

func execSQLite(t *testing.T, path, stmt string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
