// Command esimctl is a command-line client for esimd and the eSIM Go API.
// It talks to the API only through the public SDK, package esimapi.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "esimctl:", err)
		os.Exit(exitCode(err))
	}
}
