package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	flow "github.com/flow-lang/flow"
	"github.com/flow-lang/flow/codegen"
	"github.com/flow-lang/flow/compiler/ir"
)

// modulePath is the flow module's path, which generated code imports.
const modulePath = "github.com/flow-lang/flow"

// cmdBuild compiles a model into a self-contained binary.
func cmdBuild(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("build", "build model.flow -o bin/model [--target GOOS/GOARCH] [--no-opt] [--dump-ir=after:PASS|all]", stderr)
	out := fs.String("o", "", "output `path` of the binary (default: the model's package name)")
	target := fs.String("target", "", "cross-compile for `GOOS/GOARCH`, e.g. linux/arm64")
	pkg := fs.String("package", "", "Go package `name` of the model (default: the model name in lower case)")
	work := fs.String("work", "", "keep the build directory at `DIR` instead of a temporary one")
	model := fs.String("model", "", "the model to compile when the file declares several")
	optf := addOptFlags(fs)
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return usageError(err)
	}
	if len(files) != 1 {
		fs.Usage()
		return 2
	}
	opts, err := optf.compileOptions(*model, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "flowc:", err)
		return 2
	}
	// The cost-based passes use the profile builds use (see
	// generateProfiled), so a calibrated machine gets its own decisions.
	if opts.Profile, err = loadProfile(""); err != nil {
		fmt.Fprintln(stderr, "flowc:", err)
		return 1
	}
	g, err := optf.compile(files[0], opts, stdout, stderr)
	if err != nil {
		return 1
	}
	bin := *out
	if bin == "" {
		bin = codegen.PackageName(g.Name)
	}
	if err := build(g, files[0], buildOptions{out: bin, target: *target, pkg: *pkg, work: *work, stderr: stderr}); err != nil {
		fmt.Fprintln(stderr, "flowc:", err)
		return 1
	}
	return 0
}

type buildOptions struct {
	out    string // binary path
	target string // GOOS/GOARCH or ""
	pkg    string // model package name or ""
	work   string // build directory to keep, or "" for a temporary one
	stderr io.Writer
}

// build writes a standalone Go module — the generated model package, a
// generated main, and a copy of the runtime embedded in flowc, joined by a
// replace directive — and runs go build on it. The module needs nothing
// from the network.
func build(g *ir.Module, source string, o buildOptions) error {
	src, err := generateProfiled(g, source, o.pkg)
	if err != nil {
		return err
	}
	name := o.pkg
	if name == "" {
		name = codegen.PackageName(g.Name)
	}
	dir := o.work
	if dir == "" {
		tmp, err := os.MkdirTemp("", "flowc-build-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string][]byte{
		"go.mod":                  []byte(fmt.Sprintf("module flowbuild/%s\n\ngo 1.26\n\nrequire %s v0.0.0\n\nreplace %s => ./flow\n", name, modulePath, modulePath)),
		"flow/go.mod":             []byte(fmt.Sprintf("module %s\n\ngo 1.26\n", modulePath)),
		name + "/" + name + ".go": src,
		"main.go":                 codegen.GenerateMain(g, "flowbuild/"+name+"/"+name),
	}
	if err := copyRuntime(files); err != nil {
		return err
	}
	for rel, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	absOut, err := filepath.Abs(o.out)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(absOut), 0o755); err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", absOut, ".")
	cmd.Dir = dir
	cmd.Stdout = o.stderr
	cmd.Stderr = o.stderr
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	if o.target != "" {
		goos, goarch, ok := strings.Cut(o.target, "/")
		if !ok || goos == "" || goarch == "" {
			return fmt.Errorf("--target %q: want GOOS/GOARCH, e.g. linux/arm64", o.target)
		}
		cmd.Env = append(cmd.Env, "GOOS="+goos, "GOARCH="+goarch)
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build of the generated module failed (%v); rerun with --work DIR to keep it", err)
	}
	return nil
}

// copyRuntime adds the embedded runtime's Go and assembly sources (no
// tests, no test data) to files under flow/.
func copyRuntime(files map[string][]byte) error {
	return fs.WalkDir(flow.RuntimeSource, "runtime", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return fs.SkipDir
			}
			return nil
		}
		if ext := path.Ext(p); ext != ".go" && ext != ".s" || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		data, err := flow.RuntimeSource.ReadFile(p)
		if err != nil {
			return err
		}
		files["flow/"+p] = data
		return nil
	})
}
