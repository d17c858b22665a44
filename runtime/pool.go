package runtime

import (
	"fmt"
	"math"
	"sync"
)

// PoolShape is the geometry of 2-D pooling over NHWC images: Batch
// images of InH×InW×C, a KH×KW window moved by StrideH×StrideW, an output
// of OutH×OutW×C per image, and the padding before the first row (PadTop)
// and column (PadLeft). Output (oh, ow) covers input rows
// oh*StrideH - PadTop + [0, KH) and columns ow*StrideW - PadLeft + [0, KW),
// clipped to the image: padding never takes part in a max or a mean.
type PoolShape struct {
	Batch, InH, InW, C int
	KH, KW             int
	StrideH, StrideW   int
	OutH, OutW         int
	PadTop, PadLeft    int
}

// String describes the geometry for panic messages.
func (s PoolShape) String() string {
	return fmt.Sprintf("batch %d, input %d×%d×%d, window %d×%d, strides %d×%d, output %d×%d, padding %d,%d",
		s.Batch, s.InH, s.InW, s.C, s.KH, s.KW, s.StrideH, s.StrideW, s.OutH, s.OutW, s.PadTop, s.PadLeft)
}

func (s PoolShape) inputLen() int  { return s.Batch * s.InH * s.InW * s.C }
func (s PoolShape) outputLen() int { return s.Batch * s.OutH * s.OutW * s.C }

func (s PoolShape) check(fn string, lens ...sliceLen) {
	if s.Batch < 0 || s.InH < 1 || s.InW < 1 || s.C < 1 || s.KH < 1 || s.KW < 1 || s.StrideH < 1 || s.StrideW < 1 ||
		s.OutH < 0 || s.OutW < 0 || s.PadTop < 0 || s.PadLeft < 0 {
		panic(fmt.Sprintf("runtime.%s: invalid geometry: %v", fn, s))
	}
	// Every window must hold at least one input element.
	if s.OutH > 0 && s.OutW > 0 {
		if h0, h1 := s.rows(s.OutH - 1); h0 >= h1 {
			panic(fmt.Sprintf("runtime.%s: the last window row lies outside the input: %v", fn, s))
		}
		if w0, w1 := s.cols(s.OutW - 1); w0 >= w1 {
			panic(fmt.Sprintf("runtime.%s: the last window column lies outside the input: %v", fn, s))
		}
		if h0, h1 := s.rows(0); h0 >= h1 {
			panic(fmt.Sprintf("runtime.%s: the first window row lies outside the input: %v", fn, s))
		}
		if w0, w1 := s.cols(0); w0 >= w1 {
			panic(fmt.Sprintf("runtime.%s: the first window column lies outside the input: %v", fn, s))
		}
	}
	if l, short := shortSlice(lens); short {
		panic(fmt.Sprintf("runtime.%s: %s has %d elements, want %d for %v", fn, l.name, l.got, l.want, s))
	}
}

// rows returns the input rows [h0, h1) of output row oh, clipped.
func (s PoolShape) rows(oh int) (int, int) {
	h := oh*s.StrideH - s.PadTop
	return max(h, 0), min(h+s.KH, s.InH)
}

// cols returns the input columns [w0, w1) of output column ow, clipped.
func (s PoolShape) cols(ow int) (int, int) {
	w := ow*s.StrideW - s.PadLeft
	return max(w, 0), min(w+s.KW, s.InW)
}

// Pooling kinds.
const (
	poolMax = iota
	poolMaxGrad
	poolAvg
	poolAvgGrad
)

// MaxPool stores in dst the maximum of each window of the NHWC images x,
// per channel. A NaN that is the first element of its window propagates.
//
// MaxPool panics if s is invalid or a slice is too short for it.
func MaxPool(dst, x []float32, s PoolShape) {
	s.check("MaxPool", sliceLen{"dst", len(dst), s.outputLen()}, sliceLen{"x", len(x), s.inputLen()})
	runPool(poolMax, dst, x, nil, s)
}

// MaxPoolGrad computes dx, the gradient of MaxPool with respect to x,
// from x and the output gradient dy: each element of dy is added to the
// input element that was its window's maximum, the first one in
// row-major window order when several are equal. dx is overwritten.
//
// MaxPoolGrad panics if s is invalid or a slice is too short for it.
func MaxPoolGrad(dx, x, dy []float32, s PoolShape) {
	s.check("MaxPoolGrad", sliceLen{"dx", len(dx), s.inputLen()}, sliceLen{"x", len(x), s.inputLen()}, sliceLen{"dy", len(dy), s.outputLen()})
	runPool(poolMaxGrad, dx, x, dy, s)
}

