package runtime

import (
	"fmt"
	"sync"
)

// ConvShape is the geometry of a 2-D convolution over NHWC images, as
// generated code passes it: Batch images of InH×InW×InC, a filter of
// KH×KW×InC×OutC (row-major [KH, KW, InC, OutC], TensorFlow's layout),
// an output of OutH×OutW×OutC per image, the strides and dilations, and
// the zero padding before the first row (PadTop) and column (PadLeft).
// Output position (oh, ow) and filter tap (kh, kw) read input row
// oh*StrideH + kh*DilationH - PadTop and column
// ow*StrideW + kw*DilationW - PadLeft; taps outside the image read zero.
type ConvShape struct {
	Batch, InH, InW, InC int
	KH, KW, OutC         int
	OutH, OutW           int
	StrideH, StrideW     int
	DilationH, DilationW int
	PadTop, PadLeft      int
}

// String describes the geometry for panic messages.
func (s ConvShape) String() string {
	return fmt.Sprintf("batch %d, input %d×%d×%d, filter %d×%d×%d×%d, output %d×%d, strides %d×%d, dilations %d×%d, padding %d,%d",
		s.Batch, s.InH, s.InW, s.InC, s.KH, s.KW, s.InC, s.OutC, s.OutH, s.OutW, s.StrideH, s.StrideW, s.DilationH, s.DilationW, s.PadTop, s.PadLeft)
}

// patch is the length of one im2col row: the filter taps of one output
// position times the input channels.
func (s ConvShape) patch() int { return s.KH * s.KW * s.InC }

// Sizes of the tensors a ConvShape describes.
func (s ConvShape) inputLen() int  { return s.Batch * s.InH * s.InW * s.InC }
func (s ConvShape) filterLen() int { return s.KH * s.KW * s.InC * s.OutC }
func (s ConvShape) outputLen() int { return s.Batch * s.OutH * s.OutW * s.OutC }

// check panics with a descriptive message when s is not a valid geometry
// or a slice is too short for it: programming errors in the caller.
func (s ConvShape) check(fn string, lens ...sliceLen) {
	if s.Batch < 0 || s.InH < 1 || s.InW < 1 || s.InC < 1 || s.KH < 1 || s.KW < 1 || s.OutC < 1 ||
		s.OutH < 0 || s.OutW < 0 || s.StrideH < 1 || s.StrideW < 1 || s.DilationH < 1 || s.DilationW < 1 ||
		s.PadTop < 0 || s.PadLeft < 0 {
		panic(fmt.Sprintf("runtime.%s: invalid geometry: %v", fn, s))
	}
	if l, short := shortSlice(lens); short {
		panic(fmt.Sprintf("runtime.%s: %s has %d elements, want %d for %v", fn, l.name, l.got, l.want, s))
	}
}

// sliceLen is one slice argument of a kernel: its name, its length and
// the length the geometry needs.
type sliceLen struct {
	name      string
	got, want int
}

// shortSlice returns the first slice shorter than the geometry needs, if
// any.
func shortSlice(lens []sliceLen) (sliceLen, bool) {
	for _, l := range lens {
		if l.got < l.want {
			return l, true
		}
	}
	return sliceLen{}, false
}

// convColMax is the number of float32s of im2col scratch a convolution
// uses at most (4 MiB), unless a single image needs more. The batch is
// processed in chunks of whole images that fit, each as one GEMM.
const convColMax = 1 << 20

// convChunk returns how many images one chunk holds.
func (s ConvShape) convChunk() int {
	per := s.OutH * s.OutW * s.patch()
	if per == 0 {
		return max(s.Batch, 1)
	}
	return max(1, min(s.Batch, convColMax/per))
}

// convScratch holds the im2col matrix of one chunk.
type convScratch struct {
	col, acc  []float32
	flip      []float32       // Conv2DBackpropInput's flipped filter
	off, taps []int           // the direct kernel's offset tables
	tile      [3 * 32]float32 // one output block of the direct kernel
}

var convPool = sync.Pool{New: func() any { return new(convScratch) }}

// isPointwise reports whether the convolution is a plain matrix product
// over pixels (1×1 filter, stride 1, no padding), which needs no im2col.
func (s ConvShape) isPointwise() bool {
	return s.KH == 1 && s.KW == 1 && s.StrideH == 1 && s.StrideW == 1 && s.PadTop == 0 && s.PadLeft == 0 &&
		s.OutH == s.InH && s.OutW == s.InW
}

