#include "textflag.h"

// AVX2/FMA kernels of the SGEMM; see gemm_amd64.go for their contracts.

// One k step of the 6×16 micro-kernel: B row p (16 floats at bo(DI)) is
// held in Y12/Y13, the 6 values of A column p (at ao(SI)) are broadcast in
// turn, and the 12 accumulators Y0..Y11 (row i in Y(2i), Y(2i+1)) gather
// the products.
#define KSTEP(ao, bo) \
	VMOVUPS      (bo)(DI), Y12;         \
	VMOVUPS      (bo+32)(DI), Y13;      \
	VBROADCASTSS (ao)(SI), Y14;         \
	VFMADD231PS  Y12, Y14, Y0;          \
	VFMADD231PS  Y13, Y14, Y1;          \
	VBROADCASTSS (ao+4)(SI), Y15;       \
	VFMADD231PS  Y12, Y15, Y2;          \
	VFMADD231PS  Y13, Y15, Y3;          \
	VBROADCASTSS (ao+8)(SI), Y14;       \
	VFMADD231PS  Y12, Y14, Y4;          \
	VFMADD231PS  Y13, Y14, Y5;          \
	VBROADCASTSS (ao+12)(SI), Y15;      \
	VFMADD231PS  Y12, Y15, Y6;          \
	VFMADD231PS  Y13, Y15, Y7;          \
	VBROADCASTSS (ao+16)(SI), Y14;      \
	VFMADD231PS  Y12, Y14, Y8;          \
	VFMADD231PS  Y13, Y14, Y9;          \
	VBROADCASTSS (ao+20)(SI), Y15;      \
	VFMADD231PS  Y12, Y15, Y10;         \
	VFMADD231PS  Y13, Y15, Y11

// Stores row r of the tile (accumulators ylo, yhi, already scaled by
// alpha) to (DX), then advances DX by one row of C.
#define STORE0(ylo, yhi) \
	VMOVUPS ylo, (DX);    \
	VMOVUPS yhi, 32(DX);  \
	ADDQ    R8, DX

// Same, merging with beta (broadcast in Y15) times the old row of C.
#define STOREB(ylo, yhi) \
	VFMADD231PS (DX), Y15, ylo;   \
	VFMADD231PS 32(DX), Y15, yhi; \
	VMOVUPS     ylo, (DX);        \
	VMOVUPS     yhi, 32(DX);      \
	ADDQ        R8, DX

// Prefetches the six rows of C at DX (row stride R8) while the k loop
// runs, and zeroes the accumulators Y0..Y11: the start of both 6×16
// kernels.
#define TILEBEGIN \
	MOVQ       DX, AX;      \
	PREFETCHT0 (AX);        \
	PREFETCHT0 60(AX);      \
	ADDQ       R8, AX;      \
	PREFETCHT0 (AX);        \
	PREFETCHT0 60(AX);      \
	ADDQ       R8, AX;      \
	PREFETCHT0 (AX);        \
	PREFETCHT0 60(AX);      \
	ADDQ       R8, AX;      \
	PREFETCHT0 (AX);        \
	PREFETCHT0 60(AX);      \
	ADDQ       R8, AX;      \
	PREFETCHT0 (AX);        \
	PREFETCHT0 60(AX);      \
	ADDQ       R8, AX;      \
	PREFETCHT0 (AX);        \
	PREFETCHT0 60(AX);      \
	VXORPS     Y0, Y0, Y0;  \
	VXORPS     Y1, Y1, Y1;  \
	VXORPS     Y2, Y2, Y2;  \
	VXORPS     Y3, Y3, Y3;  \
	VXORPS     Y4, Y4, Y4;  \
	VXORPS     Y5, Y5, Y5;  \
	VXORPS     Y6, Y6, Y6;  \
	VXORPS     Y7, Y7, Y7;  \
	VXORPS     Y8, Y8, Y8;  \
	VXORPS     Y9, Y9, Y9;  \
	VXORPS     Y10, Y10, Y10; \
	VXORPS     Y11, Y11, Y11

