#include "textflag.h"

// Vector kernels of ExpSlice, SigmoidSlice and TanhSlice; see
// fastmath_amd64.go for their contract and fastmath.go for the algorithm.
// Each instruction mirrors one float32 operation of expCore, sigmoidFast
// or tanhFast, in the same order, with separate multiplies and adds (no
// FMA) so that the results agree bit for bit. Constants are 16 copies of
// the scalar constants' bits (the AVX2 kernels read the first 8).

// fmExpMax: 89.0 (0x42b20000) in 16 lanes
DATA fmExpMax<>+0(SB)/8, $0x42b2000042b20000
DATA fmExpMax<>+8(SB)/8, $0x42b2000042b20000
DATA fmExpMax<>+16(SB)/8, $0x42b2000042b20000
DATA fmExpMax<>+24(SB)/8, $0x42b2000042b20000
DATA fmExpMax<>+32(SB)/8, $0x42b2000042b20000
DATA fmExpMax<>+40(SB)/8, $0x42b2000042b20000
DATA fmExpMax<>+48(SB)/8, $0x42b2000042b20000
DATA fmExpMax<>+56(SB)/8, $0x42b2000042b20000
GLOBL fmExpMax<>(SB), RODATA|NOPTR, $64

// fmExpMin: -104.0 (0xc2d00000) in 16 lanes
DATA fmExpMin<>+0(SB)/8, $0xc2d00000c2d00000
DATA fmExpMin<>+8(SB)/8, $0xc2d00000c2d00000
DATA fmExpMin<>+16(SB)/8, $0xc2d00000c2d00000
DATA fmExpMin<>+24(SB)/8, $0xc2d00000c2d00000
DATA fmExpMin<>+32(SB)/8, $0xc2d00000c2d00000
DATA fmExpMin<>+40(SB)/8, $0xc2d00000c2d00000
DATA fmExpMin<>+48(SB)/8, $0xc2d00000c2d00000
DATA fmExpMin<>+56(SB)/8, $0xc2d00000c2d00000
GLOBL fmExpMin<>(SB), RODATA|NOPTR, $64

