package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/store"
)

// copyCmd copies a SQLite database into an empty PostgreSQL database: the
// way from a single node to several.
func (e env) copyCmd(ctx context.Context, args []string) error {
	var c common
	fs := e.flags("copy", &c)
	from := fs.String("from", "", "the SQLite database file to copy (required; stop the server that uses it first)")
	to := fs.String("to", "", "the PostgreSQL URL to copy into, postgres://… (required; its tables must be empty)")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return fmt.Errorf("%w: esimd copy --from esimd.db --to postgres://user@host/db", errUsage)
	}
	if store.IsPostgres(*from) {
		return fmt.Errorf("%w: --from must be a SQLite file, got a PostgreSQL URL", errUsage)
	}
	if !store.IsPostgres(*to) {
		return fmt.Errorf("%w: --to must be a PostgreSQL URL (postgres://…), got %q", errUsage, *to)
	}
	if _, err := os.Stat(*from); err != nil {
		return fmt.Errorf("%w: --from %s: %v", errUsage, *from, err)
	}
	log, err := e.logger(c, "text")
	if err != nil {
		return err
	}
	src, err := openMigrated(ctx, *from, log)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := openMigrated(ctx, *to, log)
	if err != nil {
		return err
	}
	defer dst.Close()

	tables, err := store.CopyToPostgres(ctx, src, dst, func(t store.CopiedTable) {
		if !c.json {
			fmt.Fprintf(e.stdout, "copied %-20s %d rows\n", t.Name, t.Rows)
		}
	})
	if err != nil {
		return userError(err)
	}
	// Callback signing keys are sealed with the SQLite node's secret key;
	// the PostgreSQL nodes need that same key to sign with them.
	secretFile := notify.SecretKeyPath(*from)
	_, statErr := os.Stat(secretFile)
	hasSecret := statErr == nil
	if c.json {
		out := map[string]any{"tables": tables}
		if hasSecret {
			out["secretKeyFile"] = secretFile
		}
		return writeJSONOut(e.stdout, out)
	}
	var rows int64
	for _, t := range tables {
		rows += t.Rows
	}
	fmt.Fprintf(e.stdout, "copied %d rows in %d tables from %s\n", rows, len(tables), *from)
	if hasSecret {
		fmt.Fprintf(e.stdout, "start every PostgreSQL node with ESIMD_SECRET_KEY set to the contents of %s\n"+
			"(it seals the API keys that sign callbacks), for example ESIMD_SECRET_KEY=$(cat %s)\n", secretFile, secretFile)
	}
	return nil
}

// openMigrated opens a database and brings its schema up to date.
func openMigrated(ctx context.Context, dsn string, log *slog.Logger) (*store.DB, error) {
	db, err := store.Open(ctx, dsn, log)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