// Scales the accumulators by alpha (broadcast in Y14).
#define TILESCALE \
	VMULPS Y14, Y0, Y0;   \
	VMULPS Y14, Y1, Y1;   \
	VMULPS Y14, Y2, Y2;   \
	VMULPS Y14, Y3, Y3;   \
	VMULPS Y14, Y4, Y4;   \
	VMULPS Y14, Y5, Y5;   \
	VMULPS Y14, Y6, Y6;   \
	VMULPS Y14, Y7, Y7;   \
	VMULPS Y14, Y8, Y8;   \
	VMULPS Y14, Y9, Y9;   \
	VMULPS Y14, Y10, Y10; \
	VMULPS Y14, Y11, Y11

// Stores the whole tile: STORE0 (or STOREB) for each of its six rows.
#define STORE0TILE \
	STORE0(Y0, Y1);   \
	STORE0(Y2, Y3);   \
	STORE0(Y4, Y5);   \
	STORE0(Y6, Y7);   \
	STORE0(Y8, Y9);   \
	STORE0(Y10, Y11)

#define STOREBTILE \
	STOREB(Y0, Y1);   \
	STOREB(Y2, Y3);   \
	STOREB(Y4, Y5);   \
	STOREB(Y6, Y7);   \
	STOREB(Y8, Y9);   \
	STOREB(Y10, Y11)

// func sgemmKernel6x16(kc int, a, b, c *float32, ldc int, alpha, beta float32)
TEXT ·sgemmKernel6x16(SB), NOSPLIT, $0-48
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	TILEBEGIN

	MOVQ CX, R9
	SHRQ $2, R9
	JZ   k1

k4:
	PREFETCHT0 384(SI)
	KSTEP(0, 0)
	KSTEP(24, 64)
	PREFETCHT0 448(SI)
	KSTEP(48, 128)
	KSTEP(72, 192)
	ADDQ $96, SI
	ADDQ $256, DI
	DECQ R9
	JNZ  k4

k1:
	ANDQ $3, CX
	JZ   store

k1loop:
	KSTEP(0, 0)
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  k1loop

store:
	VBROADCASTSS alpha+40(FP), Y14
	TILESCALE

	// beta == 0 (and not NaN): C is not read.
	VBROADCASTSS beta+44(FP), Y15
	VXORPS       X13, X13, X13
	VUCOMISS     X13, X15
	JNE          withbeta
	JPS          withbeta
	STORE0TILE
	VZEROUPPER
	RET

withbeta:
	STOREBTILE
	VZEROUPPER
	RET

// sgemvMasks holds eight all-ones int32 lanes followed by eight zero
// lanes: the 8 lanes starting at byte 32-4w enable the first w lanes of a
// VMASKMOVPS.
DATA sgemvMasks<>+0(SB)/4, $0xffffffff
DATA sgemvMasks<>+4(SB)/4, $0xffffffff
DATA sgemvMasks<>+8(SB)/4, $0xffffffff
DATA sgemvMasks<>+12(SB)/4, $0xffffffff
DATA sgemvMasks<>+16(SB)/4, $0xffffffff
DATA sgemvMasks<>+20(SB)/4, $0xffffffff
DATA sgemvMasks<>+24(SB)/4, $0xffffffff
DATA sgemvMasks<>+28(SB)/4, $0xffffffff
DATA sgemvMasks<>+32(SB)/4, $0
DATA sgemvMasks<>+36(SB)/4, $0
DATA sgemvMasks<>+40(SB)/4, $0
DATA sgemvMasks<>+44(SB)/4, $0
DATA sgemvMasks<>+48(SB)/4, $0
DATA sgemvMasks<>+52(SB)/4, $0
DATA sgemvMasks<>+56(SB)/4, $0
DATA sgemvMasks<>+60(SB)/4, $0
GLOBL sgemvMasks<>(SB), RODATA|NOPTR, $64

// Accumulates one 8-column strip of op(B) over all k rows into Y0..Y3
// (four rows of B per step, one accumulator each); BX walks down the strip,
// SI down a. LOADB is VFMADD231PS for a full strip, a masked load plus
// VFMADD231PS for the tail strip.
#define STRIPFULL(yacc) \
	VBROADCASTSS (SI), Y12;        \
	ADDQ         AX, SI;           \
	VFMADD231PS  (BX), Y12, yacc;  \
	ADDQ         R11, BX

