package modelgen

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flow-lang/flow/codegen"
	"github.com/flow-lang/flow/compiler"
)

// stageTimes accumulates the time spent in each stage of `flowc gen`
// over a benchmark's iterations, as the compiler and codegen report it.
type stageTimes map[string]time.Duration

// bucket groups the compiler's and codegen's stage names into the
// benchmark's columns.
func bucket(stage string) string {
	switch stage {
	case "parse", "check", "plan", "emit", "render", "gofmt":
		return stage
	case "train", "train-mode":
		return "train"
	}
	return "passes"
}

// genOnce runs `flowc gen`'s pipeline on src once, adding each stage's
// time to t, and returns the compiled graph's node count.
func genOnce(tb testing.TB, name string, src []byte, t stageTimes) int {
	timing := func(stage string, d time.Duration) { t[bucket(stage)] += d }
	g, err := compiler.Compile(name, src, compiler.Options{Timing: timing})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := codegen.Generate(g, codegen.Options{Source: filepath.Base(name), Timing: timing}); err != nil {
		tb.Fatal(err)
	}
	return len(g.Body.Nodes)
}

// benchGen benchmarks `flowc gen` of src, reporting the compiled graph's
// nodes and the milliseconds per stage.
func benchGen(b *testing.B, name string, src []byte) {
	t := stageTimes{}
	nodes := 0
	b.ReportAllocs()
	for range b.N {
		nodes = genOnce(b, name, src, t)
	}
	b.ReportMetric(float64(nodes), "nodes")
	for _, stage := range []string{"parse", "check", "passes", "train", "plan", "emit", "render", "gofmt"} {
		b.ReportMetric(float64(t[stage].Microseconds())/1e3/float64(b.N), stage+"-ms")
	}
}

// BenchmarkGen measures `flowc gen` — parse, check, passes, training
// lowering and codegen — on synthetic models that grow by a factor of
// ten (deep MLPs, one long sum, deeply nested negation) and on every
// example. Linear growth means each tenfold size costs about ten times
// the time; compare with benchstat across sizes.
func BenchmarkGen(b *testing.B) {
	for _, layers := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("deep=%d", layers), func(b *testing.B) {
			benchGen(b, "deep.flow", []byte(DeepMLP(layers, 16)))
		})
	}
	for _, terms := range []int{400, 4000, 40000} {
		b.Run(fmt.Sprintf("sum=%d", terms), func(b *testing.B) {
			benchGen(b, "sum.flow", []byte(LongSum(terms)))
		})
	}
	for _, depth := range []int{250, 2500, 25000} {
		b.Run(fmt.Sprintf("neg=%d", depth), func(b *testing.B) {
			benchGen(b, "neg.flow", []byte(NestedNeg(depth)))
		})
	}
	examples, err := filepath.Glob("../../examples/*.flow")
	if err != nil || len(examples) == 0 {
		b.Fatalf("no examples found: %v", err)
	}
	for _, path := range examples {
		src, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("example="+filepath.Base(path), func(b *testing.B) {
			benchGen(b, path, src)
		})
	}
}

// BenchmarkGen10k measures `flowc gen` of a training graph of about
// 10,000 IR nodes (a 590-layer MLP), the size the compile-time goal
// names.
func BenchmarkGen10k(b *testing.B) {
	benchGen(b, "deep.flow", []byte(DeepMLP(590, 16)))
}
