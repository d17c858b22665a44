package ir

import "fmt"

// Convolution and pooling over NHWC images: conv2d, max_pool, avg_pool
// and the internal ops their gradients are made of. Every window op shares
// one geometry (Window) computed by TensorFlow's rules, which codegen also
// uses so that generated kernels and the interpreter agree exactly.

// Window is the spatial geometry of a conv2d or pooling node over NHWC
// tensors: the input height and width, the (undilated) window size, the
// strides and dilations, the output height and width and the padding
// added before the first row and column. Padding after the last row or
// column is implied by the other fields.
type Window struct {
	InH, InW             int
	KH, KW               int
	StrideH, StrideW     int
	DilationH, DilationW int
	OutH, OutW           int
	PadTop, PadLeft      int
}

// WindowOutput returns the output size and the padding before the first
// element along one spatial axis of size in, for a window of k elements
// with the given stride and dilation. It follows TensorFlow exactly:
// VALID gives ceil((in - (k-1)*dilation) / stride) outputs and no padding;
// SAME gives ceil(in / stride) outputs, pads a total of
// max((out-1)*stride + (k-1)*dilation + 1 - in, 0) and puts the smaller
// half (pad_total/2) before. ok is false when a VALID window does not fit.
//
// The arithmetic cannot overflow: a dilated window wider than any tensor
// (MaxElements) fits no input, VALID or SAME.
func WindowOutput(in, k, stride, dilation int, same bool) (out, padBefore int, ok bool) {
	eff, fits := dilatedSize(k, dilation)
	if !fits {
		return 0, 0, false
	}
	if same {
		out = (in-1)/stride + 1
		total := max((out-1)*stride+eff-in, 0)
		return out, total / 2, true
	}
	if in < eff {
		return 0, 0, false
	}
	return (in-eff)/stride + 1, 0, true
}

// dilatedSize is the span of a window of k elements dilated by dilation,
// (k-1)*dilation + 1, and whether it is at most MaxElements.
func dilatedSize(k, dilation int) (int, bool) {
	if span, ok := MulInt(max(k-1, 0), dilation); ok && span < MaxElements {
		return span + 1, true
	}
	return 0, false
}

// windowAttrs are the attributes shared by conv2d and pooling.
func windowAttrs(conv bool) []AttrSpec {
	if conv {
		return []AttrSpec{
			{Name: "strides", Kind: IntsArg, Default: []int{1, 1}, Doc: "the step between windows, [height, width] (one integer: both)"},
			{Name: "padding", Kind: StringArg, Default: "SAME", Doc: `"SAME" (zero padding, output ceil(in/stride)) or "VALID" (no padding)`},
			{Name: "dilations", Kind: IntsArg, Default: []int{1, 1}, Doc: "the spacing of filter taps, [height, width] (one integer: both)"},
		}
	}
	return []AttrSpec{
		{Name: "ksize", Kind: IntsArg, Default: []int{2, 2}, Doc: "the window size, [height, width] (one integer: both)"},
		{Name: "strides", Kind: IntsArg, Default: []int{2, 2}, Doc: "the step between windows, [height, width] (one integer: both)"},
		{Name: "padding", Kind: StringArg, Default: "VALID", Doc: `"VALID" (whole windows only) or "SAME" (output ceil(in/stride), windows clipped at the border)`},
	}
}

// pair normalizes an attribute that is one positive integer or a
// [height, width] pair, storing a fresh two-element list in n.Attrs.
func pair(n *Node, name string, def int) ([2]int, error) {
	v := []int{def, def}
	if n.Attrs.Has(name) {
		v = n.Attrs.Ints(name)
		if _, isList := n.Attrs[name].([]int); !isList {
			return [2]int{}, fmt.Errorf("%s must be a list of integers", name)
		}
	}
	given := v
	switch len(v) {
	case 1:
		v = []int{v[0], v[0]}
	case 2:
	default:
		return [2]int{}, fmt.Errorf("%s must be one integer or [height, width], got %s", name, formatAttr(given))
	}
	if v[0] < 1 || v[1] < 1 {
		return [2]int{}, fmt.Errorf("%s must be positive, got %s", name, formatAttr(given))
	}
	n.Attrs[name] = []int{v[0], v[1]}
	return [2]int{v[0], v[1]}, nil
}

