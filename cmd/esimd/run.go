package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/esimd/esimd/internal/app"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/store"
)

const usage = `esimd: an eSIM distribution platform compatible with the eSIM Go API.

Usage:
  esimd serve      [--addr localhost:8080] [--db esimd.db] [--rate-limit 10]   run the server
  esimd migrate    [--db esimd.db]                                            bring the schema up to date
  esimd copy       --from esimd.db --to postgres://…                          copy a SQLite database into PostgreSQL
  esimd backup     --to FILE [--force]                                        copy a SQLite database, even while it serves
  esimd restore    --from FILE [--force]                                      put a backup in place of a SQLite database
  esimd org        create|list|show|update|credit …                           manage organisations
  esimd apikey     create|list|revoke …                                       manage API keys
  esimd catalogue  import|demo|show …                                         manage the catalogue
  esimd pool       import --csv FILE                                          add eSIM profiles for live organisations
  esimd callbacks  show|set|log|events|replay|test|seal-key ORG …, reseal     callback settings, delivery log, replays
  esimd version    [--json]                                                   the version and VCS revision of this build
  esimd completion bash|zsh|fish                                              print a shell completion script

The load harness is a command of its own: go run ./cmd/esimd-bench -h.
Every command takes --db (or ESIMD_DB) and --json for output meant for scripts.
Run "esimd COMMAND -h" (or "esimd help COMMAND") for a command's subcommands and flags.
`

// errUsage marks a mistake in the command line (exit status 2).
var errUsage = errors.New("usage")

func exitCode(err error) int {
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	return 1
}

// env is the process environment, passed in so that tests control it.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	// inspect, when set, receives each command's flag set in place of
	// parsing it (the command then ends with flag.ErrHelp): shell
	// completion is generated from the real flags this way.
	inspect func(*flag.FlagSet)
}

// run is the whole program; main only wires the process to it. Help that
// was asked for is not an error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdout: stdout, stderr: stderr}
	if err := e.dispatch(ctx, args); !errors.Is(err, flag.ErrHelp) {
		return err
	}
	return nil
}

// common holds the flags every command shares.
type common struct {
	db       string
	json     bool
	logLevel string
}

func (e env) flags(name string, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet("esimd "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&c.db, "db", "esimd.db", "`database`: a SQLite file path or a postgres:// URL")
	e.fromEnv(fs, "db", "ESIMD_DB")
	fs.BoolVar(&c.json, "json", false, "print JSON instead of text")
	fs.StringVar(&c.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	e.fromEnv(fs, "log-level", "ESIMD_LOG_LEVEL")
	return fs
}

// parse parses flags that may come before, between or after positional
// arguments ("org update 2 --name X" as well as "org update --name X 2");
// the positional arguments are then fs.Args().
func (e env) parse(fs *flag.FlagSet, args []string) error {
	if e.inspect != nil {
		e.inspect(fs)
		return flag.ErrHelp
	}
	var positional []string
	for {
		if err := e.parseHelp(fs, args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// Parse once more with only the positional arguments so fs.Args() holds them.
	if err := fs.Parse(append([]string{"--"}, positional...)); err != nil {
		return err
	}
	return e.applyEnv(fs)
}

func (e env) logger(c common, format string) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("%w: --log-level %q: use debug, info, warn or error", errUsage, c.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts)), nil
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts)), nil
}

// open opens the application for an admin command: the database
// migrated, the catalogue as the database holds it, no background workers.
// secret seals the keys a command issues (nil: they cannot sign callbacks).
func (e env) open(ctx context.Context, c common, log *slog.Logger, secret []byte) (*app.App, error) {
	return app.New(ctx, app.Config{DB: c.db, Logger: log, SecretKey: secret, NoSeedCatalogue: true,
		AllowPrivateCallbacks: e.allowPrivateCallbacks()})
}

func (e env) migrate(ctx context.Context, args []string) error {
	var c common
	fs := e.flags("migrate", &c)
	if err := e.parse(fs, args); err != nil {
		return err
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
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	current, latest, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if c.json {
		return writeJSONOut(e.stdout, map[string]any{"applied": nonNil(applied), "version": current, "latest": latest})
	}
	for _, a := range applied {
		fmt.Fprintln(e.stdout, "applied", a)
	}
	fmt.Fprintf(e.stdout, "schema at version %d of %d\n", current, latest)
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// parseOrgID reads an organisation ID argument.
func parseOrgID(s string) (orgs.ID, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%w: %q is not an organisation ID (a positive number; esimd org list shows them)", errUsage, s)
	}
	return orgs.ID(n), nil
}

// userError makes fault errors read well on a terminal.
func userError(err error) error {
	if err == nil {
		return nil
	}
	var fe *fault.Error
	if errors.As(err, &fe) && fe.Kind != fault.Internal {
		return errors.New(fe.Message)
	}
	return err
}
