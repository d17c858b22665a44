package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// parseInterspersed parses flags that may come before or after the
// positional arguments (flowc build model.flow -o out), which the flag
// package alone does not allow. It returns the positional arguments.
// Everything after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: flowc %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// optFlags are the compilation flags of gen and build: --no-opt,
// --dump-ir and --json (diagnostics as JSON on stdout).
type optFlags struct {
	noOpt  *bool
	dumpIR *string
	json   *bool
	mem    memoryFlag
}

// addOptFlags registers --no-opt and --dump-ir on fs.
func addOptFlags(fs *flag.FlagSet) *optFlags {
	return &optFlags{
		noOpt: fs.Bool("no-opt", false, "turn the optimization passes off"),
		dumpIR: fs.String("dump-ir", "", "print the IR to stderr after a compilation `stage`: after:<pass> (a pass or stage name; "+
			"see docs/language.md) or all"),
		json: fs.Bool("json", false, "print compile errors as one JSON array on stdout (as check --json does)"),
		mem:  addMemoryFlag(fs),
	}
}

// compile compiles one model with opts like compileWith and checks that
// it fits --max-memory; with --json, its diagnostics go to stdout as one
// JSON array instead.
func (o *optFlags) compile(path string, opts compiler.Options, stdout, stderr io.Writer) (*ir.Module, error) {
	g, err := compiler.CompileFile(path, opts)
	if err == nil {
		err = o.mem.check(g)
	}
	if !*o.json {
		if err != nil {
			printError(stderr, err)
			return nil, err
		}
		return g, nil
	}
	if err != nil {
		list, ok := diagnostics(err)
		if !ok {
			printError(stderr, err)
			return nil, err
		}
		if werr := writeJSON(stdout, lang.Diagnostics(list, readSource())); werr != nil {
			fmt.Fprintln(stderr, "flowc:", werr)
		}
		return nil, err
	}
	return g, nil
}

// compileOptions returns the compiler options the flags ask for, with
// model selecting the model; --dump-ir prints to stderr. An unknown stage
// name is an error that lists the valid ones.
func (o *optFlags) compileOptions(model string, stderr io.Writer) (compiler.Options, error) {
	opts := compiler.Options{Model: model, NoOptimize: *o.noOpt}
	spec := *o.dumpIR
	if spec == "" {
		return opts, nil
	}
	valid := compiler.StageNames()
	want := map[string]bool{}
	if spec != "all" {
		for _, item := range strings.Split(spec, ",") {
			name, ok := strings.CutPrefix(strings.TrimSpace(item), "after:")
			if !ok || !slices.Contains(valid, name) {
				return opts, fmt.Errorf("--dump-ir=%s: want all or after:<stage>, where a stage is one of %s", spec, strings.Join(valid, ", "))
			}
			if *o.noOpt && !slices.Contains(compiler.LoweringStageNames(), name) {
				return opts, fmt.Errorf("--dump-ir=%s: pass %s does not run with --no-opt", spec, name)
			}
			want[name] = true
		}
	}
	opts.DumpAfter = func(stage string, g *ir.Module) {
		if spec == "all" || want[stage] {
			fmt.Fprintf(stderr, "== after %s\n%s", stage, g.Dump())
		}
	}
	return opts, nil
}

// compileWith compiles one model with opts, printing diagnostics to
// stderr.
func compileWith(path string, opts compiler.Options, stderr io.Writer) (*ir.Module, error) {
	g, err := compiler.CompileFile(path, opts)
	if err != nil {
		printError(stderr, err)
		return nil, err
	}
	return g, nil
}
