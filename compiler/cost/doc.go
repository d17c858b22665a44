// Package cost is flow's cost model: it turns the work of each IR node —
// FLOPs and bytes read and written, from the op registry's Cost entries —
// into a roofline time estimate on a machine Profile, and records the
// decisions behind it (kernel variant, goroutine count, and why).
//
// A node's estimate is
//
//	max(FLOPs / rate, bytes / bandwidth) + per-call overhead [+ fork/join]
//
// where rate is the SGEMM throughput of the chosen kernel variant at the
// product's size (for matmul and the GEMM inside im2col convolutions) or
// the rate of generated scalar loops (everything else). The GEMM dispatch
// mirrors runtime.Sgemm: the row-sweep kernel for m <= 4, the plain-loop
// kernel for tiny products, the packed kernel otherwise, split across
// goroutines from 128³ multiply-adds up (see runtime/gemm.go).
//
// Profiles hold the machine figures. The built-in one was measured on
// the reference machine; `flowc calibrate` measures the current machine
// with the real runtime kernels and writes a profile file that later
// builds read (FLOW_PROFILE overrides its location).
//
// The package imports only compiler/ir: it describes the runtime's
// dispatch rules, it does not call them.
package cost
