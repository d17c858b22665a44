package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/flow-lang/flow/codegen"
)

// cmdGen writes a model's Go package into a directory.
func cmdGen(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("gen", "gen model.flow -o DIR [--package NAME] [--no-opt] [--dump-ir=after:PASS|all] [--dump-plan]", stderr)
	out := fs.String("o", "", "output `directory` for the package (default: gen/<package>)")
	pkg := fs.String("package", "", "Go package `name` (default: the model name in lower case)")
	model := fs.String("model", "", "the model to compile when the file declares several")
	dumpPlan := fs.Bool("dump-plan", false, "print code generation's plan (storage and arena slots, fusion, epilogues, in-place updates, "+
		"parallel loops, kernel plans) to stdout instead of writing the package")
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
	g, err := optf.compile(files[0], opts, stdout, stderr)
	if err != nil {
		return 1
	}
	if *dumpPlan {
		plan, err := codegen.DumpPlan(g, genOptions(files[0], *pkg))
		if err != nil {
			fmt.Fprintln(stderr, "flowc:", err)
			return 1
		}
		stdout.Write(plan)
		return 0
	}
	src, err := codegen.Generate(g, genOptions(files[0], *pkg))
	if err != nil {
		fmt.Fprintln(stderr, "flowc:", err)
		return 1
	}
	name := *pkg
	if name == "" {
		name = codegen.PackageName(g.Name)
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("gen", name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(stderr, "flowc:", err)
		return 1
	}
	if err := writeFileAtomic(filepath.Join(dir, name+".go"), src, 0o644); err != nil {
		fmt.Fprintln(stderr, "flowc:", err)
		return 1
	}
	return 0
}

// genOptions are codegen's options for package pkg of the model at path:
// the source named as the user gave it, made relative and
// slash-separated so output does not depend on the machine.
func genOptions(path, pkg string) codegen.Options {
	src := filepath.ToSlash(path)
	if filepath.IsAbs(path) {
		src = filepath.Base(path)
	}
	return codegen.Options{Package: pkg, Source: src}
}

// writeFileAtomic writes data to path with the given permissions by way
// of a synced temporary file in the same directory renamed into place, so
// that a reader (or a crash) sees either the old file or the new one,
// never half of one.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
