package runtime

import (
	"fmt"
	"math"
	"sync"
)

// softmaxMinChunk is the number of elements below which the row kernels do
// not split work across goroutines.
const softmaxMinChunk = 1 << 14

// SoftmaxRows computes a numerically stable softmax of each of the rows
// rows of the row-major rows×cols matrix src and stores it in dst:
// dst[i,j] = exp(src[i,j]-max_i) / sum_j exp(src[i,j]-max_i). The sums are
// accumulated in float64. dst may alias src. A row containing NaN or +Inf
// yields NaN, as does a row that is all -Inf.
//
// SoftmaxRows panics if rows or cols is negative or a slice holds fewer than
// rows*cols elements.
func SoftmaxRows(dst, src []float32, rows, cols int) {
	checkRows("SoftmaxRows", dst, src, rows, cols)
	rowKernel(dst, src, rows, cols, softmaxRow)
}

// LogSoftmaxRows computes a numerically stable log-softmax of each row of
// the row-major rows×cols matrix src and stores it in dst:
// dst[i,j] = src[i,j] - max_i - log(sum_j exp(src[i,j]-max_i)). The sums are
// accumulated in float64. dst may alias src.
//
// LogSoftmaxRows panics if rows or cols is negative or a slice holds fewer
// than rows*cols elements.
func LogSoftmaxRows(dst, src []float32, rows, cols int) {
	checkRows("LogSoftmaxRows", dst, src, rows, cols)
	rowKernel(dst, src, rows, cols, logSoftmaxRow)
}

func checkRows(name string, dst, src []float32, rows, cols int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("runtime.%s: negative shape %d×%d", name, rows, cols))
	}
	if len(src) < rows*cols {
		panic(fmt.Sprintf("runtime.%s: src has %d elements, want %d×%d = %d", name, len(src), rows, cols, rows*cols))
	}
	if len(dst) < rows*cols {
		panic(fmt.Sprintf("runtime.%s: dst has %d elements, want %d×%d = %d", name, len(dst), rows, cols, rows*cols))
	}
}

// rowKernel applies f to every row, in parallel when the matrix is large.
// It allocates nothing in steady state: the serial path is a plain loop and
// the parallel one runs a rowTask taken from rowTasks.
func rowKernel(dst, src []float32, rows, cols int, f func(dst, src []float32)) {
	if rows == 0 || cols == 0 {
		return
	}
	minRows := max(1, softmaxMinChunk/cols)
	if parallelRanges(rows, minRows) < 2 {
		applyRows(dst, src, cols, 0, rows, f)
		return
	}
	t := rowTasks.Get().(*rowTask)
	*t = rowTask{dst: dst, src: src, cols: cols, f: f}
	ParallelFor(rows, minRows, t)
	*t = rowTask{} // drop the caller's slices before pooling
	rowTasks.Put(t)
}

// applyRows applies f to rows [lo, hi) of the row-major matrices with cols
// columns.
func applyRows(dst, src []float32, cols, lo, hi int, f func(dst, src []float32)) {
	for i := lo; i < hi; i++ {
		f(dst[i*cols:(i+1)*cols], src[i*cols:(i+1)*cols])
	}
}

// rowTask is the Task of rowKernel's parallel path.
type rowTask struct {
	dst, src []float32
	cols     int
	f        func(dst, src []float32)
}

var rowTasks = sync.Pool{New: func() any { return new(rowTask) }}

func (t *rowTask) Run(lo, hi int) { applyRows(t.dst, t.src, t.cols, lo, hi, t.f) }

// rowMax returns the largest element of a non-empty row, or NaN if the row
// holds a NaN.
func rowMax(src []float32) float32 {
	m := src[0]
	for _, v := range src {
		if v != v {
			return v
		}
		if v > m {
			m = v
		}
	}
	return m
}

func softmaxRow(dst, src []float32) {
	dst = dst[:len(src)]
	m := float64(rowMax(src))
	var sum float64
	for j, v := range src {
		e := math.Exp(float64(v) - m)
		sum += e
		dst[j] = float32(e)
	}
	inv := 1 / sum
	for j, v := range dst {
		dst[j] = float32(float64(v) * inv)
	}
}

// rowLogSumExp returns log(sum(exp(row))) of a non-empty row, computed
// stably in float64 by factoring out the row's maximum. The log-softmax
// and cross-entropy kernels share it.
func rowLogSumExp(row []float32) float64 {
	m := float64(rowMax(row))
	var sum float64
	for _, v := range row {
		sum += math.Exp(float64(v) - m)
	}
	return m + math.Log(sum)
}

func logSoftmaxRow(dst, src []float32) {
	dst = dst[:len(src)]
	shift := rowLogSumExp(src)
	for j, v := range src {
		dst[j] = float32(float64(v) - shift)
	}
}

// Argmax returns the index of the largest of scores, the first on ties;
// NaN scores lose to any number (index 0 when every score is NaN). A
// classifier's label is the Argmax of its class scores: eval's accuracy,
// predict's and serve's "label" all use it, so they agree.
func Argmax(scores []float32) int {
	best := 0
	for i, x := range scores {
		if x > scores[best] || scores[best] != scores[best] && x == x {
			best = i
		}
	}
	return best
}
