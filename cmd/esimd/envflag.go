package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
)

// envFlag is a flag whose value, when the command line does not give it,
// comes from an environment variable (read by applyEnv after parsing), else
// from the flag's built-in default. The variable's value never becomes the
// flag's default: help prints defaults, and ESIMD_ADMIN_TOKEN or an
// ESIMD_DB URL with a password would end up in pasted help output.
type envFlag struct {
	flag.Value
	key string
}

// String is the built-in default; flag.PrintDefaults also calls it on a
// zero envFlag, so it must not assume a wrapped value.
func (f *envFlag) String() string {
	if f == nil || f.Value == nil {
		return ""
	}
	return f.Value.String()
}

// IsBoolFlag lets a wrapped bool flag be given without a value.
func (f *envFlag) IsBoolFlag() bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// fromEnv binds the flag name, already defined on fs with its built-in
// default, to the environment variable key. Help says whether the variable
// is set, and from which variable the value comes, never the value.
func (e env) fromEnv(fs *flag.FlagSet, name, key string) {
	f := fs.Lookup(name)
	f.Value = &envFlag{Value: f.Value, key: key}
	if e.getenv(key) != "" {
		f.Usage += " (set from " + key + ")"
	} else {
		f.Usage += " (env " + key + ")"
	}
}

// applyEnv gives each env-bound flag that the command line left out the
// value of its variable, when set.
func (e env) applyEnv(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		ef, ok := f.Value.(*envFlag)
		if !ok || given[f.Name] || err != nil {
			return
		}
		v := e.getenv(ef.key)
		if v == "" {
			return
		}
		// The message names the variable but not its value, which may be a
		// secret; the flag package's own errors do not repeat it either.
		if serr := ef.Value.Set(v); serr != nil {
			err = fmt.Errorf("%w: %s is not a valid --%s: %v", errUsage, ef.key, f.Name, serr)
		}
	})
	return err
}

// parseHelp parses args into fs and routes what the flag package prints:
// help that was asked for goes to stdout (so that "esimd serve -h | less"
// works), the usage shown after a mistake goes to stderr.
func (e env) parseHelp(fs *flag.FlagSet, args []string) error {
	var out bytes.Buffer
	fs.SetOutput(&out)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		e.stdout.Write(out.Bytes())
	case out.Len() > 0:
		e.stderr.Write(out.Bytes())
	}
	return err
}
