// Command flowc compiles .flow models: it checks them, generates Go
// packages, and builds self-contained binaries that train and serve them.
//
//	flowc build model.flow -o bin/model [--target linux/arm64]
//	flowc gen   model.flow -o gen/model [--package name] [--dump-plan]
//	flowc check model.flow
//	flowc run   model.flow [args...]
//	flowc cost  model.flow [--batch N] [--json] [--profile FILE]
//	flowc graph model.flow -o out.dot|out.svg|out.html [--after STAGE]
//	flowc calibrate [-o FILE]
//	flowc fmt   [-w] [-d] [-l] [files or dirs...]
//
// Every verb is a thin call into packages lang, compiler, codegen and the
// build step in this command.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `flowc compiles .flow dataflow models to Go.

Usage:
  flowc build model.flow -o bin/model [--target GOOS/GOARCH] [--package NAME] [--work DIR]
  flowc gen   model.flow -o DIR [--package NAME] [--dump-plan]
  flowc check model.flow...
  flowc run   model.flow [args for the model binary...]
  flowc cost  model.flow [--batch N] [--json] [--profile FILE]
  flowc graph model.flow -o out.dot|out.svg|out.html [--after STAGE] [--renderer auto|dot|go]
  flowc calibrate [-o FILE]
  flowc fmt   [-w] [-d] [-l] [files or dirs...]

Run "flowc <command> -h" for a command's flags.
`

// run dispatches a command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmds := map[string]func([]string, io.Writer, io.Writer) int{
		"build":     cmdBuild,
		"gen":       cmdGen,
		"check":     cmdCheck,
		"run":       cmdRun,
		"cost":      cmdCost,
		"graph":     cmdGraph,
		"calibrate": cmdCalibrate,
		"fmt":       cmdFmt,
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "flowc: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	return cmd(args[1:], stdout, stderr)
}
