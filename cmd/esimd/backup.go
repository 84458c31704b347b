package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/store"
)

// postgresBackup is what esimd backup and restore answer for PostgreSQL,
// whose own tools take a consistent dump of a live database.
const postgresBackup = `esimd backup and restore handle SQLite files; back up PostgreSQL with its own tools,
which take a consistent snapshot while every node keeps serving:
  pg_dump --format=custom --file esimd.dump "$ESIMD_DB"
and restore into an empty database (stop every esimd node first):
  pg_restore --no-owner --dbname "$ESIMD_DB" esimd.dump
  esimd migrate --db "$ESIMD_DB"
Keep ESIMD_SECRET_KEY with the dump: the sealed callback signing keys open only with it`

// sqlitePath is the file a SQLite --db names.
func sqlitePath(dsn string) string {
	p := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p
}

// backupCmd copies a SQLite database, live or not, into a new file.
func (e env) backupCmd(ctx context.Context, args []string) error {
	var c common
	fs := e.flags("backup", &c)
	to := fs.String("to", "", "the file to write the backup to (required; it must not exist unless --force)")
	force := fs.Bool("force", false, "replace --to (and its .secret file) if it exists")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return fmt.Errorf("%w: esimd backup --db esimd.db --to esimd-backup.db", errUsage)
	}
	if store.IsPostgres(c.db) {
		return errors.New(postgresBackup)
	}
	src := sqlitePath(c.db)
	fi, err := os.Stat(src)
	if err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: --db %s: no SQLite database there (%v)", errUsage, src, err)
	}
	if same(src, *to) {
		return fmt.Errorf("%w: --to must be another file than the database itself", errUsage)
	}
	srcSecret, toSecret := notify.SecretKeyPath(c.db), notify.SecretKeyPath(*to)
	_, err = os.Stat(srcSecret)
	copySecret := err == nil && e.getenv("ESIMD_SECRET_KEY") == ""
	if !*force {
		for _, p := range []string{*to, toSecret} {
			if _, err := os.Stat(p); err == nil && (p == *to || copySecret) {
				return fmt.Errorf("%w: %s exists; pass --force to replace it", errUsage, p)
			}
		}
	}
	log, err := e.logger(c, "text")
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, c.db, log)
	if err != nil {
		return err
	}
	defer db.Close()
	// Into a file beside the target, checked, then renamed over it: a
	// backup that fails halfway leaves no file that looks like a backup.
	tmp := *to + ".partial-" + randomSuffix()
	defer os.Remove(tmp)
	if err := db.BackupInto(ctx, tmp); err != nil {
		return fmt.Errorf("back up %s: %w", src, userError(err))
	}
	version, _, err := store.InspectSQLiteFile(ctx, tmp)
	if err != nil {
		return fmt.Errorf("the backup of %s does not read back: %w", src, userError(err))
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, *to); err != nil {
		return fmt.Errorf("back up %s: %w", src, err)
	}
	if copySecret {
		if err := copyFile(srcSecret, toSecret, 0o600); err != nil {
			return fmt.Errorf("copy the secret key file: %w", err)
		}
	}
	size := int64(0)
	if fi, err := os.Stat(*to); err == nil {
		size = fi.Size()
	}
	if c.json {
		out := map[string]any{"file": *to, "bytes": size, "schemaVersion": version}
		if copySecret {
			out["secretKeyFile"] = toSecret
		}
		return writeJSONOut(e.stdout, out)
	}
	fmt.Fprintf(e.stdout, "backed up %s (schema version %d) to %s, %d bytes\n", src, version, *to, size)
	switch {
	case copySecret:
		fmt.Fprintf(e.stdout, "copied the secret key file to %s: keep it with the backup, as private as the database\n", toSecret)
	case e.getenv("ESIMD_SECRET_KEY") != "":
		fmt.Fprintln(e.stdout, "the secret key is ESIMD_SECRET_KEY: keep it with the backup; the sealed callback signing keys open only with it")
	}
	return nil
}