// paddingAttr validates and returns whether the padding is SAME.
func paddingAttr(n *Node, def string) (bool, error) {
	p := n.Attrs.String("padding", def)
	switch p {
	case "SAME":
		return true, nil
	case "VALID":
		return false, nil
	}
	return false, fmt.Errorf(`padding must be "SAME" or "VALID", got %q`, p)
}

// imageDims checks that t is a float NHWC tensor with fixed height, width
// and channels and returns them.
func imageDims(op, what string, t Type) (h, w, c int, err error) {
	if !t.DType.IsFloat() {
		return 0, 0, 0, fmt.Errorf("%s needs a floating-point %s, got %s", op, what, t)
	}
	if t.Shape.Rank() != 4 {
		return 0, 0, 0, fmt.Errorf("%s needs a rank-4 %s [batch, height, width, channels], got %s", op, what, t)
	}
	for _, d := range t.Shape[1:] {
		if d.IsSym() {
			return 0, 0, 0, fmt.Errorf("%s needs fixed height, width and channels in %s, got %s", op, what, t)
		}
	}
	return t.Shape[1].Size, t.Shape[2].Size, t.Shape[3].Size, nil
}

// filterDims checks a filter [KH, KW, Cin, Cout] and returns its sizes.
func filterDims(op string, s Shape, dt DType) ([4]int, error) {
	if s.Rank() != 4 || !s.IsStatic() {
		return [4]int{}, fmt.Errorf("%s needs a filter of fixed shape [height, width, in_channels, out_channels], got %s", op, Type{DType: dt, Shape: s})
	}
	return [4]int{s[0].Size, s[1].Size, s[2].Size, s[3].Size}, nil
}

// makeWindow normalizes the window attributes of n and computes the
// geometry of a window of kh×kw over an inH×inW image.
func makeWindow(n *Node, conv bool, inH, inW, kh, kw int) (Window, error) {
	defStride, defPad := 2, "VALID"
	if conv {
		defStride, defPad = 1, "SAME"
	}
	stride, err := pair(n, "strides", defStride)
	if err != nil {
		return Window{}, err
	}
	dil := [2]int{1, 1}
	if conv {
		if dil, err = pair(n, "dilations", 1); err != nil {
			return Window{}, err
		}
	}
	same, err := paddingAttr(n, defPad)
	if err != nil {
		return Window{}, err
	}
	if same {
		n.Attrs["padding"] = "SAME"
	} else {
		n.Attrs["padding"] = "VALID"
	}
	w := Window{InH: inH, InW: inW, KH: kh, KW: kw, StrideH: stride[0], StrideW: stride[1], DilationH: dil[0], DilationW: dil[1]}
	var okH, okW bool
	w.OutH, w.PadTop, okH = WindowOutput(inH, kh, w.StrideH, w.DilationH, same)
	w.OutW, w.PadLeft, okW = WindowOutput(inW, kw, w.StrideW, w.DilationW, same)
	if !okH || !okW {
		effH, fitsH := dilatedSize(kh, w.DilationH)
		effW, fitsW := dilatedSize(kw, w.DilationW)
		if !fitsH || !fitsW {
			return Window{}, fmt.Errorf("the %d×%d window dilated by %d×%d is larger than any tensor", kh, kw, w.DilationH, w.DilationW)
		}
		what := fmt.Sprintf("the %d×%d window", kh, kw)
		if effH != kh || effW != kw {
			what += fmt.Sprintf(" (dilated to %d×%d)", effH, effW)
		}
		return Window{}, fmt.Errorf(`with padding "VALID", %s does not fit in the %d×%d input; use padding = "SAME" or a smaller window`, what, inH, inW)
	}
	return w, nil
}

// NodeWindow returns the geometry of a conv2d, max_pool or avg_pool node
// or of one of their gradient ops. Its attributes must have been
// normalized by type inference, as they are in any built graph.
func NodeWindow(n *Node) Window {
	m := *n // nodeWindow normalizes attributes; leave n's alone
	m.Attrs = n.Attrs.Clone()
	w, err := nodeWindow(&m)
	if err != nil {
		panic("ir: NodeWindow: " + err.Error())
	}
	return w
}

