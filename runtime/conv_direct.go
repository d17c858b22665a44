package runtime

// The direct convolution: for images with few channels, im2col writes a
// patch matrix with short rows (25 floats per pixel for a 5×5 filter over
// one channel) whose copying costs more than the product itself. The
// direct kernel reads the taps of three output pixels from a zero-padded
// copy of the image and multiplies them with 32 filter columns at a time,
// keeping all 96 sums in registers.

// convDirectMaxC is the largest input channel count for which Conv2D uses
// the direct kernel (and Conv2DBackpropInput, whose convolution reads the
// output gradient's channels), and convDirectFilterMaxC that for which
// Conv2DBackpropFilter does. With few channels im2col's short rows make it
// slow. On LeNet's second convolution (5×5×32×64 over 14×14 images, batch
// 64) on a 2-core Zen3, the direct kernel still took 15-25% less time than
// im2col and the GEMM for the output (32 channels read) and the input
// gradient (64 channels read), while the two filter gradients took the
// same time, so there the better-tuned GEMM keeps the work. With more than
// 64 channels the filter blocks the kernel streams outgrow the L2 cache.
const (
	convDirectMaxC       = 64
	convDirectFilterMaxC = 4
)

// directPad returns the height and width of the zero-padded image the
// direct kernel reads: the padding before, the image, and zeros after it
// up to the last tap of the last output row and of the last block of
// three output columns (the block may overhang the output; its extra
// pixels are computed and dropped).
func (s ConvShape) directPad() (hp, wp int) {
	reach := func(out, stride, k, dil int) int { return (out-1)*stride + (k-1)*dil + 1 }
	hp = max(s.PadTop+s.InH, reach(s.OutH, s.StrideH, s.KH, s.DilationH))
	wp = max(s.PadLeft+s.InW, reach(roundUp(s.OutW, 3), s.StrideW, s.KW, s.DilationW))
	return hp, wp
}

// directOffsets fills off with the offset of each tap (kh, kw, ci), in
// filter row order, from an output pixel's first tap in the padded image
// of width wp; the offsets ascend.
func (s ConvShape) directOffsets(off []int, wp int) []int {
	off = growInts(off, s.patch())[:0]
	for kh := 0; kh < s.KH; kh++ {
		for kw := 0; kw < s.KW; kw++ {
			for ci := 0; ci < s.InC; ci++ {
				off = append(off, (kh*s.DilationH*wp+kw*s.DilationW)*s.InC+ci)
			}
		}
	}
	return off
}

// padImage copies the image img into the zero-padded image of s's direct
// kernel, in sc.col, and returns it with its width.
func (s ConvShape) padImage(img []float32, sc *convScratch) ([]float32, int) {
	hp, wp := s.directPad()
	c := s.InC
	sc.col = grow(sc.col, hp*wp*c)
	pad := sc.col
	clear(pad)
	for ih := 0; ih < s.InH; ih++ {
		copy(pad[((ih+s.PadTop)*wp+s.PadLeft)*c:][:s.InW*c], img[ih*s.InW*c:][:s.InW*c])
	}
	return pad, wp
}

// convDirectImage computes the convolution of one image img with filter
// into dst by the direct kernel, using sc for the padded image, the tap
// offsets and the overhanging block, and finishes each output row (bias,
// if not nil, and Relu, if relu) as soon as all its blocks are stored.
// Preconditions: s.directApplies(convForward), convDirectArch != nil, the
// slices hold one image's input and output.
func convDirectImage(dst, img, filter, bias []float32, relu bool, s ConvShape, sc *convScratch) {
	pad, wp := s.padImage(img, sc)
	sc.off = s.directOffsets(sc.off, wp)
	kernel, off, tile := convDirectArch, sc.off, sc.tile[:]
	c, oc := s.InC, s.OutC
	pstep := s.StrideW * c
	for oh := 0; oh < s.OutH; oh++ {
		base := oh * s.StrideH * wp * c
		out := dst[oh*s.OutW*oc:]
		for ow := 0; ow < s.OutW; ow += 3 {
			x0 := base + ow*pstep
			xo := [3]int{x0, x0 + pstep, x0 + 2*pstep}
			for ob := 0; ob < oc; ob += 32 {
				if ow+3 <= s.OutW {
					kernel(pad, xo, off, filter[ob:], oc, out[ow*oc+ob:], oc)
					continue
				}
				kernel(pad, xo, off, filter[ob:], oc, tile, 32)
				for j := range s.OutW - ow {
					copy(out[(ow+j)*oc+ob:][:32], tile[j*32:][:32])
				}
			}
		}
		convEpilogue(out[:s.OutW*oc], bias, oc, relu)
	}
}

