package modelgen

import (
	"runtime"
	"testing"
)

// allocatedBy returns the bytes the heap allocates while f runs.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestGenAllocatesLinearly guards compile-time scaling without timing
// anything: `flowc gen` of a model ten times larger may allocate at most
// 12 times as much. Work that is quadratic in the graph (a label built
// for every node from its whole expression, a slice rebuilt along a
// fused chain) shows here as a ratio near 100; BenchmarkGen measures the
// time.
func TestGenAllocatesLinearly(t *testing.T) {
	cases := []struct {
		name         string
		small, large string
	}{
		{"deep MLP, 20 → 200 layers", DeepMLP(20, 16), DeepMLP(200, 16)},
		{"x + x + …, 400 → 4000 terms", LongSum(400), LongSum(4000)},
		{"- - … - x, 400 → 4000 deep", NestedNeg(400), NestedNeg(4000)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gen := func(src string) func() {
				return func() { genOnce(t, "m.flow", []byte(src), stageTimes{}) }
			}
			gen(c.small)() // warm up: the op registry, jennifer's and gofmt's tables
			small, large := allocatedBy(gen(c.small)), allocatedBy(gen(c.large))
			ratio := float64(large) / float64(small)
			t.Logf("%d → %d bytes: %.1f×", small, large, ratio)
			if ratio > 12 {
				t.Errorf("ten times the model allocates %.1f times as much (%d → %d bytes); want at most 12", ratio, small, large)
			}
		})
	}
}

// TestGenAllocationPerNode bounds what `flowc gen` allocates per IR node
// of a 200-layer MLP (about 25 kB today), a guard against work that is
// linear but wasteful, such as evaluating every kernel plan at every
// batch size for every call (1.1 MB per node before plans were shared).
func TestGenAllocationPerNode(t *testing.T) {
	src := []byte(DeepMLP(200, 16))
	nodes := 0
	genOnce(t, "m.flow", src, stageTimes{})
	bytes := allocatedBy(func() { nodes = genOnce(t, "m.flow", src, stageTimes{}) })
	per := bytes / uint64(nodes)
	t.Logf("%d nodes, %d bytes, %d bytes per node", nodes, bytes, per)
	if per > 100<<10 {
		t.Errorf("gen allocates %d bytes per node; want at most 100 kB", per)
	}
}