// AvgPool stores in dst the mean of each window of the NHWC images x, per
// channel, over the window's elements inside the image (so SAME padding
// does not pull border means towards zero, as in TensorFlow).
//
// AvgPool panics if s is invalid or a slice is too short for it.
func AvgPool(dst, x []float32, s PoolShape) {
	s.check("AvgPool", sliceLen{"dst", len(dst), s.outputLen()}, sliceLen{"x", len(x), s.inputLen()})
	runPool(poolAvg, dst, x, nil, s)
}

// AvgPoolGrad computes dx, the gradient of AvgPool with respect to its
// input, from the output gradient dy: each element of dy is spread evenly
// over the input elements its window averaged. dx is overwritten.
//
// AvgPoolGrad panics if s is invalid or a slice is too short for it.
func AvgPoolGrad(dx, dy []float32, s PoolShape) {
	s.check("AvgPoolGrad", sliceLen{"dx", len(dx), s.inputLen()}, sliceLen{"dy", len(dy), s.outputLen()})
	runPool(poolAvgGrad, dx, nil, dy, s)
}

// poolMinImages is the number of images below which pooling runs on the
// calling goroutine.
const poolMinImages = 4

// poolTask runs one pooling kind over a range of images; images write
// disjoint parts of dst, so ranges are independent.
type poolTask struct {
	kind       int
	dst, x, dy []float32
	s          PoolShape
}

var poolTasks = sync.Pool{New: func() any { return new(poolTask) }}

func runPool(kind int, dst, x, dy []float32, s PoolShape) {
	if s.Batch == 0 {
		return
	}
	if parallelRanges(s.Batch, poolMinImages) < 2 {
		t := poolTask{kind: kind, dst: dst, x: x, dy: dy, s: s}
		t.Run(0, s.Batch)
		return
	}
	t := poolTasks.Get().(*poolTask)
	*t = poolTask{kind: kind, dst: dst, x: x, dy: dy, s: s}
	ParallelFor(s.Batch, poolMinImages, t)
	*t = poolTask{}
	poolTasks.Put(t)
}

func (t *poolTask) Run(lo, hi int) {
	s := t.s
	in, out := s.InH*s.InW*s.C, s.OutH*s.OutW*s.C
	for b := lo; b < hi; b++ {
		switch t.kind {
		case poolMax:
			maxPoolImage(t.dst[b*out:][:out], t.x[b*in:][:in], s)
		case poolMaxGrad:
			maxPoolGradImage(t.dst[b*in:][:in], t.x[b*in:][:in], t.dy[b*out:][:out], s)
		case poolAvg:
			avgPoolImage(t.dst[b*out:][:out], t.x[b*in:][:in], s)
		case poolAvgGrad:
			avgPoolGradImage(t.dst[b*in:][:in], t.dy[b*out:][:out], s)
		}
	}
}

func maxPoolImage(dst, img []float32, s PoolShape) {
	c := s.C
	for oh := 0; oh < s.OutH; oh++ {
		h0, h1 := s.rows(oh)
		for ow := 0; ow < s.OutW; ow++ {
			w0, w1 := s.cols(ow)
			d := dst[(oh*s.OutW+ow)*c:][:c]
			copy(d, img[(h0*s.InW+w0)*c:][:c])
			for ih := h0; ih < h1; ih++ {
				for iw := w0; iw < w1; iw++ {
					if ih == h0 && iw == w0 {
						continue
					}
					maxInto(d, img[(ih*s.InW+iw)*c:][:c])
				}
			}
		}
	}
}

// maxIntoGo is maxInto in plain Go.
func maxIntoGo(d, v []float32) {
	v = v[:len(d)]
	for j, x := range v {
		if x > d[j] {
			d[j] = x
		}
	}
}

// argMaxIntoGo is argMaxInto in plain Go.
func argMaxIntoGo(bv []float32, bi []int32, v []float32, p int32) {
	bi, v = bi[:len(bv)], v[:len(bv)]
	for j, x := range v {
		if x > bv[j] {
			bv[j], bi[j] = x, p
		}
	}
}

