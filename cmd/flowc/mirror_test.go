package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler/cost"
	"github.com/flow-lang/flow/runtime"
)

// TestConvDirectRuleMirrorsRuntime checks that the cost model's rule for
// where the direct convolution applies (cost.ConvDirectApplies, which
// cannot import the runtime) is the runtime's, over a grid of
// geometries: a plan the model makes runs the kernel it estimated.
func TestConvDirectRuleMirrorsRuntime(t *testing.T) {
	ops := []string{cost.OpConv2D, cost.OpConv2DBackpropInput, cost.OpConv2DBackpropFilter}
	checked := 0
	for _, inC := range []int{1, 3, 4, 5, 32, 64, 65, 96} {
		for _, outC := range []int{16, 32, 64, 96} {
			for _, k := range []int{1, 3, 5} {
				for _, stride := range []int{1, 2} {
					for _, pad := range []int{0, 1, 2, 4} {
						for _, dil := range []int{1, 2} {
							in := 12
							out := (in+2*pad-dil*(k-1)-1)/stride + 1
							if out <= 0 {
								continue
							}
							s := runtime.ConvShape{Batch: 2, InH: in, InW: in, InC: inC, KH: k, KW: k, OutC: outC, OutH: out, OutW: out,
								StrideH: stride, StrideW: stride, DilationH: dil, DilationW: dil, PadTop: pad, PadLeft: pad}
							g := cost.ConvGeometry{Batch: 2, InH: in, InW: in, InC: inC, KH: k, KW: k, OutC: outC, OutH: out, OutW: out,
								StrideH: stride, StrideW: stride, DilationH: dil, DilationW: dil, PadTop: pad, PadLeft: pad}
							for _, op := range ops {
								require.Equal(t, runtime.ConvDirectApplies(s, op), cost.ConvDirectApplies(op, g), "%s on %+v", op, s)
								checked++
							}
						}
					}
				}
			}
		}
	}
	require.Greater(t, checked, 1000)
}

// TestGemmKernelRulesMirrorRuntime checks that every kernel the cost
// model considers for a product (cost.Gemm's options, from the
// implementation's GemmDispatch) is one runtime.SgemmPlan runs as asked
// rather than falling back, over a grid of shapes and transposes, for the
// implementation this process uses: the plans generated code carries run
// the kernels that were estimated.
func TestGemmKernelRulesMirrorRuntime(t *testing.T) {
	p := cost.Default()
	p.Dispatch = detectDispatch()
	sizes := []int{1, 2, 4, 5, 10, 12, 16, 33, 100, 512}
	checked := 0
	for _, m := range sizes {
		for _, n := range sizes {
			for _, k := range []int{1, 7, 100, 784} {
				for _, ta := range []bool{false, true} {
					for _, tb := range []bool{false, true} {
						for _, o := range cost.Gemm(p, m, n, k, ta, tb).Options {
							want := gemmKernels[o.Kernel]
							got := runtime.GemmPlanKernel(runtime.GemmPlan{Kernel: want, Threads: o.Threads}, ta, tb, m, n, k)
							require.Equal(t, want, got, "%d×%d×%d transA=%v transB=%v: the model considered %s", m, n, k, ta, tb, o.Kernel)
							checked++
						}
					}
				}
			}
		}
	}
	require.Greater(t, checked, 1000)
	// And the dispatch describes the kernels the runtime has.
	var have []string
	for name, k := range gemmKernels {
		for _, r := range runtime.GemmKernels() {
			if r == k {
				have = append(have, name)
			}
		}
	}
	require.ElementsMatch(t, have, p.Dispatch.Kernels)
}