// Conv2D computes the convolution (TensorFlow's conv2d, a
// cross-correlation) of the NHWC images x with filter into dst, all
// row-major, with the geometry s: Conv2DPlan with ConvPlan{} (the
// runtime's own dispatch) and no bias. It lowers each group of images to
// a matrix of patches (im2col) and multiplies it with the filter by Sgemm,
// the groups shared out across goroutines (see convParallelMinImages); on
// CPUs with AVX2, images with at most convDirectMaxC channels and output
// channels in blocks of 32 skip im2col (see conv_direct.go). Scratch
// memory is pooled, so steady-state calls allocate nothing.
//
// Conv2D panics if s is invalid or a slice is too short for it.
func Conv2D(dst, x, filter []float32, s ConvShape) {
	conv2D("Conv2D", ConvPlan{}, dst, x, filter, nil, s)
}

// conv2D is Conv2DPlan, its panics naming the exported function fn.
func conv2D(fn string, plan ConvPlan, dst, x, filter, bias []float32, s ConvShape) {
	s.check(fn, sliceLen{"dst", len(dst), s.outputLen()}, sliceLen{"x", len(x), s.inputLen()}, sliceLen{"filter", len(filter), s.filterLen()})
	if bias != nil {
		if len(bias) < s.OutC {
			panic(fmt.Sprintf("runtime.%s: bias has %d elements, want %d for %v", fn, len(bias), s.OutC, s))
		}
		bias = bias[:s.OutC]
	}
	if s.Batch == 0 || s.OutH == 0 || s.OutW == 0 {
		return
	}
	direct, workers := s.schedule(convForward, plan)
	switch {
	case direct:
		runConvParallel(convDirect, workers, dst, x, filter, bias, plan.Relu, s)
	case workers > 0:
		runConvParallel(convForward, workers, dst, x, filter, bias, plan.Relu, s)
	case s.isPointwise():
		k, n := s.patch(), s.Batch*s.OutH*s.OutW
		if bias == nil && !plan.Relu {
			Sgemm(false, false, n, s.OutC, k, 1, x, k, filter, s.OutC, 0, dst, s.OutC)
			return
		}
		// Blocks of pixels whose output fits the L2 cache, each finished
		// (bias, ReLU) right after its product.
		step := max(1, convGroupFloats/s.OutC)
		for p := 0; p < n; p += step {
			m := min(step, n-p)
			out := dst[p*s.OutC:][:m*s.OutC]
			Sgemm(false, false, m, s.OutC, k, 1, x[p*k:], k, filter, s.OutC, 0, out, s.OutC)
			convEpilogue(out, bias, s.OutC, plan.Relu)
		}
	default:
		k, rows := s.patch(), s.OutH*s.OutW
		sc := convPool.Get().(*convScratch)
		chunk := s.convChunk()
		sc.col = grow(sc.col, chunk*rows*k)
		for b0 := 0; b0 < s.Batch; b0 += chunk {
			nb := min(chunk, s.Batch-b0)
			col := sc.col[:nb*rows*k]
			im2col(col, x, s, b0, nb)
			out := dst[b0*rows*s.OutC:][:nb*rows*s.OutC]
			Sgemm(false, false, nb*rows, s.OutC, k, 1, col, k, filter, s.OutC, 0, out, s.OutC)
			convEpilogue(out, bias, s.OutC, plan.Relu)
		}
		convPool.Put(sc)
	}
}

// Conv2DBackpropInput computes dx, the gradient of Conv2D with respect
// to its input, from the filter and the output gradient dy: each chunk's
// patch gradients dy·filterᵀ are computed by Sgemm and scattered back onto
// the image (col2im), or, for stride 1 where Conv2D would use the direct
// kernel on the output gradient, dx is computed as the convolution of dy
// with the flipped filter (see backInputAsConv). dx is overwritten. It is
// Conv2DBackpropInputPlan with ConvPlan{}.
//
// Conv2DBackpropInput panics if s is invalid or a slice is too short.
func Conv2DBackpropInput(dx, filter, dy []float32, s ConvShape) {
	conv2DBackpropInput("Conv2DBackpropInput", ConvPlan{}, dx, filter, dy, s)
}