func nodeWindow(n *Node) (Window, error) {
	fixed := func(s Shape) (int, int) { return s[1].Size, s[2].Size }
	switch n.Op {
	case Conv2d:
		h, w := fixed(n.Inputs[0].Type.Shape)
		f := n.Inputs[1].Type.Shape
		return makeWindow(n, true, h, w, f[0].Size, f[1].Size)
	case Conv2dBackpropInput:
		s, _ := n.Attrs["input_shape"].(Shape)
		h, w := fixed(s)
		f := n.Inputs[0].Type.Shape
		return makeWindow(n, true, h, w, f[0].Size, f[1].Size)
	case Conv2dBackpropFilter:
		h, w := fixed(n.Inputs[0].Type.Shape)
		f, _ := n.Attrs["filter_shape"].(Shape)
		return makeWindow(n, true, h, w, f[0].Size, f[1].Size)
	case MaxPool, AvgPool, MaxPoolGrad:
		h, w := fixed(n.Inputs[0].Type.Shape)
		k, err := pair(n, "ksize", 2)
		if err != nil {
			return Window{}, err
		}
		return makeWindow(n, false, h, w, k[0], k[1])
	case AvgPoolGrad:
		s, _ := n.Attrs["input_shape"].(Shape)
		h, w := fixed(s)
		k, err := pair(n, "ksize", 2)
		if err != nil {
			return Window{}, err
		}
		return makeWindow(n, false, h, w, k[0], k[1])
	}
	return Window{}, fmt.Errorf("%s is not a window op", n.Op.Name)
}

// windowAttrsOf copies the window attributes of n for its gradient ops.
func windowAttrsOf(n *Node, extra string, v any) Attrs {
	a := Attrs{extra: v}
	for _, k := range []string{"strides", "padding", "dilations", "ksize"} {
		if n.Attrs.Has(k) {
			a[k] = n.Attrs[k]
		}
	}
	return a
}

// checkGradShape checks that dy has the shape of the forward op's output:
// the batch of ref, the window's output size and c channels.
func checkGradShape(n *Node, dy Type, batch Dim, w Window, c int) error {
	want := Shape{batch, Fixed(w.OutH), Fixed(w.OutW), Fixed(c)}
	if !dy.Shape.Equal(want) {
		return fmt.Errorf("%s: the gradient %s does not have the output shape %s", n.Op.Name, dy, want)
	}
	return nil
}

