// Command esimd-bench is esimd's load harness: it builds one or more esimd
// nodes through internal/app on a throwaway database, seeds them, drives
// each scenario over loopback HTTP, and reports throughput and latency as
// ratios to a minimal handler measured in the same run. It lives apart
// from the server binary, which carries no benchmarking code.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/esimd/esimd/internal/fault"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := env{stdout: os.Stdout, stderr: os.Stderr}.bench(ctx, os.Args[1:])
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "esimd-bench:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// env is where the harness writes; tests pass buffers.
type env struct {
	stdout, stderr io.Writer
}

// errUsage marks a mistake in the command line (exit status 2).
var errUsage = errors.New("usage")

func (e env) parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

func (e env) logger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("%w: --log-level %q: use debug, info, warn or error", errUsage, level)
	}
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: l})), nil
}

// userError makes fault errors read well on a terminal.
func userError(err error) error {
	var fe *fault.Error
	if errors.As(err, &fe) && fe.Kind != fault.Internal {
		return errors.New(fe.Message)
	}
	return err
}