#define STRIPMASK(yacc) \
	VBROADCASTSS (SI), Y12;        \
	ADDQ         AX, SI;           \
	VMASKMOVPS   (BX), Y11, Y13;   \
	VFMADD231PS  Y13, Y12, yacc;   \
	ADDQ         R11, BX

// func sgemvAxpy(k, n int, a *float32, inca int, b *float32, ldb int, c *float32, alpha float32)
//
// Columns in whole 32-column blocks are computed by sweeping c once per
// four rows of B (B read row by row, as it is stored); the remaining
// 8-column strips and the masked tail strip keep their sums in registers
// across all k rows and touch c once.
TEXT ·sgemvAxpy(SB), NOSPLIT, $0-60
	MOVQ         a+16(FP), SI
	MOVQ         inca+24(FP), AX
	SHLQ         $2, AX
	MOVQ         b+32(FP), DI
	MOVQ         ldb+40(FP), R11
	SHLQ         $2, R11
	VBROADCASTSS alpha+56(FP), Y10

	MOVQ n+8(FP), R12
	SHRQ $5, R12
	JZ   strips
	MOVQ k+0(FP), CX

quad:
	// c[0:32*R12] += alpha*(a[p]*B[p] + ... + a[p+3]*B[p+3]).
	CMPQ         CX, $4
	JLT          single
	VBROADCASTSS (SI), Y12
	VMULPS       Y10, Y12, Y12
	ADDQ         AX, SI
	VBROADCASTSS (SI), Y13
	VMULPS       Y10, Y13, Y13
	ADDQ         AX, SI
	VBROADCASTSS (SI), Y14
	VMULPS       Y10, Y14, Y14
	ADDQ         AX, SI
	VBROADCASTSS (SI), Y15
	VMULPS       Y10, Y15, Y15
	ADDQ         AX, SI
	MOVQ         c+48(FP), DX
	MOVQ         DI, BX
	LEAQ         (DI)(R11*1), R8
	LEAQ         (R8)(R11*1), R9
	LEAQ         (R9)(R11*1), R10
	MOVQ         R12, R13

quad32:
	VMOVUPS     (DX), Y0
	VMOVUPS     32(DX), Y1
	VMOVUPS     64(DX), Y2
	VMOVUPS     96(DX), Y3
	VFMADD231PS (BX), Y12, Y0
	VFMADD231PS 32(BX), Y12, Y1
	VFMADD231PS 64(BX), Y12, Y2
	VFMADD231PS 96(BX), Y12, Y3
	VFMADD231PS (R8), Y13, Y0
	VFMADD231PS 32(R8), Y13, Y1
	VFMADD231PS 64(R8), Y13, Y2
	VFMADD231PS 96(R8), Y13, Y3
	VFMADD231PS (R9), Y14, Y0
	VFMADD231PS 32(R9), Y14, Y1
	VFMADD231PS 64(R9), Y14, Y2
	VFMADD231PS 96(R9), Y14, Y3
	VFMADD231PS (R10), Y15, Y0
	VFMADD231PS 32(R10), Y15, Y1
	VFMADD231PS 64(R10), Y15, Y2
	VFMADD231PS 96(R10), Y15, Y3
	VMOVUPS     Y0, (DX)
	VMOVUPS     Y1, 32(DX)
	VMOVUPS     Y2, 64(DX)
	VMOVUPS     Y3, 96(DX)
	ADDQ        $128, DX
	ADDQ        $128, BX
	ADDQ        $128, R8
	ADDQ        $128, R9
	ADDQ        $128, R10
	DECQ        R13
	JNZ         quad32
	LEAQ        (DI)(R11*4), DI
	SUBQ        $4, CX
	JMP         quad

