// Package cost is flow's cost model: it turns the work of each IR node —
// FLOPs and bytes read and written, from the op registry's Cost entries —
// into a roofline time estimate on a machine Profile, and records the
// decisions behind it (kernel variant, goroutine count, and why).
//
// A node's estimate is
//
//	max(FLOPs / rate, bytes / bandwidth) + per-call overhead [+ fork/join]
//
// where rate is the SGEMM throughput of the chosen kernel at the
// product's size (for matmul and the GEMM inside im2col convolutions) or
// the rate of generated scalar loops (everything else).
//
// The model makes the kernel decisions: for every SGEMM (Gemm) and
// convolution (Conv) it estimates each kernel that can compute it — the
// few-rows, plain-loop, narrow, direct (strided) and packed SGEMMs;
// im2col+GEMM and the direct convolution — on 1 to Cores goroutines, and
// picks the fastest. Generated code passes the choice to the runtime
// (runtime.SgemmPlan, runtime.Conv2DPlan), so what the model estimates is
// what runs.
//
// Profiles hold the machine figures. The built-in one was measured on
// the reference machine; `flowc calibrate` measures the current machine
// with the real runtime kernels and writes a profile file that later
// builds read (FLOW_PROFILE overrides its location).
//
// The package imports only compiler/ir: it knows the runtime's kernels by
// name and by their applicability rules (GemmDispatch,
// ConvDirectApplies), it does not call them.
package cost
