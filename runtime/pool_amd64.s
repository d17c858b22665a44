#include "textflag.h"

// SSE kernels of max pooling; see pool_amd64.go for their contracts. SSE
// is part of the amd64 baseline, so they need no CPU feature check.

// func poolMax4(d, v *float32, n int)
TEXT ·poolMax4(SB), NOSPLIT, $0-24
	MOVQ d+0(FP), DI
	MOVQ v+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $2, CX
	JZ   done

loop:
	MOVUPS (DI), X0
	MOVUPS (SI), X1
	MAXPS  X0, X1   // X1 = v > d ? v : d
	MOVUPS X1, (DI)
	ADDQ   $16, DI
	ADDQ   $16, SI
	DECQ   CX
	JNZ    loop

done:
	RET

// func poolArgMax4(bv *float32, bi *int32, v *float32, n int, p int32)
TEXT ·poolArgMax4(SB), NOSPLIT, $0-36
	MOVQ   bv+0(FP), DI
	MOVQ   bi+8(FP), BX
	MOVQ   v+16(FP), SI
	MOVQ   n+24(FP), CX
	MOVL   p+32(FP), AX
	MOVQ   AX, X4
	PSHUFD $0, X4, X4 // p in every lane
	SHRQ   $2, CX
	JZ     adone

aloop:
	MOVUPS (DI), X0
	MOVUPS (SI), X1
	MOVAPS X0, X2
	CMPPS  X1, X2, $1 // X2 = bv < v: the lanes where v is a new maximum
	MAXPS  X0, X1     // X1 = v > bv ? v : bv
	MOVUPS X1, (DI)
	MOVUPS (BX), X3
	MOVAPS X2, X5
	ANDPS  X4, X5     // p where new
	ANDNPS X3, X2     // the old position elsewhere
	ORPS   X5, X2
	MOVUPS X2, (BX)
	ADDQ   $16, DI
	ADDQ   $16, SI
	ADDQ   $16, BX
	DECQ   CX
	JNZ    aloop

adone:
	RET