single:
	// The last k%4 rows of B, one at a time.
	TESTQ        CX, CX
	JZ           strips
	VBROADCASTSS (SI), Y12
	VMULPS       Y10, Y12, Y12
	ADDQ         AX, SI
	MOVQ         c+48(FP), DX
	MOVQ         DI, BX
	MOVQ         R12, R13

single32:
	VMOVUPS     (DX), Y0
	VMOVUPS     32(DX), Y1
	VMOVUPS     64(DX), Y2
	VMOVUPS     96(DX), Y3
	VFMADD231PS (BX), Y12, Y0
	VFMADD231PS 32(BX), Y12, Y1
	VFMADD231PS 64(BX), Y12, Y2
	VFMADD231PS 96(BX), Y12, Y3
	VMOVUPS     Y0, (DX)
	VMOVUPS     Y1, 32(DX)
	VMOVUPS     Y2, 64(DX)
	VMOVUPS     Y3, 96(DX)
	ADDQ        $128, DX
	ADDQ        $128, BX
	DECQ        R13
	JNZ         single32
	ADDQ        R11, DI
	DECQ        CX
	JMP         single

strips:
	// R13 = byte offset of the next strip, R12 = full strips left.
	MOVQ n+8(FP), R13
	ANDQ $-32, R13
	SHLQ $2, R13
	MOVQ n+8(FP), R12
	SHRQ $3, R12
	ANDQ $3, R12

strip:
	TESTQ  R12, R12
	JZ     tail
	MOVQ   a+16(FP), SI
	MOVQ   b+32(FP), BX
	ADDQ   R13, BX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ   k+0(FP), CX

strip4:
	CMPQ CX, $4
	JLT  strip1
	STRIPFULL(Y0)
	STRIPFULL(Y1)
	STRIPFULL(Y2)
	STRIPFULL(Y3)
	SUBQ $4, CX
	JMP  strip4

strip1:
	TESTQ CX, CX
	JZ    stripsum
	STRIPFULL(Y0)
	DECQ  CX
	JMP   strip1

stripsum:
	VADDPS  Y1, Y0, Y0
	VADDPS  Y3, Y2, Y2
	VADDPS  Y2, Y0, Y0
	MOVQ    c+48(FP), DX
	ADDQ    R13, DX
	VMOVUPS (DX), Y1
	VFMADD231PS Y0, Y10, Y1
	VMOVUPS Y1, (DX)
	ADDQ    $32, R13
	DECQ    R12
	JMP     strip

tail:
	// The last n%8 columns, through the mask Y11.
	MOVQ    n+8(FP), R12
	ANDQ    $7, R12
	JZ      axpydone
	SHLQ    $2, R12
	LEAQ    sgemvMasks<>(SB), BX
	ADDQ    $32, BX
	SUBQ    R12, BX
	VMOVDQU (BX), Y11
	MOVQ    a+16(FP), SI
	MOVQ    b+32(FP), BX
	ADDQ    R13, BX
	VXORPS  Y0, Y0, Y0
	VXORPS  Y1, Y1, Y1
	VXORPS  Y2, Y2, Y2
	VXORPS  Y3, Y3, Y3
	MOVQ    k+0(FP), CX

tail4:
	CMPQ CX, $4
	JLT  tail1
	STRIPMASK(Y0)
	STRIPMASK(Y1)
	STRIPMASK(Y2)
	STRIPMASK(Y3)
	SUBQ $4, CX
	JMP  tail4

tail1:
	TESTQ CX, CX
	JZ    tailsum
	STRIPMASK(Y0)
	DECQ  CX
	JMP   tail1

tailsum:
	VADDPS      Y1, Y0, Y0
	VADDPS      Y3, Y2, Y2
	VADDPS      Y2, Y0, Y0
	MOVQ        c+48(FP), DX
	ADDQ        R13, DX
	VMASKMOVPS  (DX), Y11, Y1
	VFMADD231PS Y0, Y10, Y1
	VMASKMOVPS  Y1, Y11, (DX)

axpydone:
	VZEROUPPER
	RET

