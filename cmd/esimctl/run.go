package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
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
  order     install-data REFERENCE… [--csv FILE|-] [--zip FILE]
  inventory list | refund USAGE_ID [--quantity N]
  esims     list | show|history|bundles|location ICCID
  esims     apply BUNDLE [--iccid ICCID] [--repeat N]
  esims     revoke ICCID BUNDLE [--assignment ID] [--refund-to-balance] [--validate]
  esims     sms ICCID MESSAGE | suspend|resume ICCID | update ICCID --customer-ref REF
  esims     qr ICCID [--out FILE.png] | qr --reference REF… --out DIR
  esims     delete|refresh ICCID | compatible ICCID BUNDLE
  org       show | topup AMOUNT | ledger
  sandbox   clock | advance DURATION|--to TIME | reset
  sandbox   install|uninstall|sms ICCID | attach ICCID --country CC | use ICCID --mb N
  sandbox   faults | fault [--path P] [--status N] [--latency D] … | clear-faults
  sandbox   autopilot [--on|--off] [--mb-per-hour N]
  callbacks tail [--follow] [--after ID]
  callbacks deliveries [--org ID] [--follow] | test [--org ID] [--kind K]   (admin token)
  orgs      list | create --name N [--balance B] | show ID | credit ID AMOUNT   (admin token)
  version | completion bash|zsh|fish

The server is --base-url or ESIMD_URL (default http://localhost:8080); the
key is --api-key or ESIMD_API_KEY; the operator's token --admin-token or
ESIMD_ADMIN_TOKEN. Tables by default (in colour on a terminal, unless
NO_COLOR is set), --json for scripts.
Run "esimctl GROUP -h" for a group's commands, "esimctl GROUP COMMAND -h"
(or "esimctl help GROUP COMMAND") for a command's flags.
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

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// app is one invocation: its environment, output and API client.
type app struct {
	ctx            context.Context
	getenv         func(string) string
	stdout, stderr io.Writer

	// baseURL, apiKey and adminToken are the flags' values; the
	// environment fills them when a client is made.
	baseURL, apiKey, adminToken string
	json                        bool
	// colour is set when stdout is a terminal and NO_COLOR is not.
	colour bool
	client *esimapi.Client
	// inspect, when set, receives each command's flag set in place of
	// parsing it (the command then ends with flag.ErrHelp): shell
	// completion is generated from the real flags this way.
	inspect func(*flag.FlagSet)
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
			"validate":     {"check an order without buying", (*app).orderValidate},
			"buy":          {"place an order", (*app).orderBuy},
			"list":         {"list orders", (*app).orderList},
			"show":         {"show an order", (*app).orderShow},
			"install-data": {"install data of orders: table, CSV or ZIP of QR codes", (*app).orderInstallData},
		},
		"inventory": {
			"list":   {"list bundles in inventory", (*app).inventoryList},
			"refund": {"refund unused inventory", (*app).inventoryRefund},
		},
		"esims": {
			"list":       {"list eSIMs", (*app).esimsList},
			"show":       {"show an eSIM and its bundles", (*app).esimsShow},
			"history":    {"show an eSIM's history", (*app).esimsHistory},
			"bundles":    {"list an eSIM's bundles", (*app).esimsBundles},
			"location":   {"show where an eSIM was last seen", (*app).esimsLocation},
			"apply":      {"apply a bundle from inventory", (*app).esimsApply},
			"revoke":     {"revoke a bundle", (*app).esimsRevoke},
			"sms":        {"send an SMS", (*app).esimsSMS},
			"suspend":    {"suspend an eSIM", (*app).esimsSuspend},
			"resume":     {"resume a suspended eSIM", (*app).esimsResume},
			"update":     {"set an eSIM's customer reference", (*app).esimsUpdate},
			"qr":         {"write QR code PNGs", (*app).esimsQR},
			"delete":     {"delete an eSIM (it leaves the organisation)", (*app).esimsDelete},
			"refresh":    {"refresh an eSIM's network registration", (*app).esimsRefresh},
			"compatible": {"check whether a bundle can be applied to an eSIM", (*app).esimsCompatible},
		},
		"org": {
			"show":   {"show the organisation", (*app).orgShow},
			"topup":  {"top up the balance", (*app).orgTopUp},
			"ledger": {"show the balance history", (*app).orgLedger},
		},
		"orgs": {
			"list":   {"list every organisation (admin token)", (*app).orgsList},
			"create": {"create an organisation and its first API key (admin token)", (*app).orgsCreate},
			"show":   {"show one organisation (admin token)", (*app).orgsShow},
			"credit": {"add to (or adjust) an organisation's balance (admin token)", (*app).orgsCredit},
		},
		"sandbox": {
			"clock":        {"show the sandbox clock", (*app).sandboxClock},
			"advance":      {"move the sandbox clock forward", (*app).sandboxAdvance},
			"install":      {"install an eSIM on a simulated device", (*app).sandboxInstall},
			"uninstall":    {"delete an eSIM from its simulated device", (*app).sandboxUninstall},
			"attach":       {"register an eSIM on a network", (*app).sandboxAttach},
			"use":          {"use data", (*app).sandboxUse},
			"sms":          {"show the SMS an eSIM received", (*app).sandboxSMS},
			"reset":        {"reset the sandbox organisation", (*app).sandboxReset},
			"faults":       {"list injected faults", (*app).sandboxFaults},
			"fault":        {"inject a fault: failing or slow answers", (*app).sandboxFault},
			"clear-faults": {"remove every injected fault", (*app).sandboxClearFaults},
			"autopilot":    {"show, or with flags change, the steady data use of attached eSIMs", (*app).sandboxAutopilot},
		},
		"callbacks": {
			"tail":       {"print notifications, following new ones with --follow", (*app).callbacksTail},
			"deliveries": {"print delivery attempts (admin token), following new ones with --follow", (*app).callbacksDeliveries},
			"test":       {"send a test callback now (admin token)", (*app).callbacksTest},
		},
		"completion": {
			"bash": completionCmd("bash"),
			"zsh":  completionCmd("zsh"),
			"fish": completionCmd("fish"),
		},
	}
}

