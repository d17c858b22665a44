package codegen_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
			golden := filepath.Join("..", "examples", "gen", pkg, pkg+".go")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
				require.NoError(t, os.WriteFile(golden, src, 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "missing golden file; run go test ./codegen -update")
			require.Equal(t, string(want), string(src), "generated code for %s differs from %s; run go test ./codegen -update and review the diff", path, golden)
		})
	}
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
		require.True(t, codegen.HasEmitter(def.Name), "op %s has no Go emitter", def.Name)
	}
}