// func sgemvDot(k, n int, a, b *float32, ldb int, c *float32, alpha float32)
TEXT ·sgemvDot(SB), NOSPLIT, $0-52
	MOVQ         n+8(FP), R12
	MOVQ         b+24(FP), DI
	MOVQ         ldb+32(FP), R11
	SHLQ         $2, R11
	MOVQ         c+40(FP), DX
	VBROADCASTSS alpha+48(FP), Y10

	// Y11 = mask of the k%8 trailing elements.
	MOVQ    k+0(FP), R13
	ANDQ    $7, R13
	SHLQ    $2, R13
	LEAQ    sgemvMasks<>(SB), BX
	ADDQ    $32, BX
	SUBQ    R13, BX
	VMOVDQU (BX), Y11

rows4:
	// Four dot products at a time, two accumulators each.
	CMPQ   R12, $4
	JLT    rows1
	MOVQ   a+16(FP), AX
	MOVQ   DI, BX
	LEAQ   (DI)(R11*1), R8
	LEAQ   (R8)(R11*1), R9
	LEAQ   (R9)(R11*1), R10
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ   k+0(FP), CX
	SHRQ   $4, CX
	JZ     rows4k8

rows4k16:
	VMOVUPS     (AX), Y12
	VMOVUPS     32(AX), Y13
	VFMADD231PS (BX), Y12, Y0
	VFMADD231PS 32(BX), Y13, Y1
	VFMADD231PS (R8), Y12, Y2
	VFMADD231PS 32(R8), Y13, Y3
	VFMADD231PS (R9), Y12, Y4
	VFMADD231PS 32(R9), Y13, Y5
	VFMADD231PS (R10), Y12, Y6
	VFMADD231PS 32(R10), Y13, Y7
	ADDQ        $64, AX
	ADDQ        $64, BX
	ADDQ        $64, R8
	ADDQ        $64, R9
	ADDQ        $64, R10
	DECQ        CX
	JNZ         rows4k16

rows4k8:
	MOVQ        k+0(FP), CX
	TESTQ       $8, CX
	JZ          rows4tail
	VMOVUPS     (AX), Y12
	VFMADD231PS (BX), Y12, Y0
	VFMADD231PS (R8), Y12, Y2
	VFMADD231PS (R9), Y12, Y4
	VFMADD231PS (R10), Y12, Y6
	ADDQ        $32, AX
	ADDQ        $32, BX
	ADDQ        $32, R8
	ADDQ        $32, R9
	ADDQ        $32, R10

rows4tail:
	ANDQ        $7, CX
	JZ          rows4sum
	VMASKMOVPS  (AX), Y11, Y12
	VMASKMOVPS  (BX), Y11, Y13
	VFMADD231PS Y13, Y12, Y1
	VMASKMOVPS  (R8), Y11, Y13
	VFMADD231PS Y13, Y12, Y3
	VMASKMOVPS  (R9), Y11, Y13
	VFMADD231PS Y13, Y12, Y5
	VMASKMOVPS  (R10), Y11, Y13
	VFMADD231PS Y13, Y12, Y7

rows4sum:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y5, Y4, Y4
	VADDPS       Y7, Y6, Y6
	VHADDPS      Y2, Y0, Y0
	VHADDPS      Y6, Y4, Y4
	VHADDPS      Y4, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMULPS       X10, X0, X0
	VADDPS       (DX), X0, X0
	VMOVUPS      X0, (DX)
	ADDQ         $16, DX
	LEAQ         (DI)(R11*4), DI
	SUBQ         $4, R12
	JMP          rows4

rows1:
	TESTQ  R12, R12
	JZ     dotdone
	MOVQ   a+16(FP), AX
	MOVQ   DI, BX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ   k+0(FP), CX
	SHRQ   $4, CX
	JZ     rows1k8

rows1k16:
	VMOVUPS     (AX), Y12
	VMOVUPS     32(AX), Y13
	VFMADD231PS (BX), Y12, Y0
	VFMADD231PS 32(BX), Y13, Y1
	ADDQ        $64, AX
	ADDQ        $64, BX
	DECQ        CX
	JNZ         rows1k16

rows1k8:
	MOVQ        k+0(FP), CX
	TESTQ       $8, CX
	JZ          rows1tail
	VMOVUPS     (AX), Y12
	VFMADD231PS (BX), Y12, Y0
	ADDQ        $32, AX
	ADDQ        $32, BX

