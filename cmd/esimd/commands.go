package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/esimd/esimd/internal/buildinfo"
	"github.com/esimd/esimd/internal/completion"
)

// command is one top-level command. When subs is set, those are the only
// words accepted after it; run then receives the subcommand first.
type command struct {
	name, summary string
	subs          []subcommand
	run           func(e env, ctx context.Context, args []string) error
}

type subcommand struct{ name, summary string }

// commands is every command, in the order help lists them; dispatch, help
// and the completion scripts are all made from it.
func commands() []command {
	return []command{
		{"serve", "run the server", nil, env.serve},
		{"migrate", "bring the schema up to date", nil, env.migrate},
		{"copy", "copy a SQLite database into PostgreSQL", nil, env.copyCmd},
		{"backup", "copy a live SQLite database to a file", nil, env.backupCmd},
		{"restore", "put a backup in place of a database", nil, env.restoreCmd},
		{"org", "manage organisations", []subcommand{
			{"create", "create an organisation and its first API key"},
			{"list", "list organisations"},
			{"show", "show one organisation"},
			{"update", "change an organisation's settings"},
			{"credit", "add to (or adjust) an organisation's balance"},
		}, env.org},
		{"apikey", "manage API keys", []subcommand{
			{"create", "issue an API key (shown once)"},
			{"list", "list an organisation's API keys"},
			{"revoke", "revoke an API key"},
		}, env.apikey},
		{"catalogue", "manage the catalogue", []subcommand{
			{"import", "import a rate sheet or a bundle CSV"},
			{"demo", "load the demo catalogue"},
			{"show", "summarise the catalogue"},
		}, env.catalogueCmd},
		{"pool", "eSIM profiles for live organisations", []subcommand{
			{"import", "add profiles from a CSV"},
		}, env.pool},
		{"callbacks", "callback settings, delivery log, replays", []subcommand{
			{"show", "show an organisation's callback settings"},
			{"set", "change callback settings"},
			{"log", "the delivery log, newest first"},
			{"events", "events with their delivery status"},
			{"replay", "send one event, or a time range of events, again"},
			{"test", "send a test callback now"},
			{"seal-key", "sign callbacks with an existing API key"},
			{"reseal", "seal every signing key again under a new ESIMD_SECRET_KEY"},
		}, env.callbacks},
		{"version", "print the version and the revision it was built from", nil, env.version},
		{"completion", "print a shell completion script", []subcommand{
			{"bash", "bash completion"},
			{"zsh", "zsh completion"},
			{"fish", "fish completion"},
		}, env.completion},
	}
}

func findCommand(name string) (command, bool) {
	i := slices.IndexFunc(commands(), func(c command) bool { return c.name == name })
	if i < 0 {
		return command{}, false
	}
	return commands()[i], true
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// dispatch runs the command args name. Help that was asked for goes to
// stdout and ends with flag.ErrHelp (exit status 0); help shown after a
// mistake goes to stderr with a usage error.
func (e env) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return fmt.Errorf("%w: name a command", errUsage)
	}
	name, rest := args[0], args[1:]
	if isHelp(name) {
		if len(rest) == 0 {
			fmt.Fprint(e.stdout, usage)
			return flag.ErrHelp
		}
		// "esimd help org create" is "esimd org create -h".
		return e.dispatch(ctx, append(slices.Clone(rest), "-h"))
	}
	cmd, ok := findCommand(name)
	if !ok {
		fmt.Fprint(e.stderr, usage)
		return fmt.Errorf("%w: unknown command %q", errUsage, name)
	}
	if len(cmd.subs) == 0 {
		return cmd.run(e, ctx, rest)
	}
	switch {
	case len(rest) == 0:
		cmd.printSubs(e.stderr)
		return fmt.Errorf("%w: name a command of esimd %s", errUsage, cmd.name)
	case isHelp(rest[0]):
		if rest[0] == "help" && len(rest) > 1 {
			return e.dispatch(ctx, append([]string{cmd.name}, append(slices.Clone(rest[1:]), "-h")...))
		}
		cmd.printSubs(e.stdout)
		return flag.ErrHelp
	case !slices.ContainsFunc(cmd.subs, func(s subcommand) bool { return s.name == rest[0] }):
		cmd.printSubs(e.stderr)
		return fmt.Errorf("%w: unknown %s command %q; run \"esimd %s -h\"", errUsage, cmd.name, rest[0], cmd.name)
	}
	return cmd.run(e, ctx, rest)
}

func (c command) printSubs(w io.Writer) {
	fmt.Fprintf(w, "esimd %s: %s.\n\nUsage: esimd %s COMMAND [flags] [arguments]\n\nCommands:\n", c.name, c.summary, c.name)
	width := 0
	for _, s := range c.subs {
		width = max(width, len(s.name))
	}
	for _, s := range c.subs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, s.name, s.summary)
	}
	fmt.Fprintf(w, "\nRun \"esimd %s COMMAND -h\" for a command's flags.\n", c.name)
}

// version prints the build: module version and VCS revision.
func (e env) version(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("esimd version", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: version takes no arguments", errUsage)
	}
	info := buildinfo.Read("esimd")
	if *asJSON {
		return writeJSONOut(e.stdout, info)
	}
	_, err := fmt.Fprintln(e.stdout, info)
	return err
}

// completion prints the completion script of a shell.
func (e env) completion(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("esimd completion "+args[0], flag.ContinueOnError)
	if err := e.parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: completion %s takes no arguments", errUsage, args[0])
	}
	tree, err := e.commandTree(ctx)
	if err != nil {
		return err
	}
	script, err := completion.Script(args[0], tree)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	_, err = io.WriteString(e.stdout, script)
	return err
}

// commandTree is every command, subcommand and flag, each flag set taken
// from the command itself: run with inspect set, a command hands over its
// flag set instead of parsing it.
func (e env) commandTree(ctx context.Context) (completion.Command, error) {
	flagsOf := func(c command, args []string) ([]completion.Flag, error) {
		var flags []completion.Flag
		probe := env{getenv: func(string) string { return "" }, stdout: io.Discard, stderr: io.Discard,
			inspect: func(fs *flag.FlagSet) { flags = completion.FlagsOf(fs) }}
		if err := c.run(probe, ctx, args); !errors.Is(err, flag.ErrHelp) {
			return nil, fmt.Errorf("esimd %s: the command does not hand over its flags before other work (%v)", strings.Join(append([]string{c.name}, args...), " "), err)
		}
		return flags, nil
	}
	root := completion.Command{Name: "esimd"}
	for _, c := range commands() {
		n := completion.Command{Name: c.name, Summary: c.summary}
		var err error
		if len(c.subs) == 0 {
			if n.Flags, err = flagsOf(c, nil); err != nil {
				return root, err
			}
		}
		for _, s := range c.subs {
			flags, err := flagsOf(c, []string{s.name})
			if err != nil {
				return root, err
			}
			n.Subs = append(n.Subs, completion.Command{Name: s.name, Summary: s.summary, Flags: flags})
		}
		root.Subs = append(root.Subs, n)
	}
	return root, nil
}
