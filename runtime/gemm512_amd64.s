#include "textflag.h"

// AVX-512F kernels of the SGEMM; see gemm512_amd64.go for their contracts.
//
// The 8×32 tile keeps its 16 accumulators in Z0..Z15 (row i in Z(2i),
// Z(2i+1)), one row of B in Z16/Z17 and the eight broadcast values of a
// column of A in Z18..Z25; Z26..Z31 are free. Z0..Z15 are zeroed through
// their VEX-encoded X halves, which clears the whole register.

// One k step of the packed 8×32 kernel: B row p (32 floats at bo(DI)) and
// A column p (8 floats at ao(SI)).
#define KSTEP512(ao, bo) \
	VMOVUPS      (bo)(DI), Z16;      \
	VMOVUPS      (bo+64)(DI), Z17;   \
	VBROADCASTSS (ao)(SI), Z18;      \
	VBROADCASTSS (ao+4)(SI), Z19;    \
	VFMADD231PS  Z16, Z18, Z0;       \
	VFMADD231PS  Z17, Z18, Z1;       \
	VBROADCASTSS (ao+8)(SI), Z20;    \
	VFMADD231PS  Z16, Z19, Z2;       \
	VFMADD231PS  Z17, Z19, Z3;       \
	VBROADCASTSS (ao+12)(SI), Z21;   \
	VFMADD231PS  Z16, Z20, Z4;       \
	VFMADD231PS  Z17, Z20, Z5;       \
	VBROADCASTSS (ao+16)(SI), Z22;   \
	VFMADD231PS  Z16, Z21, Z6;       \
	VFMADD231PS  Z17, Z21, Z7;       \
	VBROADCASTSS (ao+20)(SI), Z23;   \
	VFMADD231PS  Z16, Z22, Z8;       \
	VFMADD231PS  Z17, Z22, Z9;       \
	VBROADCASTSS (ao+24)(SI), Z24;   \
	VFMADD231PS  Z16, Z23, Z10;      \
	VFMADD231PS  Z17, Z23, Z11;      \
	VBROADCASTSS (ao+28)(SI), Z25;   \
	VFMADD231PS  Z16, Z24, Z12;      \
	VFMADD231PS  Z17, Z24, Z13;      \
	VFMADD231PS  Z16, Z25, Z14;      \
	VFMADD231PS  Z17, Z25, Z15

// One k step of the strided 8×32 kernel: the 8 values of column p of the
// A sliver at 0..28(areg), the 32 floats of row p of the B sliver are the
// memory operands blo and bhi.
#define KSTEP512S(areg, blo, bhi) \
	VMOVUPS      blo, Z16;          \
	VMOVUPS      bhi, Z17;          \
	VBROADCASTSS (areg), Z18;       \
	VBROADCASTSS 4(areg), Z19;      \
	VFMADD231PS  Z16, Z18, Z0;      \
	VFMADD231PS  Z17, Z18, Z1;      \
	VBROADCASTSS 8(areg), Z20;      \
	VFMADD231PS  Z16, Z19, Z2;      \
	VFMADD231PS  Z17, Z19, Z3;      \
	VBROADCASTSS 12(areg), Z21;     \
	VFMADD231PS  Z16, Z20, Z4;      \
	VFMADD231PS  Z17, Z20, Z5;      \
	VBROADCASTSS 16(areg), Z22;     \
	VFMADD231PS  Z16, Z21, Z6;      \
	VFMADD231PS  Z17, Z21, Z7;      \
	VBROADCASTSS 20(areg), Z23;     \
	VFMADD231PS  Z16, Z22, Z8;      \
	VFMADD231PS  Z17, Z22, Z9;      \
	VBROADCASTSS 24(areg), Z24;     \
	VFMADD231PS  Z16, Z23, Z10;     \
	VFMADD231PS  Z17, Z23, Z11;     \
	VBROADCASTSS 28(areg), Z25;     \
	VFMADD231PS  Z16, Z24, Z12;     \
	VFMADD231PS  Z17, Z24, Z13;     \
	VFMADD231PS  Z16, Z25, Z14;     \
	VFMADD231PS  Z17, Z25, Z15

// Prefetches one 128-byte row of C at AX (three lines when it straddles
// them) and advances AX by a row (R8).
#define PREFC \
	PREFETCHT0 (AX);    \
	PREFETCHT0 64(AX);  \
	PREFETCHT0 124(AX); \
	ADDQ       R8, AX

// Prefetches the eight rows of C at DX (row stride R8) while the k loop
// runs, and zeroes the accumulators Z0..Z15: the start of both kernels.
#define TILEBEGIN512 \
	MOVQ   DX, AX;         \
	PREFC;                 \
	PREFC;                 \
	PREFC;                 \
	PREFC;                 \
	PREFC;                 \
	PREFC;                 \
	PREFC;                 \
	PREFC;                 \
	VXORPS X0, X0, X0;     \
	VXORPS X1, X1, X1;     \
	VXORPS X2, X2, X2;     \
	VXORPS X3, X3, X3;     \
	VXORPS X4, X4, X4;     \
	VXORPS X5, X5, X5;     \
	VXORPS X6, X6, X6;     \
	VXORPS X7, X7, X7;     \
	VXORPS X8, X8, X8;     \
	VXORPS X9, X9, X9;     \
	VXORPS X10, X10, X10;  \
	VXORPS X11, X11, X11;  \
	VXORPS X12, X12, X12;  \
	VXORPS X13, X13, X13;  \
	VXORPS X14, X14, X14;  \
	VXORPS X15, X15, X15