// poolChannelBlock is the number of channels maxPoolGradImage tracks at
// once, in arrays on its stack.
const poolChannelBlock = 64

// poolOffsetMax is the largest image, in elements, whose offsets
// maxPoolGradImage keeps as int32.
const poolOffsetMax = math.MaxInt32

// maxPoolGradImage routes the gradient of one image's windows to their
// first maxima. It sweeps each window over a block of channels at a time,
// keeping each channel's best value and the offset of the pixel holding
// it, so that the inner loops run branch-free over contiguous channels.
func maxPoolGradImage(dx, img, dy []float32, s PoolShape) {
	if len(img) > poolOffsetMax {
		maxPoolGradImageScalar(dx, img, dy, s)
		return
	}
	c := s.C
	clear(dx)
	var best [poolChannelBlock]float32
	var at [poolChannelBlock]int32
	for oh := 0; oh < s.OutH; oh++ {
		h0, h1 := s.rows(oh)
		for ow := 0; ow < s.OutW; ow++ {
			w0, w1 := s.cols(ow)
			g := dy[(oh*s.OutW+ow)*c:][:c]
			for c0 := 0; c0 < c; c0 += poolChannelBlock {
				n := min(poolChannelBlock, c-c0)
				bv, bi := best[:n], at[:n]
				first := (h0*s.InW + w0) * c
				copy(bv, img[first+c0:][:n])
				for j := range bi {
					bi[j] = int32(first)
				}
				for ih := h0; ih < h1; ih++ {
					for iw := w0; iw < w1; iw++ {
						off := (ih*s.InW + iw) * c
						if off != first {
							argMaxInto(bv, bi, img[off+c0:][:n], int32(off))
						}
					}
				}
				for j, gv := range g[c0 : c0+n] {
					dx[int(bi[j])+c0+j] += gv
				}
			}
		}
	}
}

// maxPoolGradImageScalar is maxPoolGradImage one channel at a time, with
// int offsets, for images too large for int32 ones.
func maxPoolGradImageScalar(dx, img, dy []float32, s PoolShape) {
	c := s.C
	clear(dx)
	for oh := 0; oh < s.OutH; oh++ {
		h0, h1 := s.rows(oh)
		for ow := 0; ow < s.OutW; ow++ {
			w0, w1 := s.cols(ow)
			g := dy[(oh*s.OutW+ow)*c:][:c]
			for ch, gv := range g {
				best := (h0*s.InW+w0)*c + ch
				bv := img[best]
				for ih := h0; ih < h1; ih++ {
					for iw := w0; iw < w1; iw++ {
						i := (ih*s.InW+iw)*c + ch
						if v := img[i]; v > bv {
							best, bv = i, v
						}
					}
				}
				dx[best] += gv
			}
		}
	}
}

func avgPoolImage(dst, img []float32, s PoolShape) {
	c := s.C
	for oh := 0; oh < s.OutH; oh++ {
		h0, h1 := s.rows(oh)
		for ow := 0; ow < s.OutW; ow++ {
			w0, w1 := s.cols(ow)
			d := dst[(oh*s.OutW+ow)*c:][:c]
			clear(d)
			for ih := h0; ih < h1; ih++ {
				for iw := w0; iw < w1; iw++ {
					src := img[(ih*s.InW+iw)*c:][:len(d)]
					for j, v := range src {
						d[j] += v
					}
				}
			}
			cnt := float32((h1 - h0) * (w1 - w0))
			for j := range d {
				d[j] /= cnt
			}
		}
	}
}

func avgPoolGradImage(dx, dy []float32, s PoolShape) {
	c := s.C
	clear(dx)
	for oh := 0; oh < s.OutH; oh++ {
		h0, h1 := s.rows(oh)
		for ow := 0; ow < s.OutW; ow++ {
			w0, w1 := s.cols(ow)
			g := dy[(oh*s.OutW+ow)*c:][:c]
			inv := 1 / float32((h1-h0)*(w1-w0))
			for ih := h0; ih < h1; ih++ {
				for iw := w0; iw < w1; iw++ {
					d := dx[(ih*s.InW+iw)*c:][:len(g)]
					for j, v := range g {
						d[j] += v * inv
					}
				}
			}
		}
	}
}
