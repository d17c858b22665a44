package codegen_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/codegen"
	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/ir"
)

var update = flag.Bool("update", false, "rewrite golden files")

// exampleFiles lists every model in examples/.
func exampleFiles(t *testing.T) []string {
	files, err := filepath.Glob("../examples/*.flow")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// generateExample compiles an example and generates its package, with
// the source named relative to the repository root as flowc gen would
// when run there.
func generateExample(t *testing.T, path string) (*ir.Module, []byte) {
	g, err := compiler.CompileFile(path, compiler.Options{})
	require.NoError(t, err)
	src, err := codegen.Generate(g, codegen.Options{Source: strings.TrimPrefix(path, "../")})
	require.NoError(t, err)
	return g, src
}

// TestGoldenExamples compares the generated package of every example with
// the checked-in copy in examples/gen/<package>/, which the module
// compiles and examples/gen's tests run against the interpreter. Run
// `go test ./codegen -update` to regenerate, and read the diff.
func TestGoldenExamples(t *testing.T) {
	for _, path := range exampleFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			g, src := generateExample(t, path)
			pkg := codegen.PackageName(g.Name)
			checkGolden(t, filepath.Join("..", "examples", "gen", pkg, pkg+".go"), src, "generated code for "+path)
		})
	}
}

// TestGoldenPlans compares the plan of every example (codegen.DumpPlan,
// flowc gen --dump-plan) with examples/gen/<package>/plan.txt, beside its
// generated code. Run `go test ./codegen -update` to regenerate, and read
// the diff: it shows every decision that changed.
func TestGoldenPlans(t *testing.T) {
	for _, path := range exampleFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			g, err := compiler.CompileFile(path, compiler.Options{})
			require.NoError(t, err)
			dump, err := codegen.DumpPlan(g, codegen.Options{})
			require.NoError(t, err)
			again, err := codegen.DumpPlan(g, codegen.Options{})
			require.NoError(t, err)
			require.Equal(t, string(dump), string(again), "two dumps of %s differ", path)
			pkg := codegen.PackageName(g.Name)
			checkGolden(t, filepath.Join("..", "examples", "gen", pkg, "plan.txt"), dump, "the plan of "+path)
		})
	}
}

// checkGolden compares got, which what names in messages, with the
// golden file, or rewrites the file with -update.
func checkGolden(t *testing.T, golden string, got []byte, what string) {
	t.Helper()
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
		require.NoError(t, os.WriteFile(golden, got, 0o644))
		return
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "missing golden file; run go test ./codegen -update")
	require.Equal(t, string(want), string(got), "%s differs from %s; run go test ./codegen -update and review the diff", what, golden)
}

// TestGenerateIsDeterministic generates every example twice, from two
// separate compilations, and requires identical bytes.
func TestGenerateIsDeterministic(t *testing.T) {
	for _, path := range exampleFiles(t) {
		_, a := generateExample(t, path)
		_, b := generateExample(t, path)
		require.True(t, bytes.Equal(a, b), "two generations of %s differ", path)
	}
}

// TestGeneratedCodeIsVetClean runs go vet on the generated packages.
func TestGeneratedCodeIsVetClean(t *testing.T) {
	out, err := exec.Command("go", "vet", "../examples/gen/...").CombinedOutput()
	require.NoError(t, err, "go vet: %s", out)
}

// TestEveryOpHasAnEmitter keeps the emitter table in step with the op
// registry.
func TestEveryOpHasAnEmitter(t *testing.T) {
	for _, def := range ir.Ops() {
		if def.Dataflow {
			require.False(t, codegen.HasEmitter(def), "op %s of the dataflow form has a Go emitter", def.Name)
			continue
		}
		require.True(t, codegen.HasEmitter(def), "op %s has no Go emitter", def.Name)
	}
}

// TestTimingReportsStages checks that Options.Timing hears of every
// stage of generation, in order, the plan (every planning step) first.
func TestTimingReportsStages(t *testing.T) {
	g, err := compiler.CompileFile("../examples/mnist_softmax.flow", compiler.Options{})
	require.NoError(t, err)
	var stages []string
	_, err = codegen.Generate(g, codegen.Options{Timing: func(stage string, _ time.Duration) { stages = append(stages, stage) }})
	require.NoError(t, err)
	require.Equal(t, []string{"plan", "emit", "render", "gofmt"}, stages)
}