// groupSummaries say what each group is for, in help and completion.
var groupSummaries = map[string]string{
	"catalogue":  "the bundle catalogue",
	"order":      "orders and their install data",
	"inventory":  "bundles bought into inventory",
	"esims":      "eSIMs and their bundles",
	"org":        "your organisation (the API key's)",
	"orgs":       "every organisation (operator, admin token)",
	"sandbox":    "the sandbox: clock, simulated devices, faults, autopilot",
	"callbacks":  "notifications and their delivery",
	"completion": "shell completion scripts",
}

// run is the whole program; main only wires the process to it. Help that
// was asked for goes to stdout and is not an error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a := &app{ctx: ctx, getenv: getenv, stdout: stdout, stderr: stderr}
	a.colour = isTerminal(stdout) && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
	if err := a.dispatch(args); !errors.Is(err, flag.ErrHelp) {
		return friendly(err)
	}
	return nil
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// dispatch runs the command args name, after the flags every command
// accepts. Help that was asked for ends with flag.ErrHelp.
func (a *app) dispatch(args []string) error {
	fs := a.flagSet("esimctl")
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage) }
	if err := a.parseHelp(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErr("%v", err)
	}
	args = fs.Args()
	if len(args) == 0 {
		fmt.Fprint(a.stderr, usage)
		return usageErr("name a command group")
	}
	if isHelp(args[0]) {
		if len(args) == 1 {
			fmt.Fprint(a.stdout, usage)
			return flag.ErrHelp
		}
		// "esimctl help esims show" is "esimctl esims show -h".
		return a.dispatch(append(slices.Clone(args[1:]), "-h"))
	}
	if args[0] == "version" {
		return a.version(args[1:])
	}
	group, ok := a.groups()[args[0]]
	if !ok {
		fmt.Fprint(a.stderr, usage)
		return usageErr("unknown command group %q", args[0])
	}
	switch {
	case len(args) < 2:
		printGroup(a.stderr, args[0], group)
		return usageErr("name a command of %s", args[0])
	case isHelp(args[1]):
		if args[1] == "help" && len(args) > 2 {
			return a.dispatch(append([]string{args[0]}, append(slices.Clone(args[2:]), "-h")...))
		}
		printGroup(a.stdout, args[0], group)
		return flag.ErrHelp
	}
	cmd, ok := group[args[1]]
	if !ok {
		return usageErr("unknown command %q %q; run \"esimctl %s help\"", args[0], args[1], args[0])
	}
	return cmd.run(a, args[2:])
}

