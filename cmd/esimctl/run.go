package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/esimd/esimd/esimapi"
)

const usage = `esimctl: a command-line client for esimd and the eSIM Go API.

Usage: esimctl [--base-url URL] [--api-key KEY] [--json] GROUP COMMAND [ARGS]

  catalogue list [--country GB,FR] [--region R] [--group G] [--description D]
  catalogue show NAME
  order     validate|buy BUNDLE [--quantity N] [--inventory] [--iccid ICCID]…
  order     list | show REFERENCE
  inventory list | refund USAGE_ID [--quantity N]
  esims     list | show|history|bundles|location ICCID
  esims     apply BUNDLE [--iccid ICCID] [--repeat N]
  esims     revoke ICCID BUNDLE [--assignment ID] [--refund-to-balance] [--validate]
  esims     sms ICCID MESSAGE | suspend|resume ICCID | update ICCID --customer-ref REF
  esims     qr ICCID [--out FILE.png] | qr --reference REF… --out DIR
  org       show | topup AMOUNT | ledger
  sandbox   clock | advance DURATION|--to TIME | reset
  sandbox   install|uninstall|sms ICCID | attach ICCID --country CC | use ICCID --mb N
  callbacks tail [--follow] [--after ID]
  callbacks deliveries [--org ID] [--follow] | test [--org ID] [--kind K]   (ESIMD_ADMIN_TOKEN)

The server is --base-url or ESIMD_URL (default http://localhost:8080); the
key is --api-key or ESIMD_API_KEY. Tables by default, --json for scripts.
Run "esimctl GROUP COMMAND -h" for a command's flags.
`

// errUsage marks a mistake in the command line (exit status 2).
var errUsage = errors.New("usage")

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// app is one invocation: its environment, output and API client.
type app struct {
	ctx            context.Context
	getenv         func(string) string
	stdout, stderr io.Writer

	baseURL, apiKey string
	json            bool
	client          *esimapi.Client
}

// command is one leaf command.
type command struct {
	summary string
	run     func(a *app, args []string) error
}

func (a *app) groups() map[string]map[string]command {
	return map[string]map[string]command{
		"catalogue": {
			"list": {"list bundles", (*app).catalogueList},
			"show": {"show one bundle", (*app).catalogueShow},
		},
		"order": {
			"validate": {"check an order without buying", (*app).orderValidate},
			"buy":      {"place an order", (*app).orderBuy},
			"list":     {"list orders", (*app).orderList},
			"show":     {"show an order", (*app).orderShow},
		},
		"inventory": {
			"list":   {"list bundles in inventory", (*app).inventoryList},
			"refund": {"refund unused inventory", (*app).inventoryRefund},
		},
		"esims": {
			"list":     {"list eSIMs", (*app).esimsList},
			"show":     {"show an eSIM and its bundles", (*app).esimsShow},
			"history":  {"show an eSIM's history", (*app).esimsHistory},
			"bundles":  {"list an eSIM's bundles", (*app).esimsBundles},
			"location": {"show where an eSIM was last seen", (*app).esimsLocation},
			"apply":    {"apply a bundle from inventory", (*app).esimsApply},
			"revoke":   {"revoke a bundle", (*app).esimsRevoke},
			"sms":      {"send an SMS", (*app).esimsSMS},
			"suspend":  {"suspend an eSIM", (*app).esimsSuspend},
			"resume":   {"resume a suspended eSIM", (*app).esimsResume},
			"update":   {"set an eSIM's customer reference", (*app).esimsUpdate},
			"qr":       {"write QR code PNGs", (*app).esimsQR},
		},
		"org": {
			"show":   {"show the organisation", (*app).orgShow},
			"topup":  {"top up the balance", (*app).orgTopUp},
			"ledger": {"show the balance history", (*app).orgLedger},
		},
		"sandbox": {
			"clock":     {"show the sandbox clock", (*app).sandboxClock},
			"advance":   {"move the sandbox clock forward", (*app).sandboxAdvance},
			"install":   {"install an eSIM on a simulated device", (*app).sandboxInstall},
			"uninstall": {"delete an eSIM from its simulated device", (*app).sandboxUninstall},
			"attach":    {"register an eSIM on a network", (*app).sandboxAttach},
			"use":       {"use data", (*app).sandboxUse},
			"sms":       {"show the SMS an eSIM received", (*app).sandboxSMS},
			"reset":     {"reset the sandbox organisation", (*app).sandboxReset},
		},
		"callbacks": {
			"tail":       {"print notifications, following new ones with --follow", (*app).callbacksTail},
			"deliveries": {"print delivery attempts (admin token), following new ones with --follow", (*app).callbacksDeliveries},
			"test":       {"send a test callback now (admin token)", (*app).callbacksTest},
		},
	}
}

