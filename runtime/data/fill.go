package data

import (
	"fmt"

	"github.com/flow-lang/flow/runtime/mnist"
)

// pixelScale maps a pixel byte to its float32 value in [0, 1].
var pixelScale = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// FillImages writes the images idx[0], idx[1], ... of im into dst one after
// another, each as Rows*Cols float32 values scaled from 0..255 to [0, 1]
// (pixel/255). It panics if dst holds fewer than len(idx)*Rows*Cols values
// or an index is out of range.
func FillImages(dst []float32, im *mnist.Images, idx []int) {
	size := im.Size()
	if len(dst) < len(idx)*size {
		panic(fmt.Sprintf("data.FillImages: dst has %d values, %d images of %d pixels need %d", len(dst), len(idx), size, len(idx)*size))
	}
	for k, i := range idx {
		if i < 0 || i >= im.N {
			panic(fmt.Sprintf("data.FillImages: index %d out of range [0, %d)", i, im.N))
		}
		src := im.Pixels[i*size : (i+1)*size]
		out := dst[k*size : (k+1)*size]
		for j, p := range src {
			out[j] = pixelScale[p]
		}
	}
}

// FillOneHot writes one row of classes values per index into dst: 1 at the
// column of labels[idx[k]] and 0 elsewhere. It panics if dst holds fewer
// than len(idx)*classes values, an index is out of range, or a label is not
// below classes.
func FillOneHot(dst []float32, labels []uint8, idx []int, classes int) {
	if len(dst) < len(idx)*classes {
		panic(fmt.Sprintf("data.FillOneHot: dst has %d values, %d rows of %d classes need %d", len(dst), len(idx), classes, len(idx)*classes))
	}
	for k, i := range idx {
		if i < 0 || i >= len(labels) {
			panic(fmt.Sprintf("data.FillOneHot: index %d out of range [0, %d)", i, len(labels)))
		}
		l := int(labels[i])
		if l >= classes {
			panic(fmt.Sprintf("data.FillOneHot: label %d of example %d is not below %d classes", l, i, classes))
		}
		row := dst[k*classes : (k+1)*classes]
		clear(row)
		row[l] = 1
	}
}