// restoreCmd puts a backup in place of a SQLite database and migrates it.
func (e env) restoreCmd(ctx context.Context, args []string) error {
	var c common
	fs := e.flags("restore", &c)
	from := fs.String("from", "", "the backup file to restore (required; made by esimd backup)")
	force := fs.Bool("force", false, "replace a database that exists and is not empty (stop every esimd using it first)")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if *from == "" {
		return fmt.Errorf("%w: esimd restore --from esimd-backup.db --db esimd.db", errUsage)
	}
	if store.IsPostgres(c.db) || store.IsPostgres(*from) {
		return errors.New(postgresBackup)
	}
	if fi, err := os.Stat(*from); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: --from %s: no backup file there (%v)", errUsage, *from, err)
	}
	dst := sqlitePath(c.db)
	if same(dst, *from) {
		return fmt.Errorf("%w: --db must be another file than the backup", errUsage)
	}
	fromSecret, dstSecret := notify.SecretKeyPath(*from), notify.SecretKeyPath(c.db)
	_, err := os.Stat(fromSecret)
	hasSecret := err == nil
	if !*force {
		if nonEmpty(dst) || nonEmpty(dst+"-wal") {
			return fmt.Errorf("%w: %s exists and is not empty; restoring would replace it: stop every esimd using it and pass --force", errUsage, dst)
		}
		if hasSecret && differ(fromSecret, dstSecret) {
			return fmt.Errorf("%w: %s exists with another key; restoring would replace it: pass --force", errUsage, dstSecret)
		}
	}
	// Copied beside the target and checked there, so that the backup file
	// itself is only read and a bad one never replaces the database.
	tmp := dst + ".restoring-" + randomSuffix()
	defer os.Remove(tmp)
	if err := copyFile(*from, tmp, 0o600); err != nil {
		return fmt.Errorf("restore %s: %w", *from, err)
	}
	version, latest, err := store.InspectSQLiteFile(ctx, tmp)
	if err != nil {
		return fmt.Errorf("%w: --from: %v", errUsage, strings.ReplaceAll(userError(err).Error(), tmp, *from))
	}
	// A WAL left by the replaced database would be replayed into the
	// restored one on first open.
	for _, p := range []string{dst + "-wal", dst + "-shm", dst + "-journal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("restore into %s: %w", dst, err)
	}
	if hasSecret {
		if err := copyFile(fromSecret, dstSecret, 0o600); err != nil {
			return fmt.Errorf("restore the secret key file: %w", err)
		}
	}
	log, err := e.logger(c, "text")
	if err != nil {
		return err
	}
	db, err := openMigrated(ctx, c.db, log)
	if err != nil {
		return fmt.Errorf("restored %s into %s but could not migrate it: %w", *from, dst, err)
	}
	defer db.Close()
	current, _, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if c.json {
		return writeJSONOut(e.stdout, map[string]any{"file": dst, "backupSchemaVersion": version, "schemaVersion": current, "latest": latest,
			"secretKeyRestored": hasSecret})
	}
	fmt.Fprintf(e.stdout, "restored %s (schema version %d) into %s; schema now at version %d\n", *from, version, dst, current)
	switch {
	case hasSecret:
		fmt.Fprintf(e.stdout, "restored the secret key file %s\n", dstSecret)
	case e.getenv("ESIMD_SECRET_KEY") == "":
		fmt.Fprintf(e.stdout, "no secret key file beside %s: set ESIMD_SECRET_KEY to the key in use when the backup was made, "+
			"or V3 callbacks go unsigned until keys are sealed again (esimd callbacks seal-key)\n", *from)
	}
	return nil
}

// same reports whether two paths name one file (or would).
func same(a, b string) bool {
	if fa, err := os.Stat(a); err == nil {
		if fb, err := os.Stat(b); err == nil {
			return os.SameFile(fa, fb)
		}
	}
	aa, errA := filepath.Abs(a)
	ab, errB := filepath.Abs(b)
	return errA == nil && errB == nil && aa == ab
}

func nonEmpty(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Size() > 0
}

// differ reports whether b exists with other contents than a.
func differ(a, b string) bool {
	bb, err := os.ReadFile(b)
	if err != nil {
		return false
	}
	ba, err := os.ReadFile(a)
	return err != nil || !bytes.Equal(ba, bb)
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// copyFile copies src to dst (replacing it) and syncs it to disk.
func copyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
