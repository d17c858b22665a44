package cost

import (
	"fmt"

	"github.com/flow-lang/flow/compiler/ir"
)

// Dispatch constants of the parallel runtime kernels other than SGEMM
// (whose kernels the model chooses itself; see Gemm). They must follow the
// runtime: the estimates describe what it does.
const (
	convColMax      = 1 << 20 // runtime.convColMax
	poolMinImages   = 4       // runtime.poolMinImages
	softmaxMinChunk = 1 << 14 // runtime.softmaxMinChunk
)

// NodeEstimate is the cost model's account of one node.
type NodeEstimate struct {
	ID     int      `json:"id"`
	Name   string   `json:"name"`
	Op     string   `json:"op"`
	Shape  string   `json:"shape"`  // the result type, e.g. f32[64,512]
	Inputs []string `json:"inputs"` // the operand types
	FLOPs  float64  `json:"flops"`
	// BytesRead and BytesWritten are the registry's memory traffic.
	BytesRead    float64 `json:"bytes_read"`
	BytesWritten float64 `json:"bytes_written"`
	// Micros is the estimated time of one execution.
	Micros float64 `json:"us"`
	// Kernel is the variant chosen: a GEMM kernel ("rows", "small",
	// "packed"), "im2col+gemm", a runtime row or pool kernel, or "loop"
	// for generated scalar code.
	Kernel string `json:"kernel"`
	// Threads is the number of goroutines the node's work runs on.
	Threads int `json:"threads"`
	// Bound is "compute" or "memory", the side of the roofline that set
	// the estimate, or "gemm" for a GEMM costed by its measured rates.
	Bound string `json:"bound"`
	// Reason explains the choice in one line.
	Reason string `json:"reason"`
}

// Program is the estimate of one generated program (predict or train
// step) at one binding of the symbolic dimensions.
type Program struct {
	Name   string         `json:"program"`
	Batch  int            `json:"batch"`
	Nodes  []NodeEstimate `json:"nodes"`
	Micros float64        `json:"us"`
	FLOPs  float64        `json:"flops"`
	Bytes  float64        `json:"bytes"`
	// Slowdown is the factor the node times were stretched by for the
	// machine's other work (Profile.Slowdown); 1 when none.
	Slowdown float64 `json:"slowdown"`
}

// Bind returns the binding that gives every symbolic dimension of g the
// value batch.
func Bind(g *ir.Module, batch int) ir.Binding {
	b := ir.Binding{}
	for _, s := range g.Syms {
		b[s] = batch
	}
	return b
}

// PredictNodes returns the nodes the predict program computes: every node
// the outputs depend on, in schedule order.
func PredictNodes(g *ir.Module) []*ir.Node {
	if len(g.Outputs()) == 0 {
		return nil
	}
	return g.Schedule(g.Outputs()...)
}

// TrainNodes returns the nodes a training step computes: the training
// loss and every update, in schedule order; nil for a model that does not
// train.
func TrainNodes(g *ir.Module) []*ir.Node {
	if g.Loss() == nil {
		return nil
	}
	roots := append([]*ir.Node{g.TrainingLoss()}, g.Updates()...)
	return g.Schedule(roots...)
}

// Predict estimates the predict program of g at batch size batch; nil
// when g has no outputs.
func Predict(g *ir.Module, p *Profile, batch int) *Program {
	return PredictFused(g, p, batch, nil, nil)
}

// Train estimates one training step of g at batch size batch; nil when g
// does not train.
func Train(g *ir.Module, p *Profile, batch int) *Program {
	return TrainFused(g, p, batch, nil, nil)
}

// Fusion maps each node code generation computes inside its consumer's
// loop (no buffer of its own) to that consumer; see codegen.Fusion. An
// element-wise node mapped to a matmul or conv2d is part of that
// kernel's epilogue: the kernel applies it (a bias, a ReLU) as it writes
// its output.
type Fusion map[*ir.Node]*ir.Node

