package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/esimd/esimd/internal/buildinfo"
	"github.com/esimd/esimd/internal/completion"
)

// version prints the build: module version and VCS revision.
func (a *app) version(args []string) error {
	fs := a.flagSet("esimctl version")
	if _, err := a.parse(fs, args, 0, ""); err != nil {
		return err
	}
	info := buildinfo.Read("esimctl")
	if a.json {
		return a.printJSON(info)
	}
	_, err := fmt.Fprintln(a.stdout, info)
	return err
}

// completionCmd returns the command that prints shell's completion script.
func completionCmd(shell string) command {
	return command{shell + " completion script", func(a *app, args []string) error {
		fs := flag.NewFlagSet("esimctl completion "+shell, flag.ContinueOnError)
		if _, err := a.parse(fs, args, 0, ""); err != nil {
			return err
		}
		tree, err := a.commandTree()
		if err != nil {
			return err
		}
		script, err := completion.Script(shell, tree)
		if err != nil {
			return err
		}
		_, err = io.WriteString(a.stdout, script)
		return err
	}}
}

// commandTree is every group, command and flag, each flag set taken from
// the command itself: run with inspect set, a command hands over its flag
// set instead of parsing it.
func (a *app) commandTree() (completion.Command, error) {
	flagsOf := func(name string, run func(*app, []string) error) ([]completion.Flag, error) {
		var flags []completion.Flag
		probe := &app{ctx: a.ctx, getenv: func(string) string { return "" }, stdout: io.Discard, stderr: io.Discard,
			inspect: func(fs *flag.FlagSet) { flags = completion.FlagsOf(fs) }}
		if err := run(probe, nil); !errors.Is(err, flag.ErrHelp) {
			return nil, fmt.Errorf("esimctl %s: the command does not hand over its flags before other work (%v)", name, err)
		}
		return flags, nil
	}
	probe := &app{getenv: func(string) string { return "" }}
	root := completion.Command{Name: "esimctl", Flags: completion.FlagsOf(probe.flagSet("esimctl"))}
	groups := a.groups()
	for _, g := range sortedNames(groups) {
		n := completion.Command{Name: g, Summary: groupSummaries[g]}
		for _, c := range sortedNames(groups[g]) {
			flags, err := flagsOf(g+" "+c, groups[g][c].run)
			if err != nil {
				return root, err
			}
			n.Subs = append(n.Subs, completion.Command{Name: c, Summary: groups[g][c].summary, Flags: flags})
		}
		root.Subs = append(root.Subs, n)
	}
	flags, err := flagsOf("version", (*app).version)
	if err != nil {
		return root, err
	}
	root.Subs = append(root.Subs, completion.Command{Name: "version", Summary: "print the version and the revision it was built from", Flags: flags},
		completion.Command{Name: "help", Summary: "show help"})
	return root, nil
}
