#include "textflag.h"

// SSE kernel of col2im; see conv_amd64.go for its contract. SSE is part
// of the amd64 baseline, so it needs no CPU feature check.

// func convAdd8(d, v *float32, n int)
TEXT ·convAdd8(SB), NOSPLIT, $0-24
	MOVQ d+0(FP), DI
	MOVQ v+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   done

loop:
	MOVUPS (DI), X0
	MOVUPS 16(DI), X1
	MOVUPS (SI), X2
	MOVUPS 16(SI), X3
	ADDPS  X2, X0
	ADDPS  X3, X1
	MOVUPS X0, (DI)
	MOVUPS X1, 16(DI)
	ADDQ   $32, DI
	ADDQ   $32, SI
	DECQ   CX
	JNZ    loop

done:
	RET

// func convDirect3x32(steps int, x0, x1, x2 *float32, off *int, f *float32, fstride int, y *float32, ystride int)
//
// Y0..Y3, Y4..Y7 and Y8..Y11 accumulate the 32 outputs of rows 0, 1 and
// 2; Y12..Y14 hold the broadcast input values of one step, Y15 one 8-wide
// slice of the filter row.
TEXT ·convDirect3x32(SB), NOSPLIT, $0-72
	MOVQ steps+0(FP), CX
	MOVQ x0+8(FP), SI
	MOVQ x1+16(FP), R11
	MOVQ x2+24(FP), R12
	MOVQ off+32(FP), BX
	MOVQ f+40(FP), DI
	MOVQ fstride+48(FP), R9
	SHLQ $2, R9
	MOVQ y+56(FP), DX
	MOVQ ystride+64(FP), R10
	SHLQ $2, R10

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	TESTQ CX, CX
	JZ    store

tap:
	MOVQ         (BX), AX
	VBROADCASTSS (SI)(AX*4), Y12
	VBROADCASTSS (R11)(AX*4), Y13
	VBROADCASTSS (R12)(AX*4), Y14
	VMOVUPS      (DI), Y15
	VFMADD231PS  Y15, Y12, Y0
	VFMADD231PS  Y15, Y13, Y4
	VFMADD231PS  Y15, Y14, Y8
	VMOVUPS      32(DI), Y15
	VFMADD231PS  Y15, Y12, Y1
	VFMADD231PS  Y15, Y13, Y5
	VFMADD231PS  Y15, Y14, Y9
	VMOVUPS      64(DI), Y15
	VFMADD231PS  Y15, Y12, Y2
	VFMADD231PS  Y15, Y13, Y6
	VFMADD231PS  Y15, Y14, Y10
	VMOVUPS      96(DI), Y15
	VFMADD231PS  Y15, Y12, Y3
	VFMADD231PS  Y15, Y13, Y7
	VFMADD231PS  Y15, Y14, Y11
	ADDQ         $8, BX
	ADDQ         R9, DI
	DECQ         CX
	JNZ          tap

store:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	ADDQ    R10, DX
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	VMOVUPS Y6, 64(DX)
	VMOVUPS Y7, 96(DX)
	ADDQ    R10, DX
	VMOVUPS Y8, (DX)
	VMOVUPS Y9, 32(DX)
	VMOVUPS Y10, 64(DX)
	VMOVUPS Y11, 96(DX)
	VZEROUPPER
	RET

// SSE kernel of the fused bias and ReLU; see conv_amd64.go for its
// contract. MAXPS returns its second (source) operand when either is NaN
// or both are zeros, so max(x, +0) is +0 for NaN and -0 as Relu is.

// func convBiasRelu8(d, b *float32, pixels, oc int, relu bool)
TEXT ·convBiasRelu8(SB), NOSPLIT, $0-33
	MOVQ    d+0(FP), DI
	MOVQ    b+8(FP), SI
	MOVQ    pixels+16(FP), CX
	MOVQ    oc+24(FP), DX
	MOVBQZX relu+32(FP), R8
	XORPS   X15, X15
	TESTQ   CX, CX
	JZ      brdone

brpixel:
	XORQ AX, AX

brvec:
	MOVUPS (DI)(AX*4), X0
	MOVUPS 16(DI)(AX*4), X1
	TESTQ  SI, SI
	JZ     brnobias
	MOVUPS (SI)(AX*4), X2
	MOVUPS 16(SI)(AX*4), X3
	ADDPS  X2, X0
	ADDPS  X3, X1

brnobias:
	TESTQ R8, R8
	JZ    brstore
	MAXPS X15, X0
	MAXPS X15, X1

brstore:
	MOVUPS X0, (DI)(AX*4)
	MOVUPS X1, 16(DI)(AX*4)
	ADDQ   $8, AX
	CMPQ   AX, DX
	JLT    brvec
	LEAQ   (DI)(DX*4), DI
	DECQ   CX
	JNZ    brpixel

brdone:
	RET