// PredictFused and TrainFused are Predict and Train for the code codegen
// generates: it fuses the nodes of f into their consumers (a fused node
// writes nothing and its consumer does not read it back, so both move
// less memory, and the table says where each fused node went) and splits
// the element-wise loops of split over that many goroutines (a decision
// it takes with Threads and this profile).
func PredictFused(g *ir.Module, p *Profile, batch int, f Fusion, split map[*ir.Node]int) *Program {
	return program(g, p, "predict", PredictNodes(g), batch, f, split)
}

// TrainFused is Train with fusion; see PredictFused.
func TrainFused(g *ir.Module, p *Profile, batch int, f Fusion, split map[*ir.Node]int) *Program {
	return program(g, p, "train", TrainNodes(g), batch, f, split)
}

// program estimates the program made of nodes at batch size batch; nil
// when there are no nodes (no outputs, or no training).
func program(g *ir.Module, p *Profile, name string, nodes []*ir.Node, batch int, f Fusion, split map[*ir.Node]int) *Program {
	if nodes == nil {
		return nil
	}
	pr := estimate(p, name, nodes, Bind(g, batch), f, split)
	pr.Batch = batch
	return pr
}

// Estimate estimates a program made of nodes under the binding b. Nodes
// that generate no code (inputs, params, constants, assigns) are left
// out.
func Estimate(p *Profile, name string, nodes []*ir.Node, b ir.Binding) *Program {
	return estimate(p, name, nodes, b, nil, nil)
}

// estimate is Estimate with the nodes of f fused into their consumers.
func estimate(p *Profile, name string, nodes []*ir.Node, b ir.Binding, f Fusion, split map[*ir.Node]int) *Program {
	pr := &Program{Name: name, Slowdown: 1}
	saved := map[*ir.Node]float64{} // bytes a consumer does not read back
	for n, q := range f {
		if !q.Op.Epilogues {
			saved[q] += typeBytes(n, b)
		}
	}
	summed := map[*ir.Node]bool{} // matmuls whose kernel sums their batch
	for n, q := range f {
		if n.Op == ir.SumTo && q.Op == ir.Matmul && SumsBatch(q) {
			summed[q] = true
		}
	}
	for _, n := range nodes {
		if !computes(n) {
			continue
		}
		e := EstimateNode(p, n, b)
		if summed[n] {
			m, nn, k := MatmulSumDims(n, b)
			estimateGemm(p, m, nn, k, 1, true, false, &e)
			e.Reason = "summed over its batch axes by the same product; " + e.Reason
		}
		if q, ok := f[n]; ok && q.Op.Epilogues {
			// Applied by q's kernel to each block of its output while
			// in cache, by a vector loop (8 lanes of the scalar loops'
			// rate): no memory traffic of its own.
			e.BytesRead, e.BytesWritten = 0, 0
			e.Kernel, e.Threads, e.Bound = "epilogue", 1, "compute"
			e.Reason = fmt.Sprintf("applied by %s's kernel as it writes its output", q.Label())
			e.Micros = e.FLOPs / (8 * p.ElementwiseGFLOPS * 1e3)
		} else if q, ok := f[n]; ok {
			// Computed in q's loop: nothing written, and the time is
			// q's (its bytes are the operands q reads through it).
			e.BytesWritten = 0
			roofline(p, &e, 1, "fused", fmt.Sprintf("computed inside %s's loop: no buffer, %s less memory traffic", q.Label(), byteCount(2*typeBytes(n, b))))
			e.Micros -= p.CallUs
		} else if e.Kernel == "loop" {
			why := "generated loop on the caller"
			threads := 1
			if t := split[n]; t > 1 {
				threads, why = t, fmt.Sprintf("generated loop split over %d goroutines (runtime.ParallelFor)", t)
			}
			if s := saved[n]; s > 0 {
				e.BytesRead = max(0, e.BytesRead-s)
				why += "; reads fused operands in its loop"
			}
			if threads > 1 || saved[n] > 0 {
				roofline(p, &e, threads, e.Kernel, why)
			}
		}
		pr.Nodes = append(pr.Nodes, e)
		pr.Micros += e.Micros
		pr.FLOPs += e.FLOPs
		pr.Bytes += e.BytesRead + e.BytesWritten
	}
	// A long program shares the cores with the machine's other work.
	if f := p.Slowdown(pr.Micros); f != 1 {
		pr.Slowdown = f
		pr.Micros = 0
		for i := range pr.Nodes {
			pr.Nodes[i].Micros *= f
			pr.Micros += pr.Nodes[i].Micros
		}
	}
	return pr
}