// run is the whole program; main only wires the process to it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a := &app{ctx: ctx, getenv: getenv, stdout: stdout, stderr: stderr}
	fs := a.flagSet("esimctl")
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageErr("%v", err)
	}
	args = fs.Args()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageErr("name a command group")
	}
	if args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	group, ok := a.groups()[args[0]]
	if !ok {
		fmt.Fprint(stderr, usage)
		return usageErr("unknown command group %q", args[0])
	}
	if len(args) < 2 || args[1] == "-h" || args[1] == "--help" || args[1] == "help" {
		fmt.Fprintf(stderr, "Commands of %s:\n", args[0])
		names := make([]string, 0, len(group))
		for n := range group {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(stderr, "  %-10s %s\n", n, group[n].summary)
		}
		if len(args) < 2 {
			return usageErr("name a command of %s", args[0])
		}
		return nil
	}
	cmd, ok := group[args[1]]
	if !ok {
		return usageErr("unknown command %q %q; run \"esimctl %s help\"", args[0], args[1], args[0])
	}
	err := cmd.run(a, args[2:])
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return friendly(err)
}

// flagSet returns a flag set with the flags every command accepts, so that
// they may come anywhere on the line.
func (a *app) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	if a.baseURL == "" {
		a.baseURL = a.envOr("ESIMD_URL", "http://localhost:8080")
	}
	if a.apiKey == "" {
		a.apiKey = a.getenv("ESIMD_API_KEY")
	}
	fs.StringVar(&a.baseURL, "base-url", a.baseURL, "API address, with an optional /v2.x version (env ESIMD_URL)")
	fs.StringVar(&a.apiKey, "api-key", a.apiKey, "API key (env ESIMD_API_KEY)")
	fs.BoolVar(&a.json, "json", a.json, "print JSON instead of tables")
	return fs
}

func (a *app) envOr(key, def string) string {
	if v := a.getenv(key); v != "" {
		return v
	}
	return def
}

// anyArgs makes parse accept any number of positional arguments.
const anyArgs = -1 << 30

// parse parses flags before, between or after the positional arguments
// and checks their number: exactly n when n >= 0, at least -n when n < 0,
// any with anyArgs.
func (a *app) parse(fs *flag.FlagSet, args []string, n int, names string) ([]string, error) {
	fs.Usage = func() {
		fmt.Fprintf(a.stderr, "Usage: %s %s\n", fs.Name(), names)
		fs.PrintDefaults()
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageErr("%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	switch {
	case n == anyArgs:
	case n == 0 && len(positional) > 0:
		return nil, usageErr("%s takes no arguments, got %q", fs.Name(), positional)
	case (n >= 0 && len(positional) != n) || (n < 0 && len(positional) < -n):
		return nil, usageErr("%s %s (got %d arguments)", fs.Name(), names, len(positional))
	}
	return positional, nil
}

// api returns the SDK client, made on first use.
func (a *app) api() (*esimapi.Client, error) {
	if a.client != nil {
		return a.client, nil
	}
	if a.apiKey == "" {
		return nil, usageErr("no API key: set ESIMD_API_KEY or pass --api-key (esimd serve prints the sandbox key on first start)")
	}
	c, err := esimapi.NewClient(a.baseURL, esimapi.WithAPIKey(a.apiKey), esimapi.WithUserAgent("esimctl/1 "+esimapi.DefaultUserAgent))
	if err != nil {
		return nil, usageErr("--base-url: %v", err)
	}
	a.client = c
	return c, nil
}

// friendly turns an API error into a sentence for people.
func friendly(err error) error {
	var e *esimapi.Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	msg := fmt.Sprintf("%d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Message)
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if e.RequestID != "" {
		msg += " [request " + e.RequestID + "]"
	}
	return &apiError{msg: msg, err: err}
}

type apiError struct {
	msg string
	err error
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.err }

// isTerminal reports whether w is a terminal (a character device), where a
// progress bar can be drawn.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// splitList splits a comma-separated flag value.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error {
	*l = append(*l, splitList(v)...)
	return nil
}
