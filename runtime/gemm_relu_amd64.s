#include "textflag.h"

// func reluAVX(p *float32, rows, cols, ld int)
//
// Sets p[i*ld+j] = max(p[i*ld+j], 0) for 0 <= i < rows, 0 <= j < cols, with
// VMAXPS x, 0 (Intel operand order), which returns its second operand (+0)
// unless x > 0: NaN and -0 become +0, as with the runtime's Relu. Whole 32-
// and 8-element blocks of a row use YMM registers, its last cols%8
// elements VMAXSS.
TEXT ·reluAVX(SB), NOSPLIT, $0-32
	MOVQ   p+0(FP), DI
	MOVQ   rows+8(FP), R8
	MOVQ   cols+16(FP), R9
	MOVQ   ld+24(FP), R10
	SHLQ   $2, R10
	VXORPS Y0, Y0, Y0

row:
	TESTQ R8, R8
	JEQ   done
	MOVQ  DI, SI
	MOVQ  R9, CX

loop32:
	CMPQ    CX, $32
	JLT     loop8
	VMOVUPS (SI), Y1
	VMOVUPS 32(SI), Y2
	VMOVUPS 64(SI), Y3
	VMOVUPS 96(SI), Y4
	VMAXPS  Y0, Y1, Y1
	VMAXPS  Y0, Y2, Y2
	VMAXPS  Y0, Y3, Y3
	VMAXPS  Y0, Y4, Y4
	VMOVUPS Y1, (SI)
	VMOVUPS Y2, 32(SI)
	VMOVUPS Y3, 64(SI)
	VMOVUPS Y4, 96(SI)
	ADDQ    $128, SI
	SUBQ    $32, CX
	JMP     loop32

loop8:
	CMPQ    CX, $8
	JLT     tail
	VMOVUPS (SI), Y1
	VMAXPS  Y0, Y1, Y1
	VMOVUPS Y1, (SI)
	ADDQ    $32, SI
	SUBQ    $8, CX
	JMP     loop8

tail:
	TESTQ  CX, CX
	JEQ    next
	VMOVSS (SI), X1
	VMAXSS X0, X1, X1
	VMOVSS X1, (SI)
	ADDQ   $4, SI
	DECQ   CX
	JMP    tail

next:
	ADDQ R10, DI
	DECQ R8
	JMP  row

done:
	VZEROUPPER
	RET
