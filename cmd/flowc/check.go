package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// cmdCheck parses and checks files, printing diagnostics; it writes
// nothing and prints nothing for good files. With --json it prints one
// JSON array of diagnostics on stdout instead (see lang.Diagnostic).
func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", "check [--json] [--max-memory SIZE] model.flow...", stderr)
	asJSON := fs.Bool("json", false, "print the diagnostics of all files as one JSON array on stdout, for editors")
	mem := addMemoryFlag(fs)
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return usageError(err)
	}
	if len(files) == 0 {
		fs.Usage()
		return 2
	}
	code := 0
	all := []lang.Diagnostic{}
	src := readSource()
	for _, f := range files {
		text, err := os.ReadFile(f)
		var graphs []*ir.Module
		if err == nil {
			graphs, err = compiler.CompileAll(f, text, compiler.Options{})
		}
		for _, g := range graphs {
			if err == nil {
				err = mem.check(g)
			}
		}
		if err == nil {
			continue
		}
		code = 1
		if list, ok := diagnostics(err); ok && *asJSON {
			all = append(all, lang.Diagnostics(list, src)...)
			continue
		}
		printError(stderr, err)
	}
	if *asJSON {
		if err := writeJSON(stdout, all); err != nil {
			fmt.Fprintln(stderr, "flowc:", err)
			return 1
		}
	}
	return code
}

func usageError(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// compileFile compiles one model (model selects it when the file
// declares several), printing diagnostics to stderr.
func compileFile(path, model string, stderr io.Writer) (*ir.Module, error) {
	g, err := compiler.CompileFile(path, compiler.Options{Model: model})
	if err != nil {
		printError(stderr, err)
		return nil, err
	}
	return g, nil
}

// diagnostics returns the positioned diagnostics err holds, if it is a
// lang.ErrorList or a lang.Error.
func diagnostics(err error) (lang.ErrorList, bool) {
	var list lang.ErrorList
	if errors.As(err, &list) {
		return list, true
	}
	var one *lang.Error
	if errors.As(err, &one) {
		return lang.ErrorList{one}, true
	}
	return nil, false
}

// printError is the one way every verb prints a compile error:
// diagnostics as file:line:col: message with the source line and a caret
// under the column (see lang.Render), other errors with the command's
// name.
func printError(stderr io.Writer, err error) {
	printErrorSource(stderr, err, readSource())
}

// printErrorSource is printError with the source lines from src.
func printErrorSource(stderr io.Writer, err error, src lang.SourceFunc) {
	if list, ok := diagnostics(err); ok {
		if rerr := lang.Render(stderr, list, src); rerr == nil {
			return
		}
	}
	fmt.Fprintln(stderr, "flowc:", err)
}

// writeJSON prints diagnostics as one indented JSON array ([] when there
// are none) and a newline.
func writeJSON(w io.Writer, diags []lang.Diagnostic) error {
	if diags == nil {
		diags = []lang.Diagnostic{}
	}
	data, err := json.MarshalIndent(diags, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// readSource returns a lang.SourceFunc that reads the files diagnostics
// name, once each; a file that cannot be read renders without its lines.
func readSource() lang.SourceFunc {
	cache := map[string][]byte{}
	return func(file string) []byte {
		if src, ok := cache[file]; ok {
			return src
		}
		src, err := os.ReadFile(file)
		if err != nil {
			src = nil
		}
		cache[file] = src
		return src
	}
}
