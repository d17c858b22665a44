package main

import (
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
// nothing and prints nothing for good files.
func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", "check model.flow...", stderr)
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return usageError(err)
	}
	if len(files) == 0 {
		fs.Usage()
		return 2
	}
	code := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err == nil {
			_, err = compiler.CompileAll(f, src, compiler.Options{})
		}
		if err != nil {
			printError(stderr, err)
			code = 1
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
func compileFile(path, model string, stderr io.Writer) (*ir.Graph, error) {
	g, err := compiler.CompileFile(path, compiler.Options{Model: model})
	if err != nil {
		printError(stderr, err)
		return nil, err
	}
	return g, nil
}

// printError prints diagnostics as they are (file:line:col: message) and
// other errors with the command's name.
func printError(stderr io.Writer, err error) {
	var list lang.ErrorList
	var one *lang.Error
	if errors.As(err, &list) || errors.As(err, &one) {
		fmt.Fprintln(stderr, err)
		return
	}
	fmt.Fprintln(stderr, "flowc:", err)
}
