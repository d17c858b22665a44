package runtime

import (
	"fmt"
)

// SoftmaxCrossEntropyRows stores in dst[i], for each of the rows rows of
// the row-major rows×cols matrices logits and labels, the cross entropy
// -sum_j labels[i,j] * log_softmax(logits[i,:])[j], computed stably as
// -sum_j labels[i,j] * (logits[i,j] - max_i - log(sum_j exp(logits[i,j]-max_i)))
// with float64 accumulation. A row with a NaN or +Inf logit yields NaN.
//
// SoftmaxCrossEntropyRows panics if rows or cols is negative or a slice is
// too short (dst needs rows elements, logits and labels rows*cols).
func SoftmaxCrossEntropyRows(dst, logits, labels []float32, rows, cols int) {
	checkRows("SoftmaxCrossEntropyRows", logits, labels, rows, cols)
	if len(dst) < rows {
		panic(fmt.Sprintf("runtime.SoftmaxCrossEntropyRows: dst has %d elements, want %d", len(dst), rows))
	}
	if cols == 0 {
		clear(dst[:rows])
		return
	}
	for i := 0; i < rows; i++ {
		row := logits[i*cols : (i+1)*cols]
		lab := labels[i*cols : (i+1)*cols]
		lab = lab[:len(row)]
		shift := rowLogSumExp(row)
		var loss float64
		for j, v := range row {
			if y := float64(lab[j]); y != 0 {
				loss -= y * (float64(v) - shift)
			}
		}
		dst[i] = float32(loss)
	}
}