func printGroup(w io.Writer, name string, group map[string]command) {
	fmt.Fprintf(w, "Commands of %s:\n", name)
	for _, n := range sortedNames(group) {
		fmt.Fprintf(w, "  %-12s %s\n", n, group[n].summary)
	}
	fmt.Fprintf(w, "\nRun \"esimctl %s COMMAND -h\" for a command's flags.\n", name)
}

func sortedNames[T any](m map[string]T) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// flagSet returns a flag set with the flags every command accepts, so that
// they may come anywhere on the line. A value given before the command
// stays, and none is shown as a default: the key may come from the
// command line or the environment, and help must not print it.
func (a *app) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Var(kept{&a.baseURL}, "base-url", "API `URL`, with an optional /v2.x version; default "+defaultBaseURL+a.envNote("ESIMD_URL"))
	fs.Var(kept{&a.apiKey}, "api-key", "API `key`"+a.envNote("ESIMD_API_KEY"))
	fs.BoolVar(&a.json, "json", a.json, "print JSON instead of tables")
	return fs
}

const defaultBaseURL = "http://localhost:8080"

// kept is a string flag that keeps the value it holds when defined (given
// before the command) and shows no default.
type kept struct{ p *string }

func (k kept) String() string { return "" }
func (k kept) Set(v string) error {
	*k.p = v
	return nil
}

// envNote says which variable a flag falls back to, and whether it is
// set, never its value.
func (a *app) envNote(key string) string {
	if a.getenv(key) != "" {
		return " (set from " + key + ")"
	}
	return " (env " + key + ")"
}

func (a *app) envOr(key, def string) string {
	if v := a.getenv(key); v != "" {
		return v
	}
	return def
}

// parseHelp parses args into fs; help that was asked for goes to stdout,
// the usage shown after a mistake to stderr.
func (a *app) parseHelp(fs *flag.FlagSet, args []string) error {
	var out bytes.Buffer
	fs.SetOutput(&out)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		a.stdout.Write(out.Bytes())
	case out.Len() > 0:
		a.stderr.Write(out.Bytes())
	}
	return err
}

var negativeNumber = regexp.MustCompile(`^-[0-9]`)

// anyArgs makes parse accept any number of positional arguments.
const anyArgs = -1 << 30

// parse parses flags before, between or after the positional arguments
// and checks their number: exactly n when n >= 0, at least -n when n < 0,
// any with anyArgs.
func (a *app) parse(fs *flag.FlagSet, args []string, n int, names string) ([]string, error) {
	if a.inspect != nil {
		a.inspect(fs)
		return nil, flag.ErrHelp
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s %s\n", fs.Name(), names)
		fs.PrintDefaults()
	}
	var positional []string
	for {
		// A negative number (an adjustment of -1.5) is an argument, not a
		// flag: no flag's name starts with a digit.
		for len(args) > 0 && negativeNumber.MatchString(args[0]) {
			positional = append(positional, args[0])
			args = args[1:]
		}
		if err := a.parseHelp(fs, args); err != nil {
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
		a.apiKey = a.getenv("ESIMD_API_KEY")
	}
	if a.apiKey == "" {
		return nil, usageErr("no API key: set ESIMD_API_KEY or pass --api-key (esimd serve prints the sandbox key on first start)")
	}
	c, err := a.newClient(esimapi.WithAPIKey(a.apiKey))
	if err != nil {
		return nil, err
	}
	a.client = c
	return c, nil
}

// newClient makes the SDK client for --base-url, else ESIMD_URL.
func (a *app) newClient(opts ...esimapi.Option) (*esimapi.Client, error) {
	if a.baseURL == "" {
		a.baseURL = a.envOr("ESIMD_URL", defaultBaseURL)
	}
	c, err := esimapi.NewClient(a.baseURL, append(opts, esimapi.WithUserAgent("esimctl/1 "+esimapi.DefaultUserAgent))...)
	if err != nil {
		return nil, usageErr("--base-url: %v", err)
	}
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