func init() {
	Register(&OpDef{
		Name:   "conv2d",
		Kernel: ConvKernel, Epilogues: true,
		BatchLocal: true, Summary: "2-D convolution (cross-correlation, as TensorFlow) of NHWC images x with a filter [KH, KW, Cin, Cout]",
		DTypes: f32Only,
		Inputs: []string{"x", "filter"}, Attrs: windowAttrs(true),
		Examples: []Example{
			{Shapes: [][]int{{1, 3, 3, 1}, {2, 2, 1, 1}}},
			{Shapes: [][]int{{1, 3, 3, 1}, {2, 2, 1, 1}}, Attrs: Attrs{"padding": "VALID"}},
			{Shapes: [][]int{{2, 5, 4, 3}, {3, 3, 3, 2}}},
			{Shapes: [][]int{{2, 7, 6, 2}, {3, 2, 2, 3}}, Attrs: Attrs{"strides": []int{2, 3}}},
			{Shapes: [][]int{{1, 7, 5, 2}, {3, 3, 2, 2}}, Attrs: Attrs{"strides": []int{2}, "padding": "VALID"}},
			{Shapes: [][]int{{2, 6, 7, 1}, {2, 3, 1, 2}}, Attrs: Attrs{"dilations": []int{2, 2}}},
			{Shapes: [][]int{{1, 7, 7, 2}, {2, 2, 2, 1}}, Attrs: Attrs{"dilations": []int{2}, "strides": []int{2}, "padding": "VALID"}},
		},
		Infer: func(n *Node) (Type, error) {
			x, f := n.Inputs[0].Type, n.Inputs[1].Type
			h, w, c, err := imageDims("conv2d", "input", x)
			if err != nil {
				return Type{}, err
			}
			if f.DType != x.DType {
				return Type{}, fmt.Errorf("operands have different dtypes: %s and %s", x, f)
			}
			fd, err := filterDims("conv2d", f.Shape, f.DType)
			if err != nil {
				return Type{}, err
			}
			if fd[2] != c {
				return Type{}, fmt.Errorf("the filter %s expects %d input channels, but the input %s has %d", f, fd[2], x, c)
			}
			win, err := makeWindow(n, true, h, w, fd[0], fd[1])
			if err != nil {
				return Type{}, err
			}
			return Type{DType: x.DType, Shape: Shape{x.Shape[0], Fixed(win.OutH), Fixed(win.OutW), Fixed(fd[3])}}, nil
		},
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			x, f := n.Inputs[0], n.Inputs[1]
			dx := g.MustApply(Conv2dBackpropInput, []*Node{f, dy}, windowAttrsOf(n, "input_shape", x.Type.Shape))
			df := g.MustApply(Conv2dBackpropFilter, []*Node{x, dy}, windowAttrsOf(n, "filter_shape", f.Type.Shape))
			return []*Node{dx, df}
		},
		Cost: convCost(0),
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			x, f := in[0], in[1]
			w := NodeWindow(n)
			cin, cout := f.Shape[2], f.Shape[3]
			out := NewTensor(n.Type.DType, []int{x.Shape[0], w.OutH, w.OutW, cout})
			convLoops(w, x.Shape[0], cin, cout, func(xi, fi, yi int) {
				out.Data[yi] += x.Data[xi] * f.Data[fi]
			})
			return out.Round(), nil
		},
	})
	Register(&OpDef{
		Name: "conv2d_backprop_input", Summary: "the gradient of conv2d with respect to its input x, from the filter and the output gradient dy",
		Kernel: ConvKernel,
		DTypes: f32Only,
		Inputs: []string{"filter", "dy"}, Internal: true,
		Attrs: append(windowAttrs(true), AttrSpec{Name: "input_shape", Doc: "the shape of x"}),
		Infer: func(n *Node) (Type, error) {
			f, dy := n.Inputs[0].Type, n.Inputs[1].Type
			s, _ := n.Attrs["input_shape"].(Shape)
			xt := Type{DType: f.DType, Shape: s}
			h, w, c, err := imageDims(n.Op.Name, "input shape", xt)
			if err != nil {
				return Type{}, err
			}
			fd, err := filterDims(n.Op.Name, f.Shape, f.DType)
			if err != nil {
				return Type{}, err
			}
			if fd[2] != c || dy.DType != f.DType {
				return Type{}, fmt.Errorf("%s: filter %s does not match the input shape %s", n.Op.Name, f, s)
			}
			win, err := makeWindow(n, true, h, w, fd[0], fd[1])
			if err != nil {
				return Type{}, err
			}
			if err := checkGradShape(n, dy, s[0], win, fd[3]); err != nil {
				return Type{}, err
			}
			return xt, nil
		},
		Cost: convCost(1),
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			b := cx.Binding
			f, dy := in[0], in[1]
			w := NodeWindow(n)
			shape := n.Type.Shape.Eval(b)
			shape[0] = dy.Shape[0]
			out := NewTensor(n.Type.DType, shape)
			convLoops(w, dy.Shape[0], f.Shape[2], f.Shape[3], func(xi, fi, yi int) {
				out.Data[xi] += dy.Data[yi] * f.Data[fi]
			})
			return out.Round(), nil
		},
	})
	Register(&OpDef{
		Name: "conv2d_backprop_filter", Summary: "the gradient of conv2d with respect to its filter, from the input x and the output gradient dy",
		Kernel: ConvKernel,
		DTypes: f32Only,
		Inputs: []string{"x", "dy"}, Internal: true,
		Attrs: append(windowAttrs(true), AttrSpec{Name: "filter_shape", Doc: "the shape of the filter"}),
		Infer: func(n *Node) (Type, error) {
			x, dy := n.Inputs[0].Type, n.Inputs[1].Type
			h, w, c, err := imageDims(n.Op.Name, "input", x)
			if err != nil {
				return Type{}, err
			}
			s, _ := n.Attrs["filter_shape"].(Shape)
			fd, err := filterDims(n.Op.Name, s, x.DType)
			if err != nil {
				return Type{}, err
			}
			if fd[2] != c || dy.DType != x.DType {
				return Type{}, fmt.Errorf("%s: filter shape %s does not match the input %s", n.Op.Name, s, x)
			}
			win, err := makeWindow(n, true, h, w, fd[0], fd[1])
			if err != nil {
				return Type{}, err
			}
			if err := checkGradShape(n, dy, x.Shape[0], win, fd[3]); err != nil {
				return Type{}, err
			}
			return Type{DType: x.DType, Shape: s}, nil
		},
		Cost: convCost(2),
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			b := cx.Binding
			x, dy := in[0], in[1]
			w := NodeWindow(n)
			out := NewTensor(n.Type.DType, n.Type.Shape.Eval(b))
			convLoops(w, x.Shape[0], out.Shape[2], out.Shape[3], func(xi, fi, yi int) {
				out.Data[fi] += x.Data[xi] * dy.Data[yi]
			})
			return out.Round(), nil
		},
	})

	Register(&OpDef{
		Name:       "max_pool",
		Kernel:     PoolKernel,
		BatchLocal: true, Summary: "the maximum over each ksize window of NHWC images, per channel (SAME windows ignore the padding)",
		DTypes: f32Only,
		Inputs: []string{"x"}, Attrs: windowAttrs(false),
		Examples: []Example{
			{Shapes: [][]int{{1, 4, 4, 1}}},
			{Shapes: [][]int{{2, 5, 5, 3}}},
			{Shapes: [][]int{{2, 5, 5, 3}}, Attrs: Attrs{"padding": "SAME"}},
			{Shapes: [][]int{{1, 7, 6, 2}}, Attrs: Attrs{"ksize": []int{3, 2}, "strides": []int{2, 1}, "padding": "SAME"}},
			{Shapes: [][]int{{3, 6, 5, 1}}, Attrs: Attrs{"ksize": []int{3}, "strides": []int{3}}},
			{Shapes: [][]int{{1, 5, 5, 2}}, Attrs: Attrs{"ksize": []int{2}, "strides": []int{1}}},
		},
		Infer: inferPool,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			return []*Node{g.MustApply(MaxPoolGrad, []*Node{n.Inputs[0], dy}, windowAttrsOf(n, "ksize", n.Attrs["ksize"]))}
		},
		Cost: poolCost,
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			x := in[0]
			w := NodeWindow(n)
			c := x.Shape[3]
			out := NewTensor(n.Type.DType, []int{x.Shape[0], w.OutH, w.OutW, c})
			poolLoops(w, x.Shape[0], c, func(yi int, xs []int) {
				best := 0
				for j, xi := range xs {
					if x.Data[xi] > x.Data[xs[best]] {
						best = j
					}
				}
				out.Data[yi] = x.Data[xs[best]]
			})
			return out, nil
		},
	})
	Register(&OpDef{
		Name: "max_pool_grad", Summary: "the gradient of max_pool: each output gradient goes to the first maximum of its window (in row-major window order)",
		Kernel: PoolKernel,
		DTypes: f32Only,
		Inputs: []string{"x", "dy"}, Internal: true, Attrs: windowAttrs(false),
		Infer: func(n *Node) (Type, error) {
			x, dy := n.Inputs[0].Type, n.Inputs[1].Type
			_, _, c, err := imageDims(n.Op.Name, "input", x)
			if err != nil {
				return Type{}, err
			}
			win, err := nodeWindow(n)
			if err != nil {
				return Type{}, err
			}
			if err := checkGradShape(n, dy, x.Shape[0], win, c); err != nil {
				return Type{}, err
			}
			return x, nil
		},
		Cost: poolCost,
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			x, dy := in[0], in[1]
			w := NodeWindow(n)
			out := NewTensor(n.Type.DType, x.Shape)
			poolLoops(w, x.Shape[0], x.Shape[3], func(yi int, xs []int) {
				best := 0
				for j, xi := range xs {
					if x.Data[xi] > x.Data[xs[best]] {
						best = j
					}
				}
				out.Data[xs[best]] += dy.Data[yi]
			})
			return out.Round(), nil
		},
	})
	Register(&OpDef{
		Name:       "avg_pool",
		Kernel:     PoolKernel,
		BatchLocal: true, Summary: "the mean over each ksize window of NHWC images, per channel (SAME windows average the elements inside the image only)",
		DTypes: f32Only,
		Inputs: []string{"x"}, Attrs: windowAttrs(false),
		Examples: []Example{
			{Shapes: [][]int{{1, 4, 4, 1}}},
			{Shapes: [][]int{{2, 5, 5, 3}}, Attrs: Attrs{"padding": "SAME"}},
			{Shapes: [][]int{{1, 7, 6, 2}}, Attrs: Attrs{"ksize": []int{3, 2}, "strides": []int{2, 1}, "padding": "SAME"}},
			{Shapes: [][]int{{3, 5, 7, 1}}, Attrs: Attrs{"ksize": []int{3}, "strides": []int{2}}},
		},
		Infer: inferPool,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			a := windowAttrsOf(n, "input_shape", n.Inputs[0].Type.Shape)
			return []*Node{g.MustApply(AvgPoolGrad, []*Node{dy}, a)}
		},
		Cost: poolCost,
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			x := in[0]
			w := NodeWindow(n)
			c := x.Shape[3]
			out := NewTensor(n.Type.DType, []int{x.Shape[0], w.OutH, w.OutW, c})
			poolLoops(w, x.Shape[0], c, func(yi int, xs []int) {
				s := 0.0
				for _, xi := range xs {
					s += x.Data[xi]
				}
				out.Data[yi] = s / float64(len(xs))
			})
			return out.Round(), nil
		},
	})
	Register(&OpDef{
		Name: "avg_pool_grad", Summary: "the gradient of avg_pool: each output gradient spread evenly over the elements its window averaged",
		Kernel: PoolKernel,
		DTypes: f32Only,
		Inputs: []string{"dy"}, Internal: true,
		Attrs: append(windowAttrs(false), AttrSpec{Name: "input_shape", Doc: "the shape of x"}),
		Infer: func(n *Node) (Type, error) {
			dy := n.Inputs[0].Type
			s, _ := n.Attrs["input_shape"].(Shape)
			xt := Type{DType: dy.DType, Shape: s}
			_, _, c, err := imageDims(n.Op.Name, "input shape", xt)
			if err != nil {
				return Type{}, err
			}
			win, err := nodeWindow(n)
			if err != nil {
				return Type{}, err
			}
			if err := checkGradShape(n, dy, s[0], win, c); err != nil {
				return Type{}, err
			}
			return xt, nil
		},
		Cost: poolCost,
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			b := cx.Binding
			dy := in[0]
			w := NodeWindow(n)
			shape := n.Type.Shape.Eval(b)
			shape[0] = dy.Shape[0]
			out := NewTensor(n.Type.DType, shape)
			poolLoops(w, shape[0], shape[3], func(yi int, xs []int) {
				for _, xi := range xs {
					out.Data[xi] += dy.Data[yi] / float64(len(xs))
				}
			})
			return out.Round(), nil
		},
	})
}