// convDirectFilterImage adds the filter gradient of one image, from img
// and its output gradient dy, onto acc by the direct kernel: for three
// taps at a time it sums, over the output pixels, the input value each
// tap reads times the pixel's output gradient. Preconditions:
// s.directApplies(convBackFilter), convDirectArch != nil, the slices hold one image's input and output
// gradient.
func convDirectFilterImage(acc, img, dy []float32, s ConvShape, sc *convScratch) {
	pad, wp := s.padImage(img, sc)
	taps := s.directOffsets(sc.taps, wp)
	sc.taps = taps
	// The steps are the output pixels: the offset of each one's first tap.
	off := growInts(sc.off, s.OutH*s.OutW)[:0]
	for oh := 0; oh < s.OutH; oh++ {
		for ow := 0; ow < s.OutW; ow++ {
			off = append(off, (oh*s.StrideH*wp+ow*s.StrideW)*s.InC)
		}
	}
	sc.off = off
	kernel, tile, oc := convDirectArch, sc.tile[:], s.OutC
	last := len(taps) - 1
	for t0 := 0; t0 < len(taps); t0 += 3 {
		// A last block of one or two taps repeats its last tap; the
		// repeated rows are dropped.
		xo := [3]int{taps[t0], taps[min(t0+1, last)], taps[min(t0+2, last)]}
		for ob := 0; ob < oc; ob += 32 {
			kernel(pad, xo, off, dy[ob:], oc, tile, 32)
			for j := range min(3, len(taps)-t0) {
				d := acc[(t0+j)*oc+ob:][:32]
				for o, v := range tile[j*32:][:32] {
					d[o] += v
				}
			}
		}
	}
}

// growInts returns s resliced to length n, reallocating only when its
// capacity is too small.
func growInts(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

// backInputAsConv returns the geometry of the forward convolution that
// computes Conv2DBackpropInput of s: for stride 1 the input gradient is
// the convolution of dy, padded by the filter's reach less the forward
// padding, with the filter flipped in both axes and its channel axes
// swapped (see flipFilter). ok is false for other strides, or when the
// forward padding exceeds the filter's reach.
func (s ConvShape) backInputAsConv() (t ConvShape, ok bool) {
	pt, pl := (s.KH-1)*s.DilationH-s.PadTop, (s.KW-1)*s.DilationW-s.PadLeft
	if s.StrideH != 1 || s.StrideW != 1 || pt < 0 || pl < 0 {
		return ConvShape{}, false
	}
	return ConvShape{
		Batch: s.Batch, InH: s.OutH, InW: s.OutW, InC: s.OutC,
		KH: s.KH, KW: s.KW, OutC: s.InC, OutH: s.InH, OutW: s.InW,
		StrideH: 1, StrideW: 1, DilationH: s.DilationH, DilationW: s.DilationW,
		PadTop: pt, PadLeft: pl,
	}, true
}

// flipFilter stores in g the filter of backInputAsConv:
// g[kh][kw][o][ci] = f[KH-1-kh][KW-1-kw][ci][o].
func (s ConvShape) flipFilter(g, f []float32) {
	ci, co := s.InC, s.OutC
	for kh := 0; kh < s.KH; kh++ {
		for kw := 0; kw < s.KW; kw++ {
			src := f[((s.KH-1-kh)*s.KW+s.KW-1-kw)*ci*co:][:ci*co]
			dst := g[(kh*s.KW+kw)*ci*co:][:ci*co]
			for i := 0; i < ci; i++ {
				for o := 0; o < co; o++ {
					dst[o*ci+i] = src[i*co+o]
				}
			}
		}
	}
}