// fmLog2e: 1.4426950408889634 (0x3fb8aa3b) in 16 lanes
DATA fmLog2e<>+0(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA fmLog2e<>+8(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA fmLog2e<>+16(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA fmLog2e<>+24(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA fmLog2e<>+32(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA fmLog2e<>+40(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA fmLog2e<>+48(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA fmLog2e<>+56(SB)/8, $0x3fb8aa3b3fb8aa3b
GLOBL fmLog2e<>(SB), RODATA|NOPTR, $64

// fmMagic: 12582912.0 (0x4b400000) in 16 lanes
DATA fmMagic<>+0(SB)/8, $0x4b4000004b400000
DATA fmMagic<>+8(SB)/8, $0x4b4000004b400000
DATA fmMagic<>+16(SB)/8, $0x4b4000004b400000
DATA fmMagic<>+24(SB)/8, $0x4b4000004b400000
DATA fmMagic<>+32(SB)/8, $0x4b4000004b400000
DATA fmMagic<>+40(SB)/8, $0x4b4000004b400000
DATA fmMagic<>+48(SB)/8, $0x4b4000004b400000
DATA fmMagic<>+56(SB)/8, $0x4b4000004b400000
GLOBL fmMagic<>(SB), RODATA|NOPTR, $64

// fmLn2Hi: 0.693359375 (0x3f318000) in 16 lanes
DATA fmLn2Hi<>+0(SB)/8, $0x3f3180003f318000
DATA fmLn2Hi<>+8(SB)/8, $0x3f3180003f318000
DATA fmLn2Hi<>+16(SB)/8, $0x3f3180003f318000
DATA fmLn2Hi<>+24(SB)/8, $0x3f3180003f318000
DATA fmLn2Hi<>+32(SB)/8, $0x3f3180003f318000
DATA fmLn2Hi<>+40(SB)/8, $0x3f3180003f318000
DATA fmLn2Hi<>+48(SB)/8, $0x3f3180003f318000
DATA fmLn2Hi<>+56(SB)/8, $0x3f3180003f318000
GLOBL fmLn2Hi<>(SB), RODATA|NOPTR, $64

// fmLn2Lo: -0.00021219444 (0xb95e8083) in 16 lanes
DATA fmLn2Lo<>+0(SB)/8, $0xb95e8083b95e8083
DATA fmLn2Lo<>+8(SB)/8, $0xb95e8083b95e8083
DATA fmLn2Lo<>+16(SB)/8, $0xb95e8083b95e8083
DATA fmLn2Lo<>+24(SB)/8, $0xb95e8083b95e8083
DATA fmLn2Lo<>+32(SB)/8, $0xb95e8083b95e8083
DATA fmLn2Lo<>+40(SB)/8, $0xb95e8083b95e8083
DATA fmLn2Lo<>+48(SB)/8, $0xb95e8083b95e8083
DATA fmLn2Lo<>+56(SB)/8, $0xb95e8083b95e8083
GLOBL fmLn2Lo<>(SB), RODATA|NOPTR, $64

// fmP0: 0.000198756915 (0x39506967) in 16 lanes
DATA fmP0<>+0(SB)/8, $0x3950696739506967
DATA fmP0<>+8(SB)/8, $0x3950696739506967
DATA fmP0<>+16(SB)/8, $0x3950696739506967
DATA fmP0<>+24(SB)/8, $0x3950696739506967
DATA fmP0<>+32(SB)/8, $0x3950696739506967
DATA fmP0<>+40(SB)/8, $0x3950696739506967
DATA fmP0<>+48(SB)/8, $0x3950696739506967
DATA fmP0<>+56(SB)/8, $0x3950696739506967
GLOBL fmP0<>(SB), RODATA|NOPTR, $64

// fmP1: 0.0013981999507 (0x3ab743ce) in 16 lanes
DATA fmP1<>+0(SB)/8, $0x3ab743ce3ab743ce
DATA fmP1<>+8(SB)/8, $0x3ab743ce3ab743ce
DATA fmP1<>+16(SB)/8, $0x3ab743ce3ab743ce
DATA fmP1<>+24(SB)/8, $0x3ab743ce3ab743ce
DATA fmP1<>+32(SB)/8, $0x3ab743ce3ab743ce
DATA fmP1<>+40(SB)/8, $0x3ab743ce3ab743ce
DATA fmP1<>+48(SB)/8, $0x3ab743ce3ab743ce
DATA fmP1<>+56(SB)/8, $0x3ab743ce3ab743ce
GLOBL fmP1<>(SB), RODATA|NOPTR, $64

// fmP2: 0.0083334519073 (0x3c088908) in 16 lanes
DATA fmP2<>+0(SB)/8, $0x3c0889083c088908
DATA fmP2<>+8(SB)/8, $0x3c0889083c088908
DATA fmP2<>+16(SB)/8, $0x3c0889083c088908
DATA fmP2<>+24(SB)/8, $0x3c0889083c088908
DATA fmP2<>+32(SB)/8, $0x3c0889083c088908
DATA fmP2<>+40(SB)/8, $0x3c0889083c088908
DATA fmP2<>+48(SB)/8, $0x3c0889083c088908
DATA fmP2<>+56(SB)/8, $0x3c0889083c088908
GLOBL fmP2<>(SB), RODATA|NOPTR, $64

// fmP3: 0.041665795894 (0x3d2aa9c1) in 16 lanes
DATA fmP3<>+0(SB)/8, $0x3d2aa9c13d2aa9c1
DATA fmP3<>+8(SB)/8, $0x3d2aa9c13d2aa9c1
DATA fmP3<>+16(SB)/8, $0x3d2aa9c13d2aa9c1
DATA fmP3<>+24(SB)/8, $0x3d2aa9c13d2aa9c1
DATA fmP3<>+32(SB)/8, $0x3d2aa9c13d2aa9c1
DATA fmP3<>+40(SB)/8, $0x3d2aa9c13d2aa9c1
DATA fmP3<>+48(SB)/8, $0x3d2aa9c13d2aa9c1
DATA fmP3<>+56(SB)/8, $0x3d2aa9c13d2aa9c1
GLOBL fmP3<>(SB), RODATA|NOPTR, $64

// fmP4: 0.16666665459 (0x3e2aaaaa) in 16 lanes
DATA fmP4<>+0(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA fmP4<>+8(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA fmP4<>+16(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA fmP4<>+24(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA fmP4<>+32(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA fmP4<>+40(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA fmP4<>+48(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA fmP4<>+56(SB)/8, $0x3e2aaaaa3e2aaaaa
GLOBL fmP4<>(SB), RODATA|NOPTR, $64

// fmP5: 0.50000001201 (0x3f000000) in 16 lanes
DATA fmP5<>+0(SB)/8, $0x3f0000003f000000
DATA fmP5<>+8(SB)/8, $0x3f0000003f000000
DATA fmP5<>+16(SB)/8, $0x3f0000003f000000
DATA fmP5<>+24(SB)/8, $0x3f0000003f000000
DATA fmP5<>+32(SB)/8, $0x3f0000003f000000
DATA fmP5<>+40(SB)/8, $0x3f0000003f000000
DATA fmP5<>+48(SB)/8, $0x3f0000003f000000
DATA fmP5<>+56(SB)/8, $0x3f0000003f000000
GLOBL fmP5<>(SB), RODATA|NOPTR, $64

// fmOne: 1.0 (0x3f800000) in 16 lanes
DATA fmOne<>+0(SB)/8, $0x3f8000003f800000
DATA fmOne<>+8(SB)/8, $0x3f8000003f800000
DATA fmOne<>+16(SB)/8, $0x3f8000003f800000
DATA fmOne<>+24(SB)/8, $0x3f8000003f800000
DATA fmOne<>+32(SB)/8, $0x3f8000003f800000
DATA fmOne<>+40(SB)/8, $0x3f8000003f800000
DATA fmOne<>+48(SB)/8, $0x3f8000003f800000
DATA fmOne<>+56(SB)/8, $0x3f8000003f800000
GLOBL fmOne<>(SB), RODATA|NOPTR, $64

// fmBias: 127 (0x0000007f) in 16 lanes
DATA fmBias<>+0(SB)/8, $0x0000007f0000007f
DATA fmBias<>+8(SB)/8, $0x0000007f0000007f
DATA fmBias<>+16(SB)/8, $0x0000007f0000007f
DATA fmBias<>+24(SB)/8, $0x0000007f0000007f
DATA fmBias<>+32(SB)/8, $0x0000007f0000007f
DATA fmBias<>+40(SB)/8, $0x0000007f0000007f
DATA fmBias<>+48(SB)/8, $0x0000007f0000007f
DATA fmBias<>+56(SB)/8, $0x0000007f0000007f
GLOBL fmBias<>(SB), RODATA|NOPTR, $64

// fmSign: 2147483648 (0x80000000) in 16 lanes
DATA fmSign<>+0(SB)/8, $0x8000000080000000
DATA fmSign<>+8(SB)/8, $0x8000000080000000
DATA fmSign<>+16(SB)/8, $0x8000000080000000
DATA fmSign<>+24(SB)/8, $0x8000000080000000
DATA fmSign<>+32(SB)/8, $0x8000000080000000
DATA fmSign<>+40(SB)/8, $0x8000000080000000
DATA fmSign<>+48(SB)/8, $0x8000000080000000
DATA fmSign<>+56(SB)/8, $0x8000000080000000
GLOBL fmSign<>(SB), RODATA|NOPTR, $64

// fmMinusTwo: -2.0 (0xc0000000) in 16 lanes
DATA fmMinusTwo<>+0(SB)/8, $0xc0000000c0000000
DATA fmMinusTwo<>+8(SB)/8, $0xc0000000c0000000
DATA fmMinusTwo<>+16(SB)/8, $0xc0000000c0000000
DATA fmMinusTwo<>+24(SB)/8, $0xc0000000c0000000
DATA fmMinusTwo<>+32(SB)/8, $0xc0000000c0000000
DATA fmMinusTwo<>+40(SB)/8, $0xc0000000c0000000
DATA fmMinusTwo<>+48(SB)/8, $0xc0000000c0000000
DATA fmMinusTwo<>+56(SB)/8, $0xc0000000c0000000
GLOBL fmMinusTwo<>(SB), RODATA|NOPTR, $64

// fmTanhSmall: 0.625 (0x3f200000) in 16 lanes
DATA fmTanhSmall<>+0(SB)/8, $0x3f2000003f200000
DATA fmTanhSmall<>+8(SB)/8, $0x3f2000003f200000
DATA fmTanhSmall<>+16(SB)/8, $0x3f2000003f200000
DATA fmTanhSmall<>+24(SB)/8, $0x3f2000003f200000
DATA fmTanhSmall<>+32(SB)/8, $0x3f2000003f200000
DATA fmTanhSmall<>+40(SB)/8, $0x3f2000003f200000
DATA fmTanhSmall<>+48(SB)/8, $0x3f2000003f200000
DATA fmTanhSmall<>+56(SB)/8, $0x3f2000003f200000
GLOBL fmTanhSmall<>(SB), RODATA|NOPTR, $64

// fmQ0: -0.00570498872745 (0xbbbaf0ea) in 16 lanes
DATA fmQ0<>+0(SB)/8, $0xbbbaf0eabbbaf0ea
DATA fmQ0<>+8(SB)/8, $0xbbbaf0eabbbaf0ea
DATA fmQ0<>+16(SB)/8, $0xbbbaf0eabbbaf0ea
DATA fmQ0<>+24(SB)/8, $0xbbbaf0eabbbaf0ea
DATA fmQ0<>+32(SB)/8, $0xbbbaf0eabbbaf0ea
DATA fmQ0<>+40(SB)/8, $0xbbbaf0eabbbaf0ea
DATA fmQ0<>+48(SB)/8, $0xbbbaf0eabbbaf0ea
DATA fmQ0<>+56(SB)/8, $0xbbbaf0eabbbaf0ea
GLOBL fmQ0<>(SB), RODATA|NOPTR, $64

// fmQ1: 0.0206390887954 (0x3ca9134e) in 16 lanes
DATA fmQ1<>+0(SB)/8, $0x3ca9134e3ca9134e
DATA fmQ1<>+8(SB)/8, $0x3ca9134e3ca9134e
DATA fmQ1<>+16(SB)/8, $0x3ca9134e3ca9134e
DATA fmQ1<>+24(SB)/8, $0x3ca9134e3ca9134e
DATA fmQ1<>+32(SB)/8, $0x3ca9134e3ca9134e
DATA fmQ1<>+40(SB)/8, $0x3ca9134e3ca9134e
DATA fmQ1<>+48(SB)/8, $0x3ca9134e3ca9134e
DATA fmQ1<>+56(SB)/8, $0x3ca9134e3ca9134e
GLOBL fmQ1<>(SB), RODATA|NOPTR, $64

// fmQ2: -0.0537397155531 (0xbd5c1e2d) in 16 lanes
DATA fmQ2<>+0(SB)/8, $0xbd5c1e2dbd5c1e2d
DATA fmQ2<>+8(SB)/8, $0xbd5c1e2dbd5c1e2d
DATA fmQ2<>+16(SB)/8, $0xbd5c1e2dbd5c1e2d
DATA fmQ2<>+24(SB)/8, $0xbd5c1e2dbd5c1e2d
DATA fmQ2<>+32(SB)/8, $0xbd5c1e2dbd5c1e2d
DATA fmQ2<>+40(SB)/8, $0xbd5c1e2dbd5c1e2d
DATA fmQ2<>+48(SB)/8, $0xbd5c1e2dbd5c1e2d
DATA fmQ2<>+56(SB)/8, $0xbd5c1e2dbd5c1e2d
GLOBL fmQ2<>(SB), RODATA|NOPTR, $64

// fmQ3: 0.133314422036 (0x3e088393) in 16 lanes
DATA fmQ3<>+0(SB)/8, $0x3e0883933e088393
DATA fmQ3<>+8(SB)/8, $0x3e0883933e088393
DATA fmQ3<>+16(SB)/8, $0x3e0883933e088393
DATA fmQ3<>+24(SB)/8, $0x3e0883933e088393
DATA fmQ3<>+32(SB)/8, $0x3e0883933e088393
DATA fmQ3<>+40(SB)/8, $0x3e0883933e088393
DATA fmQ3<>+48(SB)/8, $0x3e0883933e088393
DATA fmQ3<>+56(SB)/8, $0x3e0883933e088393
GLOBL fmQ3<>(SB), RODATA|NOPTR, $64

// fmQ4: -0.333332819422 (0xbeaaaa99) in 16 lanes
DATA fmQ4<>+0(SB)/8, $0xbeaaaa99beaaaa99
DATA fmQ4<>+8(SB)/8, $0xbeaaaa99beaaaa99
DATA fmQ4<>+16(SB)/8, $0xbeaaaa99beaaaa99
DATA fmQ4<>+24(SB)/8, $0xbeaaaa99beaaaa99
DATA fmQ4<>+32(SB)/8, $0xbeaaaa99beaaaa99
DATA fmQ4<>+40(SB)/8, $0xbeaaaa99beaaaa99
DATA fmQ4<>+48(SB)/8, $0xbeaaaa99beaaaa99
DATA fmQ4<>+56(SB)/8, $0xbeaaaa99beaaaa99
GLOBL fmQ4<>(SB), RODATA|NOPTR, $64


// EXP_AVX2 sets Y0 = expCore(Y0), clobbering Y1-Y4. It needs Y9 = expMin,
// Y10 = expMax, Y12 = 127 (int32), Y13 = log2e, Y14 = expMagic, Y15 = 1.
#define EXP_AVX2 \
	VMINPS Y0, Y10, Y0 \
	VMAXPS Y0, Y9, Y0 \
	VMULPS Y13, Y0, Y1 \
	VADDPS Y14, Y1, Y1 \
	VSUBPS Y14, Y1, Y2 \
	VPSUBD Y14, Y1, Y1 \
	VMULPS fmLn2Hi<>(SB), Y2, Y3 \
	VSUBPS Y3, Y0, Y0 \
	VMULPS fmLn2Lo<>(SB), Y2, Y3 \
	VSUBPS Y3, Y0, Y0 \
	VMULPS Y0, Y0, Y4 \
	VMULPS fmP0<>(SB), Y0, Y2 \
	VADDPS fmP1<>(SB), Y2, Y2 \
	VMULPS Y0, Y2, Y2 \
	VADDPS fmP2<>(SB), Y2, Y2 \
	VMULPS Y0, Y2, Y2 \
	VADDPS fmP3<>(SB), Y2, Y2 \
	VMULPS Y0, Y2, Y2 \
	VADDPS fmP4<>(SB), Y2, Y2 \
	VMULPS Y0, Y2, Y2 \
	VADDPS fmP5<>(SB), Y2, Y2 \
	VMULPS Y4, Y2, Y2 \
	VADDPS Y0, Y2, Y2 \
	VADDPS Y15, Y2, Y2 \
	VPSRAD $1, Y1, Y3 \
	VPSUBD Y3, Y1, Y1 \
	VPADDD Y12, Y3, Y3 \
	VPSLLD $23, Y3, Y3 \
	VPADDD Y12, Y1, Y1 \
	VPSLLD $23, Y1, Y1 \
	VMULPS Y3, Y2, Y2 \
	VMULPS Y1, Y2, Y0

// EXP_AVX512 sets Z0 = expCore(Z0), clobbering Z1-Z4. It needs the
// constants LOAD_AVX512 loads into Z16-Z29.
#define EXP_AVX512 \
	VMINPS Z0, Z16, Z0 \
	VMAXPS Z0, Z17, Z0 \
	VMULPS Z18, Z0, Z1 \
	VADDPS Z19, Z1, Z1 \
	VSUBPS Z19, Z1, Z2 \
	VPSUBD Z19, Z1, Z1 \
	VMULPS Z20, Z2, Z3 \
	VSUBPS Z3, Z0, Z0 \
	VMULPS Z21, Z2, Z3 \
	VSUBPS Z3, Z0, Z0 \
	VMULPS Z0, Z0, Z4 \
	VMULPS Z22, Z0, Z2 \
	VADDPS Z23, Z2, Z2 \
	VMULPS Z0, Z2, Z2 \
	VADDPS Z24, Z2, Z2 \
	VMULPS Z0, Z2, Z2 \
	VADDPS Z25, Z2, Z2 \
	VMULPS Z0, Z2, Z2 \
	VADDPS Z26, Z2, Z2 \
	VMULPS Z0, Z2, Z2 \
	VADDPS Z27, Z2, Z2 \
	VMULPS Z4, Z2, Z2 \
	VADDPS Z0, Z2, Z2 \
	VADDPS Z28, Z2, Z2 \
	VPSRAD $1, Z1, Z3 \
	VPSUBD Z3, Z1, Z1 \
	VPADDD Z29, Z3, Z3 \
	VPSLLD $23, Z3, Z3 \
	VPADDD Z29, Z1, Z1 \
	VPSLLD $23, Z1, Z1 \
	VMULPS Z3, Z2, Z2 \
	VMULPS Z1, Z2, Z0

#define LOAD_AVX2 \
	VMOVUPS fmExpMin<>(SB), Y9 \
	VMOVUPS fmExpMax<>(SB), Y10 \
	VMOVUPS fmSign<>(SB), Y11 \
	VMOVUPS fmBias<>(SB), Y12 \
	VMOVUPS fmLog2e<>(SB), Y13 \
	VMOVUPS fmMagic<>(SB), Y14 \
	VMOVUPS fmOne<>(SB), Y15

#define LOAD_AVX512 \
	VMOVUPS fmExpMax<>(SB), Z16 \
	VMOVUPS fmExpMin<>(SB), Z17 \
	VMOVUPS fmLog2e<>(SB), Z18 \
	VMOVUPS fmMagic<>(SB), Z19 \
	VMOVUPS fmLn2Hi<>(SB), Z20 \
	VMOVUPS fmLn2Lo<>(SB), Z21 \
	VMOVUPS fmP0<>(SB), Z22 \
	VMOVUPS fmP1<>(SB), Z23 \
	VMOVUPS fmP2<>(SB), Z24 \
	VMOVUPS fmP3<>(SB), Z25 \
	VMOVUPS fmP4<>(SB), Z26 \
	VMOVUPS fmP5<>(SB), Z27 \
	VMOVUPS fmOne<>(SB), Z28 \
	VMOVUPS fmBias<>(SB), Z29 \
	VMOVUPS fmSign<>(SB), Z30 \
	VMOVUPS fmMinusTwo<>(SB), Z31

// func expAVX2(dst, src *float32, n int)
TEXT ·expAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   expAVX2done
	LOAD_AVX2

expAVX2loop:
	VMOVUPS (SI), Y0
	EXP_AVX2
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  expAVX2loop
	VZEROUPPER

expAVX2done:
	RET

// func sigmoidAVX2(dst, src *float32, n int)
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   sigmoidAVX2done
	LOAD_AVX2

sigmoidAVX2loop:
	VMOVUPS   (SI), Y5
	VORPS     Y11, Y5, Y0     // -|x|
	EXP_AVX2                  // e
	VADDPS    Y15, Y0, Y1     // 1 + e
	VBLENDVPS Y5, Y0, Y15, Y2 // num = e where x's sign is set, else 1
	VDIVPS    Y1, Y2, Y0
	VMOVUPS   Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  sigmoidAVX2loop
	VZEROUPPER

sigmoidAVX2done:
	RET

// func tanhAVX2(dst, src *float32, n int)
TEXT ·tanhAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   tanhAVX2done
	LOAD_AVX2

tanhAVX2loop:
	VMOVUPS   (SI), Y5
	VANDNPS   Y5, Y11, Y6    // ax = |x|
	VMULPS    fmMinusTwo<>(SB), Y6, Y0      // -2·ax
	EXP_AVX2                // e
	VSUBPS    Y0, Y15, Y1     // 1 - e
	VADDPS    Y15, Y0, Y2     // 1 + e
	VDIVPS    Y2, Y1, Y7      // t = (1 - e) / (1 + e)
	VMULPS    Y5, Y5, Y2      // s = x·x
	VMULPS    fmQ0<>(SB), Y2, Y3
	VADDPS    fmQ1<>(SB), Y3, Y3
	VMULPS    Y2, Y3, Y3
	VADDPS    fmQ2<>(SB), Y3, Y3
	VMULPS    Y2, Y3, Y3
	VADDPS    fmQ3<>(SB), Y3, Y3
	VMULPS    Y2, Y3, Y3
	VADDPS    fmQ4<>(SB), Y3, Y3
	VMULPS    Y2, Y3, Y3      // q·s
	VMULPS    Y5, Y3, Y3      // ·x
	VADDPS    Y5, Y3, Y3      // +x: the polynomial's value
	VCMPPS    $1, fmTanhSmall<>(SB), Y6, Y4 // ax < 0.625
	VBLENDVPS Y4, Y3, Y7, Y0              // the polynomial there, else t
	VANDPS    Y11, Y5, Y5    // x's sign (already that of the polynomial's value)
	VORPS     Y5, Y0, Y0
	VMOVUPS   Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  tanhAVX2loop
	VZEROUPPER

tanhAVX2done:
	RET

// func expAVX512(dst, src *float32, n int)
TEXT ·expAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JZ   expAVX512done
	LOAD_AVX512

expAVX512loop:
	VMOVUPS (SI), Z0
	EXP_AVX512
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  expAVX512loop
	VZEROUPPER

expAVX512done:
	RET

// func sigmoidAVX512(dst, src *float32, n int)
TEXT ·sigmoidAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JZ   sigmoidAVX512done
	LOAD_AVX512

sigmoidAVX512loop:
	VMOVUPS   (SI), Z5
	VORPS     Z30, Z5, Z0     // -|x|
	EXP_AVX512                // e
	VADDPS    Z28, Z0, Z1     // 1 + e
	VPMOVD2M  Z5, K1          // x's sign
	VBLENDMPS Z0, Z28, K1, Z2 // num = e where x's sign is set, else 1
	VDIVPS    Z1, Z2, Z0
	VMOVUPS   Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  sigmoidAVX512loop
	VZEROUPPER

sigmoidAVX512done:
	RET

// func tanhAVX512(dst, src *float32, n int)
TEXT ·tanhAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JZ   tanhAVX512done
	LOAD_AVX512

tanhAVX512loop:
	VMOVUPS   (SI), Z5
	VANDNPS   Z5, Z30, Z6    // ax = |x|
	VMULPS    Z31, Z6, Z0      // -2·ax
	EXP_AVX512                // e
	VSUBPS    Z0, Z28, Z1     // 1 - e
	VADDPS    Z28, Z0, Z2     // 1 + e
	VDIVPS    Z2, Z1, Z7      // t = (1 - e) / (1 + e)
	VMULPS    Z5, Z5, Z2      // s = x·x
	VMULPS    fmQ0<>(SB), Z2, Z3
	VADDPS    fmQ1<>(SB), Z3, Z3
	VMULPS    Z2, Z3, Z3
	VADDPS    fmQ2<>(SB), Z3, Z3
	VMULPS    Z2, Z3, Z3
	VADDPS    fmQ3<>(SB), Z3, Z3
	VMULPS    Z2, Z3, Z3
	VADDPS    fmQ4<>(SB), Z3, Z3
	VMULPS    Z2, Z3, Z3      // q·s
	VMULPS    Z5, Z3, Z3      // ·x
	VADDPS    Z5, Z3, Z3      // +x: the polynomial's value
	VCMPPS    $1, fmTanhSmall<>(SB), Z6, K1 // ax < 0.625
	VBLENDMPS Z3, Z7, K1, Z0              // the polynomial there, else t
	VANDPS    Z30, Z5, Z5    // x's sign (already that of the polynomial's value)
	VORPS     Z5, Z0, Z0
	VMOVUPS   Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  tanhAVX512loop
	VZEROUPPER

tanhAVX512done:
	RET
