// Package cli is the command line of every model binary built by flowc. It
// is model-independent: a generated main is just
//
//	func main() { os.Exit(cli.Main(os.Args[1:], mymodel.New(), os.Stdout, os.Stderr)) }
//
// and the subcommands (train, eval, predict, serve, info, bench) drive the model through
// the runtime.Model interface and its Signature.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/flow-lang/flow/runtime"
)

// Exit codes returned by Main.
const (
	// ExitOK reports success.
	ExitOK = 0
	// ExitError reports a failed command; the reason is printed to stderr.
	ExitError = 1
	// ExitUsage reports a malformed command line.
	ExitUsage = 2
)

// stdin is where predict reads "-"; a variable so tests can replace it.
var stdin io.Reader = os.Stdin

// usageError is an error in the command line: Main prints it (unless it was
// already printed) with the usage and exits with ExitUsage.
type usageError struct {
	msg     string
	printed bool // the flag package has already reported it
	usage   func()
}

// Error returns the message without the usage text.
func (e *usageError) Error() string { return e.msg }

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(env *env, args []string) error
}

var commands = []command{
	{"train", "train the model on MNIST and report test accuracy", runTrain},
	{"eval", "report test accuracy and loss with the current parameters", runEval},
	{"predict", "read examples as JSON and write the model's outputs as JSON", runPredict},
	{"info", "describe the model's inputs, outputs and parameters", runInfo},
	{"bench", "time training steps or predictions on synthetic inputs", runBench},
	{"serve", "serve predictions over HTTP (TensorFlow Serving REST API)", runServe},
}

// env is what every subcommand works with.
type env struct {
	prog   string
	model  runtime.Model
	stdout io.Writer
	stderr io.Writer
}

// Main runs the model binary's command line: args are the arguments after
// the program name, m the model, and stdout and stderr where results and
// diagnostics go. It returns the process exit code: ExitOK, ExitError (after
// printing "error: ..." to stderr), ExitUsage, or ExitInterrupted or
// ExitTerminated for a train run a signal stopped early. Main does not call
// os.Exit.
func Main(args []string, m runtime.Model, stdout, stderr io.Writer) int {
	e := &env{prog: programName(), model: m, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		e.usage(stderr)
		return ExitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		e.usage(stdout)
		return ExitOK
	}
	for _, c := range commands {
		if c.name == name {
			if m == nil || m.Signature() == nil {
				return e.report(errors.New("the model has no signature"))
			}
			return e.report(c.run(e, rest))
		}
	}
	fmt.Fprintf(stderr, "error: unknown command %q\n", name)
	e.usage(stderr)
	return ExitUsage
}

func programName() string {
	if len(os.Args) > 0 && os.Args[0] != "" {
		return filepath.Base(os.Args[0])
	}
	return "model"
}

// usage prints the top-level usage.
func (e *env) usage(w io.Writer) {
	name := "a flow model"
	if e.model != nil {
		if sig := e.model.Signature(); sig != nil && sig.Model != "" {
			name = "the flow model " + sig.Model
		}
	}
	fmt.Fprintf(w, "%s runs %s.\n\nusage: %s <command> [flags]\n\ncommands:\n", e.prog, name, e.prog)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> -h' for a command's flags.\n", e.prog)
}

// report turns a command's error into output and an exit code.
func (e *env) report(err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	var ie *interruptedError
	if errors.As(err, &ie) { // the command has already said so
		return ie.exitCode()
	}
	var ue *usageError
	if errors.As(err, &ue) {
		if !ue.printed {
			fmt.Fprintf(e.stderr, "error: %s\n", oneLine(ue.msg))
			if ue.usage != nil {
				ue.usage()
			}
		}
		return ExitUsage
	}
	fmt.Fprintf(e.stderr, "error: %s\n", oneLine(err.Error()))
	return ExitError
}

// oneLine collapses whitespace runs, including newlines, to single spaces
// so every error is reported on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// newFlags returns a FlagSet for a subcommand whose usage line is
// "prog name synopsis", followed by about and the flag defaults.
func (e *env) newFlags(name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: %s %s %s\n\n%s\n", e.prog, name, synopsis, about)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintf(w, "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses args with fs and rejects positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{msg: err.Error(), printed: true}
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(0)), usage: fs.Usage}
	}
	return nil
}

// parseArgs parses flags given before or after positional arguments
// (predict --top 3 digit.png, predict digit.png --top 3) and returns the
// positional arguments; everything after "--" is positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{msg: err.Error(), printed: true}
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

// isSet reports whether the flag called name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}
