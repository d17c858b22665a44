package runtime

import (
	"fmt"
	"math"
)

// SparseSoftmaxCrossEntropyRows stores in dst[i], for each of the rows
// rows of the row-major rows×cols matrix logits, the cross entropy
// -log_softmax(logits[i,:])[labels[i]], computed stably as
// max_i + log(sum_j exp(logits[i,j]-max_i)) - logits[i,labels[i]] with
// float64 accumulation. A label outside 0..cols-1 yields NaN, as does a
// row with a NaN logit.
//
// SparseSoftmaxCrossEntropyRows panics if rows or cols is negative or a
// slice is too short (dst and labels need rows elements, logits
// rows*cols).
func SparseSoftmaxCrossEntropyRows[L int32 | int64](dst, logits []float32, labels []L, rows, cols int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("runtime.SparseSoftmaxCrossEntropyRows: negative size %d×%d", rows, cols))
	}
	if len(dst) < rows || len(labels) < rows || len(logits) < rows*cols {
		panic(fmt.Sprintf("runtime.SparseSoftmaxCrossEntropyRows: dst has %d elements, labels %d, logits %d; want %d, %d and %d",
			len(dst), len(labels), len(logits), rows, rows, rows*cols))
	}
	for i := 0; i < rows; i++ {
		label := labels[i]
		if label < 0 || int64(label) >= int64(cols) {
			dst[i] = float32(math.NaN())
			continue
		}
		row := logits[i*cols : (i+1)*cols]
		dst[i] = float32(rowLogSumExp(row) - float64(row[label]))
	}
}
