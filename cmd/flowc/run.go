package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// cmdRun builds a model into a temporary directory and runs the binary
// with the remaining arguments.
func cmdRun(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage: flowc run model.flow [args for the model binary...]")
		return 2
	}
	g, err := compileFile(args[0], "", stderr)
	if err != nil {
		return 1
	}
	tmp, err := os.MkdirTemp("", "flowc-run-")
	if err != nil {
		fmt.Fprintln(stderr, "flowc:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "model")
	if err := build(g, args[0], buildOptions{out: bin, stderr: stderr}); err != nil {
		fmt.Fprintln(stderr, "flowc:", err)
		return 1
	}
	cmd := exec.Command(bin, args[1:]...)
	cmd.Stdin = os.Stdin
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		fmt.Fprintln(stderr, "flowc:", err)
		return 1
	}
	return 0
}
