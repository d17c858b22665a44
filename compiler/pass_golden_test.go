package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler/ir"
)

// TestPassGolden compiles testdata/passes/<pass>.flow, a model that
// exercises one optimization pass, and compares the IR before and after
// each run of that pass (on the forward graph, then on the training
// graph) with testdata/passes/<pass>.golden.
func TestPassGolden(t *testing.T) {
	for _, p := range OptimizationPasses {
		t.Run(p.Name, func(t *testing.T) {
			type stage struct{ name, dump string }
			var stages []stage
			path := filepath.Join("testdata", "passes", p.Name+".flow")
			_, err := CompileFile(path, Options{DumpAfter: func(name string, g *ir.Module) {
				stages = append(stages, stage{name, g.Dump()})
			}})
			require.NoError(t, err)
			var b strings.Builder
			runs := 0
			for i, s := range stages {
				if s.name != p.Name || i == 0 {
					continue
				}
				round := "forward graph"
				if runs > 0 {
					round = "training graph"
				}
				runs++
				b.WriteString("== before " + p.Name + " (" + round + ", after " + stages[i-1].name + ")\n")
				b.WriteString(stages[i-1].dump)
				b.WriteString("== after " + p.Name + "\n")
				b.WriteString(s.dump)
			}
			require.Equal(t, 2, runs, "the pass runs on the forward and on the training graph")
			golden := filepath.Join("testdata", "passes", p.Name+".golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./compiler -update")
			require.Equal(t, string(want), b.String())
		})
	}
}
