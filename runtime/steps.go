package runtime

// Steps of sequences, for the loops of generated code (the language's
// for expression). A tensor stepped along an axis is viewed as
// [outer, steps, inner]: outer is the product of the dimensions before
// the axis, steps the axis's size and inner the product of those after.
// Step t is then outer rows of inner elements, steps·inner apart.

// CopyStepIn copies step t of src, viewed as [outer, steps, inner], into
// dst, which holds outer·inner elements.
func CopyStepIn[T any](dst, src []T, outer, steps, inner, t int) {
	for o := range outer {
		at := (o*steps + t) * inner
		copy(dst[o*inner:(o+1)*inner], src[at:at+inner])
	}
}

// CopyStepOut copies src, which holds outer·inner elements, into step t
// of dst, viewed as [outer, steps, inner]: the inverse of CopyStepIn.
func CopyStepOut[T any](dst, src []T, outer, steps, inner, t int) {
	for o := range outer {
		at := (o*steps + t) * inner
		copy(dst[at:at+inner], src[o*inner:(o+1)*inner])
	}
}