func inferPool(n *Node) (Type, error) {
	x := n.Inputs[0].Type
	if _, _, _, err := imageDims(n.Op.Name, "input", x); err != nil {
		return Type{}, err
	}
	w, err := nodeWindow(n)
	if err != nil {
		return Type{}, err
	}
	return Type{DType: x.DType, Shape: Shape{x.Shape[0], Fixed(w.OutH), Fixed(w.OutW), x.Shape[3]}}, nil
}

// convLoops is the reference loop nest of conv2d and its gradients: it
// calls f with the flat indices of every (input element, filter tap,
// output element) triple that conv2d multiplies together, skipping taps
// that fall on the zero padding.
func convLoops(w Window, batch, cin, cout int, f func(xi, fi, yi int)) {
	for b := 0; b < batch; b++ {
		for oh := 0; oh < w.OutH; oh++ {
			for ow := 0; ow < w.OutW; ow++ {
				for kh := 0; kh < w.KH; kh++ {
					ih := oh*w.StrideH + kh*w.DilationH - w.PadTop
					if ih < 0 || ih >= w.InH {
						continue
					}
					for kw := 0; kw < w.KW; kw++ {
						iw := ow*w.StrideW + kw*w.DilationW - w.PadLeft
						if iw < 0 || iw >= w.InW {
							continue
						}
						for c := 0; c < cin; c++ {
							for oc := 0; oc < cout; oc++ {
								xi := ((b*w.InH+ih)*w.InW+iw)*cin + c
								fi := ((kh*w.KW+kw)*cin+c)*cout + oc
								yi := ((b*w.OutH+oh)*w.OutW+ow)*cout + oc
								f(xi, fi, yi)
							}
						}
					}
				}
			}
		}
	}
}