// Scales the accumulators by alpha (broadcast in Z30).
#define TILESCALE512 \
	VMULPS Z30, Z0, Z0;   \
	VMULPS Z30, Z1, Z1;   \
	VMULPS Z30, Z2, Z2;   \
	VMULPS Z30, Z3, Z3;   \
	VMULPS Z30, Z4, Z4;   \
	VMULPS Z30, Z5, Z5;   \
	VMULPS Z30, Z6, Z6;   \
	VMULPS Z30, Z7, Z7;   \
	VMULPS Z30, Z8, Z8;   \
	VMULPS Z30, Z9, Z9;   \
	VMULPS Z30, Z10, Z10; \
	VMULPS Z30, Z11, Z11; \
	VMULPS Z30, Z12, Z12; \
	VMULPS Z30, Z13, Z13; \
	VMULPS Z30, Z14, Z14; \
	VMULPS Z30, Z15, Z15

// Stores row r of the tile (accumulators zlo, zhi, already scaled by
// alpha) to (DX), then advances DX by one row of C.
#define STORE0512(zlo, zhi) \
	VMOVUPS zlo, (DX);   \
	VMOVUPS zhi, 64(DX); \
	ADDQ    R8, DX

// Same, merging with beta (broadcast in Z31) times the old row of C.
#define STOREB512(zlo, zhi) \
	VFMADD231PS (DX), Z31, zlo;   \
	VFMADD231PS 64(DX), Z31, zhi; \
	VMOVUPS     zlo, (DX);        \
	VMOVUPS     zhi, 64(DX);      \
	ADDQ        R8, DX

// Scales the tile by alpha (broadcast in Z30) and stores it, merging with
// beta (broadcast in Z31) times C unless beta is zero (and not NaN), in
// which case C is not read; then returns.
#define TILEEND512(withbeta) \
	TILESCALE512;                 \
	VPXORD       Z26, Z26, Z26;   \
	VUCOMISS     X26, X31;        \
	JNE          withbeta;        \
	JPS          withbeta;        \
	STORE0512(Z0, Z1);            \
	STORE0512(Z2, Z3);            \
	STORE0512(Z4, Z5);            \
	STORE0512(Z6, Z7);            \
	STORE0512(Z8, Z9);            \
	STORE0512(Z10, Z11);          \
	STORE0512(Z12, Z13);          \
	STORE0512(Z14, Z15);          \
	VZEROUPPER;                   \
	RET;                          \
withbeta:                         \
	STOREB512(Z0, Z1);            \
	STOREB512(Z2, Z3);            \
	STOREB512(Z4, Z5);            \
	STOREB512(Z6, Z7);            \
	STOREB512(Z8, Z9);            \
	STOREB512(Z10, Z11);          \
	STOREB512(Z12, Z13);          \
	STOREB512(Z14, Z15);          \
	VZEROUPPER;                   \
	RET

// func sgemmKernel8x32(kc int, a, b, c *float32, ldc int, alpha, beta float32)
TEXT ·sgemmKernel8x32(SB), NOSPLIT, $0-48
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	TILEBEGIN512

	MOVQ CX, R9
	SHRQ $2, R9
	JZ   k1

k4:
	PREFETCHT0 512(SI)
	KSTEP512(0, 0)
	KSTEP512(32, 128)
	PREFETCHT0 576(SI)
	KSTEP512(64, 256)
	KSTEP512(96, 384)
	ADDQ $128, SI
	ADDQ $512, DI
	DECQ R9
	JNZ  k4

k1:
	ANDQ $3, CX
	JZ   store

k1loop:
	KSTEP512(0, 0)
	ADDQ $32, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  k1loop

store:
	VBROADCASTSS alpha+40(FP), Z30
	VBROADCASTSS beta+44(FP), Z31
	TILEEND512(withbeta)

// func sgemmKernel8x32S(kc int, a, b, c *float32, lda, ldb, ldc int, alpha, beta float32)
TEXT ·sgemmKernel8x32S(SB), NOSPLIT, $0-64
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ lda+32(FP), R12
	SHLQ $2, R12
	LEAQ (R12)(R12*2), R13
	MOVQ ldb+40(FP), R10
	SHLQ $2, R10
	LEAQ (R10)(R10*2), R11
	MOVQ ldc+48(FP), R8
	SHLQ $2, R8

	TILEBEGIN512

	MOVQ CX, R9
	SHRQ $2, R9
	JZ   sk1

sk4:
	KSTEP512S(SI, (DI), 64(DI))
	LEAQ (SI)(R12*1), AX
	KSTEP512S(AX, (DI)(R10*1), 64(DI)(R10*1))
	LEAQ (SI)(R12*2), BX
	KSTEP512S(BX, (DI)(R10*2), 64(DI)(R10*2))
	LEAQ (SI)(R13*1), AX
	KSTEP512S(AX, (DI)(R11*1), 64(DI)(R11*1))
	LEAQ (SI)(R12*4), SI
	LEAQ (DI)(R10*4), DI
	DECQ R9
	JNZ  sk4

sk1:
	ANDQ $3, CX
	JZ   sstore

sk1loop:
	KSTEP512S(SI, (DI), 64(DI))
	ADDQ R12, SI
	ADDQ R10, DI
	DECQ CX
	JNZ  sk1loop

sstore:
	VBROADCASTSS alpha+56(FP), Z30
	VBROADCASTSS beta+60(FP), Z31
	TILEEND512(swithbeta)