rows1tail:
	ANDQ        $7, CX
	JZ          rows1sum
	VMASKMOVPS  (AX), Y11, Y12
	VMASKMOVPS  (BX), Y11, Y13
	VFMADD231PS Y13, Y12, Y1

rows1sum:
	VADDPS       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMULSS       X10, X0, X0
	VADDSS       (DX), X0, X0
	VMOVSS       X0, (DX)
	ADDQ         $4, DX
	ADDQ         R11, DI
	DECQ         R12
	JMP          rows1

dotdone:
	VZEROUPPER
	RET

// One 32-column block of two rows of C against one row of B at (brow):
// Y0..Y3 (row 0) += ya0*B, Y4..Y7 (row 1) += ya1*B.
#define PAIRROW(brow, ya0, ya1) \
	VMOVUPS     (brow), Y8;       \
	VFMADD231PS Y8, ya0, Y0;      \
	VFMADD231PS Y8, ya1, Y4;      \
	VMOVUPS     32(brow), Y9;     \
	VFMADD231PS Y9, ya0, Y1;      \
	VFMADD231PS Y9, ya1, Y5;      \
	VMOVUPS     64(brow), Y8;     \
	VFMADD231PS Y8, ya0, Y2;      \
	VFMADD231PS Y8, ya1, Y6;      \
	VMOVUPS     96(brow), Y9;     \
	VFMADD231PS Y9, ya0, Y3;      \
	VFMADD231PS Y9, ya1, Y7

#define LOADC2 \
	VMOVUPS (DX), Y0;    \
	VMOVUPS 32(DX), Y1;  \
	VMOVUPS 64(DX), Y2;  \
	VMOVUPS 96(DX), Y3;  \
	VMOVUPS (R10), Y4;   \
	VMOVUPS 32(R10), Y5; \
	VMOVUPS 64(R10), Y6; \
	VMOVUPS 96(R10), Y7

#define STOREC2 \
	VMOVUPS Y0, (DX);    \
	VMOVUPS Y1, 32(DX);  \
	VMOVUPS Y2, 64(DX);  \
	VMOVUPS Y3, 96(DX);  \
	VMOVUPS Y4, (R10);   \
	VMOVUPS Y5, 32(R10); \
	VMOVUPS Y6, 64(R10); \
	VMOVUPS Y7, 96(R10)

// func sgemvAxpy2(k, n int, a0, a1 *float32, inca int, b *float32, ldb int, c0, c1 *float32, alpha float32)
TEXT ·sgemvAxpy2(SB), NOSPLIT, $0-76
	MOVQ         k+0(FP), CX
	MOVQ         n+8(FP), R12
	SHRQ         $5, R12
	JZ           axpy2done
	MOVQ         a0+16(FP), SI
	MOVQ         a1+24(FP), R9
	MOVQ         inca+32(FP), AX
	SHLQ         $2, AX
	MOVQ         b+40(FP), DI
	MOVQ         ldb+48(FP), R11
	SHLQ         $2, R11
	VBROADCASTSS alpha+72(FP), Y10

pair:
	// Two rows of B per sweep over the two rows of C.
	CMPQ         CX, $2
	JLT          last
	VBROADCASTSS (SI), Y12
	VMULPS       Y10, Y12, Y12
	VBROADCASTSS (R9), Y14
	VMULPS       Y10, Y14, Y14
	ADDQ         AX, SI
	ADDQ         AX, R9
	VBROADCASTSS (SI), Y13
	VMULPS       Y10, Y13, Y13
	VBROADCASTSS (R9), Y15
	VMULPS       Y10, Y15, Y15
	ADDQ         AX, SI
	ADDQ         AX, R9
	MOVQ         c0+56(FP), DX
	MOVQ         c1+64(FP), R10
	MOVQ         DI, BX
	LEAQ         (DI)(R11*1), R8
	MOVQ         R12, R13