// poolLoops is the reference loop nest of pooling: it calls f with the
// flat index of every output element and the flat indices of the input
// elements of its window that lie inside the image, in row-major window
// order.
func poolLoops(w Window, batch, c int, f func(yi int, xs []int)) {
	var xs []int
	for b := 0; b < batch; b++ {
		for oh := 0; oh < w.OutH; oh++ {
			for ow := 0; ow < w.OutW; ow++ {
				for ch := 0; ch < c; ch++ {
					xs = xs[:0]
					for kh := 0; kh < w.KH; kh++ {
						ih := oh*w.StrideH + kh - w.PadTop
						for kw := 0; kw < w.KW; kw++ {
							iw := ow*w.StrideW + kw - w.PadLeft
							if ih >= 0 && ih < w.InH && iw >= 0 && iw < w.InW {
								xs = append(xs, ((b*w.InH+ih)*w.InW+iw)*c+ch)
							}
						}
					}
					f(((b*w.OutH+oh)*w.OutW+ow)*c+ch, xs)
				}
			}
		}
	}
}

// convCost costs conv2d (operand 0 is x for the forward op and the
// filter gradient, the filter for the input gradient): two FLOPs per
// multiply-add over every output position, filter tap and channel pair.
func convCost(kind int) func(*Node, *Context) Cost {
	return func(n *Node, cx *Context) Cost {
		b := cx.Binding
		w := NodeWindow(n)
		var batch, cin, cout int
		switch kind {
		case 0: // conv2d(x, filter)
			batch = n.Type.Shape[0].Eval(b)
			cin, cout = n.Inputs[1].Type.Shape[2].Size, n.Inputs[1].Type.Shape[3].Size
		case 1: // conv2d_backprop_input(filter, dy)
			batch = n.Inputs[1].Type.Shape[0].Eval(b)
			cin, cout = n.Inputs[0].Type.Shape[2].Size, n.Inputs[0].Type.Shape[3].Size
		default: // conv2d_backprop_filter(x, dy)
			batch = n.Inputs[0].Type.Shape[0].Eval(b)
			cin, cout = n.Type.Shape[2].Size, n.Type.Shape[3].Size
		}
		flops := 2 * float64(batch) * float64(w.OutH*w.OutW) * float64(w.KH*w.KW) * float64(cin*cout)
		c := Cost{FLOPs: flops, BytesWritten: bytesOf(n, b)}
		for _, in := range n.Inputs {
			c.BytesRead += bytesOf(in, b)
		}
		return c
	}
}

// poolCost costs one operation per window element of every output.
func poolCost(n *Node, cx *Context) Cost {
	b := cx.Binding
	w := NodeWindow(n)
	var outs float64
	if n.Op == MaxPool || n.Op == AvgPool {
		outs = elems(n, b)
	} else {
		outs = elems(n.Inputs[len(n.Inputs)-1], b)
	}
	c := Cost{FLOPs: outs * float64(w.KH*w.KW), BytesWritten: bytesOf(n, b)}
	for _, in := range n.Inputs {
		c.BytesRead += bytesOf(in, b)
	}
	return c
}