// computes reports whether n generates code of its own.
func computes(n *ir.Node) bool {
	switch n.Op {
	case ir.Input, ir.Param, ir.Const, ir.Assign:
		return false
	}
	return true
}

// Trips is the number of times a loop node runs its body under the
// binding b, as the cost model assumes it: a scan's sequence length; a
// while's limit (the most it can run), or 1 without one.
func Trips(n *ir.Node, b ir.Binding) float64 {
	switch n.Op {
	case ir.Scan:
		return float64(n.Inputs[0].Type.Shape[n.Attrs.Ints("axes")[0]].Eval(b))
	case ir.While:
		return float64(max(1, n.Attrs.Int("limit", 0)))
	}
	return 1
}

// Recorded returns the bytes a loop node keeps for its gradient under
// the binding b: the carried values of every trip (record = true, set
// when the loop is differentiated), which its reverse loop reads.
func Recorded(n *ir.Node, b ir.Binding) float64 {
	if !n.Attrs.Bool("record") {
		return 0
	}
	k := n.Attrs.Int("carried", 0)
	elems := n.Type.Elems
	var total float64
	for _, t := range elems[len(elems)-k:] {
		total += t.Shape.Size(b) * float64(t.DType.Size())
	}
	return total
}

// estimateRegions estimates a control-flow node from the nodes of its
// regions: a cond's costlier branch, a loop's body (and condition) times
// its trips.
func estimateRegions(p *Profile, n *ir.Node, b ir.Binding, e *NodeEstimate) {
	var per float64
	var count int
	regions := n.Regions()
	for _, r := range regions {
		var t float64
		for _, m := range r.Nodes {
			if computes(m) {
				t += EstimateNode(p, m, b).Micros
				count++
			}
		}
		if n.Op == ir.Cond {
			per = max(per, t)
		} else {
			per += t
		}
	}
	trips := Trips(n, b)
	e.Micros, e.Threads, e.Kernel, e.Bound = per*trips, 1, "loop", "compute"
	switch n.Op {
	case ir.Cond:
		e.Reason = fmt.Sprintf("if: the costlier branch, %.1f µs (%d nodes in both)", per, count)
	default:
		e.Reason = fmt.Sprintf("%s: %.0f trips × %.1f µs (%d nodes a trip)", n.Op.Name, trips, per, count)
		if rec := Recorded(n, b); rec > 0 {
			e.Reason += fmt.Sprintf("; keeps %s bytes of carried values for its gradient", formatBytes(rec))
		}
	}
}