// conv2DBackpropInput is Conv2DBackpropInputPlan, its panics naming fn.
func conv2DBackpropInput(fn string, plan ConvPlan, dx, filter, dy []float32, s ConvShape) {
	s.check(fn, sliceLen{"dx", len(dx), s.inputLen()}, sliceLen{"filter", len(filter), s.filterLen()}, sliceLen{"dy", len(dy), s.outputLen()})
	if s.Batch == 0 {
		return
	}
	if s.OutH == 0 || s.OutW == 0 {
		clear(dx[:s.inputLen()])
		return
	}
	k, rows := s.patch(), s.OutH*s.OutW
	direct, workers := s.schedule(convBackInput, plan)
	switch {
	case direct:
		t, _ := s.backInputAsConv()
		sc := convPool.Get().(*convScratch)
		sc.flip = grow(sc.flip, s.filterLen())
		s.flipFilter(sc.flip, filter)
		runConvParallel(convDirect, workers, dx, dy, sc.flip, nil, false, t)
		convPool.Put(sc)
	case workers > 0:
		if !s.isPointwise() { // the pointwise product overwrites dx
			clear(dx[:s.inputLen()])
		}
		runConvParallel(convBackInput, workers, dx, filter, dy, nil, false, s)
	case s.isPointwise():
		Sgemm(false, true, s.Batch*rows, k, s.OutC, 1, dy, s.OutC, filter, s.OutC, 0, dx, k)
	default:
		clear(dx[:s.inputLen()])
		sc := convPool.Get().(*convScratch)
		chunk := s.convChunk()
		sc.col = grow(sc.col, chunk*rows*k)
		for b0 := 0; b0 < s.Batch; b0 += chunk {
			nb := min(chunk, s.Batch-b0)
			col := sc.col[:nb*rows*k]
			Sgemm(false, true, nb*rows, k, s.OutC, 1, dy[b0*rows*s.OutC:], s.OutC, filter, s.OutC, 0, col, k)
			col2im(dx, col, s, b0, nb)
		}
		convPool.Put(sc)
	}
}

// Conv2DBackpropFilter computes dfilter, the gradient of Conv2D with
// respect to its filter, from the input x and the output gradient dy: the
// sum over groups of images of patchesᵀ·dy, by Sgemm (or, where Conv2D
// uses it, by the direct kernel). dfilter is overwritten. It is
// Conv2DBackpropFilterPlan with ConvPlan{}.
//
// Conv2DBackpropFilter panics if s is invalid or a slice is too short.
func Conv2DBackpropFilter(dfilter, x, dy []float32, s ConvShape) {
	conv2DBackpropFilter("Conv2DBackpropFilter", ConvPlan{}, dfilter, x, dy, s)
}

// conv2DBackpropFilter is Conv2DBackpropFilterPlan, its panics naming fn.
func conv2DBackpropFilter(fn string, plan ConvPlan, dfilter, x, dy []float32, s ConvShape) {
	s.check(fn, sliceLen{"dfilter", len(dfilter), s.filterLen()}, sliceLen{"x", len(x), s.inputLen()}, sliceLen{"dy", len(dy), s.outputLen()})
	k, rows := s.patch(), s.OutH*s.OutW
	if s.Batch == 0 || rows == 0 {
		clear(dfilter[:s.filterLen()])
		return
	}
	direct, workers := s.schedule(convBackFilter, plan)
	switch {
	case direct:
		runConvParallel(convDirectFilter, workers, dfilter, x, dy, nil, false, s)
	case workers > 0:
		runConvParallel(convBackFilter, workers, dfilter, x, dy, nil, false, s)
	case s.isPointwise():
		Sgemm(true, false, k, s.OutC, s.Batch*rows, 1, x, k, dy, s.OutC, 0, dfilter, s.OutC)
	default:
		sc := convPool.Get().(*convScratch)
		chunk := s.convChunk()
		sc.col = grow(sc.col, chunk*rows*k)
		beta := float32(0)
		for b0 := 0; b0 < s.Batch; b0 += chunk {
			nb := min(chunk, s.Batch-b0)
			col := sc.col[:nb*rows*k]
			im2col(col, x, s, b0, nb)
			Sgemm(true, false, k, s.OutC, nb*rows, 1, col, k, dy[b0*rows*s.OutC:], s.OutC, beta, dfilter, s.OutC)
			beta = 1
		}
		convPool.Put(sc)
	}
}

// convImageMinChunk is the number of images below which im2col and
// col2im run on the calling goroutine.
const convImageMinChunk = 2

// im2col fills col with the patches of images [b0, b0+nb) of x: row
// (b, oh, ow) holds, for each tap (kh, kw), the InC channels of the input
// pixel it reads (zeros in the padding), so that col·filter is the output.
func im2col(col, x []float32, s ConvShape, b0, nb int) {
	imageTasks(col, x, s, b0, nb, false)
}

// col2im adds the patch gradients col of images [b0, b0+nb) onto dx: the
// transpose of im2col.
func col2im(dx, col []float32, s ConvShape, b0, nb int) {
	imageTasks(col, dx, s, b0, nb, true)
}