pair32:
	LOADC2
	PAIRROW(BX, Y12, Y14)
	PAIRROW(R8, Y13, Y15)
	STOREC2
	ADDQ $128, DX
	ADDQ $128, R10
	ADDQ $128, BX
	ADDQ $128, R8
	DECQ R13
	JNZ  pair32
	LEAQ (DI)(R11*2), DI
	SUBQ $2, CX
	JMP  pair

last:
	TESTQ        CX, CX
	JZ           axpy2done
	VBROADCASTSS (SI), Y12
	VMULPS       Y10, Y12, Y12
	VBROADCASTSS (R9), Y14
	VMULPS       Y10, Y14, Y14
	MOVQ         c0+56(FP), DX
	MOVQ         c1+64(FP), R10
	MOVQ         DI, BX
	MOVQ         R12, R13

last32:
	LOADC2
	PAIRROW(BX, Y12, Y14)
	STOREC2
	ADDQ $128, DX
	ADDQ $128, R10
	ADDQ $128, BX
	DECQ R13
	JNZ  last32

axpy2done:
	VZEROUPPER
	RET

// One k step of the 6×16 micro-kernel with strided operands: the 6 values
// of column p of the A sliver are at 0..20(areg), the 16 floats of row p
// of the B sliver are the memory operands blo and bhi.
#define KSTEPS(areg, blo, bhi) \
	VMOVUPS      blo, Y12;              \
	VMOVUPS      bhi, Y13;              \
	VBROADCASTSS (areg), Y14;           \
	VFMADD231PS  Y12, Y14, Y0;          \
	VFMADD231PS  Y13, Y14, Y1;          \
	VBROADCASTSS 4(areg), Y15;          \
	VFMADD231PS  Y12, Y15, Y2;          \
	VFMADD231PS  Y13, Y15, Y3;          \
	VBROADCASTSS 8(areg), Y14;          \
	VFMADD231PS  Y12, Y14, Y4;          \
	VFMADD231PS  Y13, Y14, Y5;          \
	VBROADCASTSS 12(areg), Y15;         \
	VFMADD231PS  Y12, Y15, Y6;          \
	VFMADD231PS  Y13, Y15, Y7;          \
	VBROADCASTSS 16(areg), Y14;         \
	VFMADD231PS  Y12, Y14, Y8;          \
	VFMADD231PS  Y13, Y14, Y9;          \
	VBROADCASTSS 20(areg), Y15;         \
	VFMADD231PS  Y12, Y15, Y10;         \
	VFMADD231PS  Y13, Y15, Y11

// func sgemmKernel6x16S(kc int, a, b, c *float32, lda, ldb, ldc int, alpha, beta float32)
TEXT ·sgemmKernel6x16S(SB), NOSPLIT, $0-64
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

	TILEBEGIN

	MOVQ CX, R9
	SHRQ $2, R9
	JZ   sk1

sk4:
	KSTEPS(SI, (DI), 32(DI))
	LEAQ (SI)(R12*1), AX
	KSTEPS(AX, (DI)(R10*1), 32(DI)(R10*1))
	LEAQ (SI)(R12*2), BX
	KSTEPS(BX, (DI)(R10*2), 32(DI)(R10*2))
	LEAQ (SI)(R13*1), AX
	KSTEPS(AX, (DI)(R11*1), 32(DI)(R11*1))
	LEAQ (SI)(R12*4), SI
	LEAQ (DI)(R10*4), DI
	DECQ R9
	JNZ  sk4

sk1:
	ANDQ $3, CX
	JZ   sstore

sk1loop:
	KSTEPS(SI, (DI), 32(DI))
	ADDQ R12, SI
	ADDQ R10, DI
	DECQ CX
	JNZ  sk1loop

sstore:
	VBROADCASTSS alpha+56(FP), Y14
	TILESCALE

	// beta == 0 (and not NaN): C is not read.
	VBROADCASTSS beta+60(FP), Y15
	VXORPS       X13, X13, X13
	VUCOMISS     X13, X15
	JNE          swithbeta
	JPS          swithbeta
	STORE0TILE
	VZEROUPPER
	RET

swithbeta:
	STOREBTILE
	VZEROUPPER
	RET