// formatBytes renders a byte count with a binary suffix.
func formatBytes(v float64) string {
	switch {
	case v >= 1<<30:
		return fmt.Sprintf("%.2f Gi", v/(1<<30))
	case v >= 1<<20:
		return fmt.Sprintf("%.2f Mi", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.1f Ki", v/(1<<10))
	}
	return fmt.Sprintf("%.0f ", v)
}

// EstimateNode estimates one node under the binding b.
func EstimateNode(p *Profile, n *ir.Node, b ir.Binding) NodeEstimate {
	c := n.Op.Cost(n, &ir.Context{Binding: b, Trips: func(m *ir.Node) float64 { return Trips(m, b) }})
	e := NodeEstimate{
		ID: n.ID, Name: n.Label(), Op: n.Op.Name, Shape: n.Type.String(),
		FLOPs: c.FLOPs, BytesRead: c.BytesRead, BytesWritten: c.BytesWritten,
		Threads: 1,
	}
	for _, in := range n.Inputs {
		e.Inputs = append(e.Inputs, in.Type.String())
	}
	switch n.Op.Kernel {
	case ir.NoKernel:
		if len(n.Regions()) > 0 {
			estimateRegions(p, n, b, &e)
		} else {
			estimateLoop(p, &e)
		}
	case ir.GEMMKernel:
		estimateMatmul(p, n, b, &e)
	case ir.ConvKernel:
		estimateConv(p, n, b, &e)
	case ir.PoolKernel:
		batch := n.Inputs[0].Type.Shape[0].Eval(b)
		threads := min(p.Cores, max(1, batch/poolMinImages))
		why := fmt.Sprintf("runtime pool kernel, split by image: %d images (>= %d per goroutine)", batch, poolMinImages)
		if threads == 1 {
			why = fmt.Sprintf("runtime pool kernel on the caller: %d images < %d per goroutine × 2", batch, poolMinImages)
		}
		roofline(p, &e, threads, "pool", why)
	case ir.RowKernel:
		s := n.Type.Shape
		cols := s[len(s)-1].Eval(b)
		rows := count(s[:len(s)-1], b)
		minRows := max(1, softmaxMinChunk/max(cols, 1))
		threads := min(p.Cores, max(1, rows/minRows))
		why := fmt.Sprintf("runtime row kernel split by rows: %d×%d elements >= %d per goroutine", rows, cols, softmaxMinChunk)
		if threads == 1 {
			why = fmt.Sprintf("runtime row kernel on the caller: %d×%d elements < 2×%d", rows, cols, softmaxMinChunk)
		}
		roofline(p, &e, threads, "rows", why)
	}
	return e
}

// estimateLoop estimates a node computed by a generated loop on the
// caller.
func estimateLoop(p *Profile, e *NodeEstimate) {
	why := "generated loop on the caller"
	if par, save := parallelPays(p, *e); par > 1 && save >= 1 {
		why += fmt.Sprintf(" (%d goroutines would save %.0f µs)", par, save)
	}
	roofline(p, e, 1, "loop", why)
}

// roofline sets e's time from its FLOPs at the scalar-loop rate and its
// bytes at the bandwidth, split over threads goroutines.
func roofline(p *Profile, e *NodeEstimate, threads int, kernel, why string) {
	compute := e.FLOPs / (p.ElementwiseGFLOPS * 1e3)
	memory := (e.BytesRead + e.BytesWritten) / (p.BandwidthGBs * 1e3)
	e.Bound = "compute"
	t := compute
	if memory > compute {
		e.Bound = "memory"
		t = memory
	}
	e.Kernel, e.Threads, e.Reason = kernel, threads, why
	e.Micros = t/float64(threads) + p.CallUs
	if threads > 1 {
		e.Micros += p.ForkJoinUs
	}
}

// parallelPays returns how many goroutines would make an element-wise
// node fastest (1 when the fork/join overhead eats the gain) and the time
// that would save.
func parallelPays(p *Profile, e NodeEstimate) (int, float64) {
	serial := max(e.FLOPs/(p.ElementwiseGFLOPS*1e3), (e.BytesRead+e.BytesWritten)/(p.BandwidthGBs*1e3))
	t := Threads(serial, p.Cores, p.ForkJoinUs)
	if t == 1 {
		return 1, 0
	}
	return t, serial - (serial/float64(t) + p.ForkJoinUs)
}

// Threads returns the goroutine count that minimizes serialUs/t +
// forkJoinUs (t > 1) against serialUs (t = 1), for up to cores
// goroutines: work gets threads only when it is large enough for the
// fork/join overhead to pay off.
func Threads(serialUs float64, cores int, forkJoinUs float64) int {
	best, bestT := serialUs, 1
	for t := 2; t <= cores; t++ {
		if v := serialUs/float64(t) + forkJoinUs; v < best {
			best, bestT = v, t
		}
	}
	return bestT
}

// MatmulDims returns the SGEMM calls a matmul node makes under the
// binding b, as generated code makes them: one op(A) m×k by op(B) k×n
// product for a rank-2 matmul or a batch of row-major A matrices sharing
// one B (stacked into one product), calls products of that size
// otherwise (runtime.SgemmBatched).
func MatmulDims(n *ir.Node, b ir.Binding) (m, nn, k, calls int, transA, transB bool) {
	as, bs, os := n.Inputs[0].Type.Shape, n.Inputs[1].Type.Shape, n.Type.Shape
	transA, transB = n.Attrs.Bool("transpose_a"), n.Attrs.Bool("transpose_b")
	m, k = as[len(as)-2].Eval(b), as[len(as)-1].Eval(b)
	if transA {
		m, k = k, m
	}
	nn = os[len(os)-1].Eval(b)
	calls = 1
	if len(as) > 2 || len(bs) > 2 {
		total := count(ir.MatmulBatch(os), b)
		na, nb := count(ir.MatmulBatch(as), b), count(ir.MatmulBatch(bs), b)
		if nb == 1 && na == total && !transA {
			m = int(min(float64(m)*float64(total), maxCount)) // one product over the stacked rows of A
		} else {
			calls = total
		}
	}
	return m, nn, k, calls, transA, transB
}

// SumsBatch reports whether generated code can compute sum_to(n), the sum
// of batched matmul n's products over its batch axes, Σᵢ Aᵢᵀ Bᵢ, as one
// SGEMM: n is f32 with transpose_a and not transpose_b, and both operands
// have the result's batch axes (no broadcasting), so that the stacked
// row-major Aᵢ and Bᵢ are one (batch·k)×m and one (batch·k)×n matrix and
// the sum is the product of the first's transpose and the second. The
// gradient of x @ W for a rank-3 x and a shared W is such a sum.
func SumsBatch(n *ir.Node) bool {
	if n.Op != ir.Matmul || n.Type.DType != ir.F32 || !n.Attrs.Bool("transpose_a") || n.Attrs.Bool("transpose_b") {
		return false
	}
	as, bs, os := n.Inputs[0].Type.Shape, n.Inputs[1].Type.Shape, n.Type.Shape
	batch := ir.MatmulBatch(os)
	return len(batch) > 0 && ir.MatmulBatch(as).Equal(batch) && ir.MatmulBatch(bs).Equal(batch)
}

// MatmulSumDims returns the dimensions of the one SGEMM that computes the
// sum over its batch axes of batched matmul n (see SumsBatch): m×k times
// k×nn with k the inner dimension times the batch count.
func MatmulSumDims(n *ir.Node, b ir.Binding) (m, nn, k int) {
	m, nn, k, _, _, _ = MatmulDims(n, b)
	k = int(min(float64(k)*float64(count(ir.MatmulBatch(n.Type.Shape), b)), maxCount))
	return m, nn, k
}

// estimateMatmul estimates a matmul as the SGEMM calls generated code
// makes, each run as Gemm chooses.
func estimateMatmul(p *Profile, n *ir.Node, b ir.Binding, e *NodeEstimate) {
	m, nn, k, calls, ta, tb := MatmulDims(n, b)
	estimateGemm(p, m, nn, k, calls, ta, tb, e)
}

// estimateGemm estimates calls SGEMM calls of one shape, each run as Gemm
// chooses.
func estimateGemm(p *Profile, m, nn, k, calls int, ta, tb bool, e *NodeEstimate) {
	g := Gemm(p, m, nn, k, ta, tb)
	e.Kernel, e.Threads = g.Kernel, g.Threads
	e.Micros = g.Micros * float64(calls)
	e.Reason = g.Reason()
	if calls > 1 {
		e.Reason = fmt.Sprintf("%d calls; %s", calls, e.Reason)
	}
	// The GEMM rates are measured at the sizes used, memory traffic
	// included (the few-rows kernel is bound by reading B), and the
	// packing copies are costed at their bandwidth: no separate memory
	// roofline.
	e.Bound = "gemm"
}

// maxCount caps the element counts the cost model computes in ints, so
// that no product of them overflows: 2^40 elements (ir.MaxElements) at a
// batch of 2^20 (the most flowc cost takes), far beyond what the
// estimates mean anything for.
const maxCount = 1 << 60

// count is the element count of s under b, capped at maxCount.
func count(s ir.Shape, b ir.Binding) int {
	return int(min(s.Size(b), maxCount))
}

// typeBytes is the size of n's result under b.
func typeBytes(n *ir.Node, b ir.Binding) float64 {
	return n.Type.Shape.Size(b) * float64(n.Type.DType.Size())
}

// byteCount renders a byte count: 1.5 MB, 12 kB, 40 B.
func byteCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1f MB", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.0f kB", v/1e3)
	}
	return fmt.Sprintf("%.0f B", v)
}