// imageTask runs im2col or col2im over a range of images in parallel;
// images touch disjoint parts of x (and of col), so ranges are independent.
type imageTask struct {
	col, x  []float32
	s       ConvShape
	b0      int
	scatter bool
}

var imageTaskPool = sync.Pool{New: func() any { return new(imageTask) }}

func (t *imageTask) Run(lo, hi int) {
	per := t.s.OutH * t.s.OutW * t.s.patch()
	for i := lo; i < hi; i++ {
		img := t.x[(t.b0+i)*t.s.InH*t.s.InW*t.s.InC:][:t.s.InH*t.s.InW*t.s.InC]
		c := t.col[i*per:][:per]
		if t.scatter {
			col2imImage(img, c, t.s)
		} else {
			im2colImage(c, img, t.s)
		}
	}
}

func imageTasks(col, x []float32, s ConvShape, b0, nb int, scatter bool) {
	if parallelRanges(nb, convImageMinChunk) < 2 {
		t := imageTask{col: col, x: x, s: s, b0: b0, scatter: scatter}
		t.Run(0, nb)
		return
	}
	t := imageTaskPool.Get().(*imageTask)
	*t = imageTask{col: col, x: x, s: s, b0: b0, scatter: scatter}
	ParallelFor(nb, convImageMinChunk, t)
	*t = imageTask{}
	imageTaskPool.Put(t)
}

// im2colImage writes the patch matrix of one image.
func im2colImage(col, img []float32, s ConvShape) {
	c := s.InC
	rowW := s.InW * c
	i := 0
	for oh := 0; oh < s.OutH; oh++ {
		ih0 := oh*s.StrideH - s.PadTop
		for ow := 0; ow < s.OutW; ow++ {
			iw0 := ow*s.StrideW - s.PadLeft
			for kh := 0; kh < s.KH; kh++ {
				ih := ih0 + kh*s.DilationH
				if ih < 0 || ih >= s.InH {
					clear(col[i : i+s.KW*c])
					i += s.KW * c
					continue
				}
				row := img[ih*rowW : (ih+1)*rowW]
				if s.DilationW == 1 && iw0 >= 0 && iw0+s.KW <= s.InW {
					// The whole filter row lies inside: one contiguous copy.
					copy(col[i:i+s.KW*c], row[iw0*c:(iw0+s.KW)*c])
					i += s.KW * c
					continue
				}
				for kw := 0; kw < s.KW; kw++ {
					iw := iw0 + kw*s.DilationW
					dst := col[i : i+c]
					if iw < 0 || iw >= s.InW {
						clear(dst)
					} else {
						copy(dst, row[iw*c:(iw+1)*c])
					}
					i += c
				}
			}
		}
	}
}

// col2imImage adds the patch gradients of one image onto it (after
// clearing nothing: dx is cleared by the caller).
func col2imImage(img, col []float32, s ConvShape) {
	c := s.InC
	rowW := s.InW * c
	wide, wideC := s.KW*c >= convAddMin, c >= convAddMin
	i := 0
	for oh := 0; oh < s.OutH; oh++ {
		ih0 := oh*s.StrideH - s.PadTop
		for ow := 0; ow < s.OutW; ow++ {
			iw0 := ow*s.StrideW - s.PadLeft
			for kh := 0; kh < s.KH; kh++ {
				ih := ih0 + kh*s.DilationH
				if ih < 0 || ih >= s.InH {
					i += s.KW * c
					continue
				}
				row := img[ih*rowW : (ih+1)*rowW]
				if s.DilationW == 1 && iw0 >= 0 && iw0+s.KW <= s.InW {
					src := col[i : i+s.KW*c]
					dst := row[iw0*c : iw0*c+len(src)]
					if wide {
						addInto(dst, src)
					} else {
						for j, v := range src {
							dst[j] += v
						}
					}
					i += s.KW * c
					continue
				}
				for kw := 0; kw < s.KW; kw++ {
					iw := iw0 + kw*s.DilationW
					if iw >= 0 && iw < s.InW {
						src := col[i : i+c]
						dst := row[iw*c : iw*c+len(src)]
						if wideC {
							addInto(dst, src)
						} else {
							for j, v := range src {
								dst[j] += v
							}
						}
					}
					i += c
				}
			}
		}
	}
}

// addIntoGo adds v[i] to d[i] for i < len(d).
func addIntoGo(d, v []float32) {
	v = v[:len(d)]
	for j, x := range v {
		d[j] += x
	}
}
