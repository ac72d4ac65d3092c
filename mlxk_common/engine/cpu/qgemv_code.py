"""Machine code of the CPU kernels (scripts/kernels/qgemv.c), written by
scripts/build_cpu_kernels.py: do not edit.  Loaded by ``engine.cpu.qgemv``;
each function is position-independent leaf code (the script checks it)."""

GCC = "gcc (Debian 12.2.0-14+deb12u1) 12.2.0"
FLAGS = [
    "-O2",
    "-fno-pic",
    "-fno-asynchronous-unwind-tables",
    "-fno-stack-protector",
    "-fcf-protection=none",
    "-ffunction-sections",
    "-fno-ident",
]
SOURCE_SHA256 = "e40ea6ce07e71dde31302bab5a8bb99ac297db5026622a2805fae93e65c07d78"

CODE = {}

# qgemv4_avx512: 3675 bytes
#   0: push rbp
#   1: mov rbp,rsp
#   4: push r15
#   6: push r14
#   8: push r13
#   a: push r12
#   c: push rbx
#   d: and rsp,0xffffffffffffffc0
#   11: sub rsp,0x48
#   15: mov QWORD PTR [rsp-0x10],rdx
#   1a: mov rdx,rcx
#   1d: mov rcx,r8
#   20: mov QWORD PTR [rsp],rdi
#   24: mov r10,QWORD PTR [rbp+0x20]
#   28: mov r14,QWORD PTR [rbp+0x10]
#   2c: mov QWORD PTR [rsp-0x8],rsi
#   31: mov QWORD PTR [rsp+0x38],r9
#   36: mov r8,QWORD PTR [rbp+0x28]
#   3a: test r10,r10
#   3d: jle 509 <qgemv4_avx512+0x509>
#   43: lea rax,[r14*4+0x0]
#   4b: mov r13,r8
#   4e: mov r9,r8
#   51: vmovq xmm13,rax
#   56: xor eax,eax
#   58: vmovq r15,xmm13
#   5d: test r14,r14
#   60: jle b2 <qgemv4_avx512+0xb2>
#   62: lea r12,[r9+0x40]
#   66: lea r11,[rdx+0x84]
#   6d: xor ebx,ebx
#   6f: nop
#   70: lea rsi,[r11-0x80]
#   74: mov rdi,r12
#   77: nop WORD PTR [rax+rax*1+0x0]
#   80: vmovss xmm0,DWORD PTR [rsi-0x4]
#   85: add rsi,0x8
#   89: add rdi,0x4
#   8d: vmovss DWORD PTR [rdi-0x44],xmm0
#   92: vmovss xmm0,DWORD PTR [rsi-0x8]
#   97: vmovss DWORD PTR [rdi-0x4],xmm0
#   9c: cmp r11,rsi
#   9f: jne 80 <qgemv4_avx512+0x80>
#   a1: add rbx,0x20
#   a5: sub r12,0xffffffffffffff80
#   a9: sub r11,0xffffffffffffff80
#   ad: cmp r14,rbx
#   b0: jg 70 <qgemv4_avx512+0x70>
#   b2: lea rsi,[rax+0x1]
#   b6: add rdx,r15
#   b9: add r9,r15
#   bc: cmp r10,rsi
#   bf: je c6 <qgemv4_avx512+0xc6>
#   c1: mov rax,rsi
#   c4: jmp 5d <qgemv4_avx512+0x5d>
#   c6: mov rdx,r14
#   c9: mov rbx,QWORD PTR [rbp+0x18]
#   cd: vmovq xmm13,r15
#   d2: mov r9,r14
#   d5: shr rdx,0x3f
#   d9: mov QWORD PTR [rbp+0x10],r14
#   dd: add rdx,r14
#   e0: sar rdx,1
#   e3: test r14,r14
#   e6: mov QWORD PTR [rsp+0x30],rdx
#   eb: lea rdx,[r14+0x1f]
#   ef: cmovns rdx,r14
#   f3: sar rdx,0x5
#   f7: test rbx,rbx
#   fa: mov r15,rdx
#   fd: lea rdx,[rbx+0x1f]
#   101: cmovns rdx,rbx
#   105: mov rbx,QWORD PTR [rsp+0x38]
#   10a: and eax,0x3
#   10d: shl r9,0x4
#   111: sub rax,0x3
#   115: mov QWORD PTR [rsp-0x20],r9
#   11a: sar rdx,0x5
#   11e: mov QWORD PTR [rsp-0x18],rax
#   123: mov rax,r14
#   126: mov rsi,rdx
#   129: lea rdx,[rbx+rbx*1]
#   12d: vmovq xmm11,rdx
#   132: add rdx,rbx
#   135: vmovq xmm12,rdx
#   13a: mov rdx,rbx
#   13d: shl rdx,0x4
#   141: mov QWORD PTR [rsp-0x28],rdx
#   146: lea rdx,[r14+r14*2]
#   14a: lea r9,[r8+rdx*4]
#   14e: cqo
#   150: idiv QWORD PTR [rbp+0x18]
#   154: mov QWORD PTR [rsp+0x20],r9
#   159: lea r9,[rax*4+0x0]
#   161: lea rax,[rbx*4+0x0]
#   169: vmovq xmm14,rax
#   16e: lea rax,[r15-0x2]
#   172: shr rax,1
#   175: cmp r14,0x3f
#   179: lea rdx,[rax+rax*1+0x2]
#   17e: mov eax,0x2
#   183: cmovg rax,rdx
#   187: mov rdx,rcx
#   18a: mov QWORD PTR [rsp+0x28],rax
#   18f: mov eax,0xf
#   194: vpbroadcastd zmm10,eax
#   19a: mov rax,r10
#   19d: cmp rax,0x1
#   1a1: je 974 <qgemv4_avx512+0x974>
#   1a7: cmp rax,0x2
#   1ab: je b7f <qgemv4_avx512+0xb7f>
#   1b1: xor ecx,ecx
#   1b3: cmp rax,0x3
#   1b7: je 5f6 <qgemv4_avx512+0x5f6>
#   1bd: cmp QWORD PTR [rbp+0x18],0x3f
#   1c2: jle 1de <qgemv4_avx512+0x1de>
#   1c4: mov edi,0x1
#   1c9: nop DWORD PTR [rax+0x0]
#   1d0: add ecx,0x1
#   1d3: mov r8,rdi
#   1d6: shl r8,cl
#   1d9: cmp rsi,r8
#   1dc: jg 1d0 <qgemv4_avx512+0x1d0>
#   1de: cmp QWORD PTR [rsp+0x38],0x0
#   1e4: jle 4e2 <qgemv4_avx512+0x4e2>
#   1ea: vmovq rdi,xmm13
#   1ef: vmovq r8,xmm13
#   1f4: mov QWORD PTR [rsp-0x30],rdx
#   1f9: mov r14,QWORD PTR [rsp]
#   1fd: add rdi,r13
#   200: mov QWORD PTR [rsp-0x38],rax
#   205: mov rbx,QWORD PTR [rsp-0x8]
#   20a: mov r12,rdx
#   20d: mov QWORD PTR [rsp+0x8],rdi
#   212: add rdi,r8
#   215: mov r11,QWORD PTR [rsp-0x10]
#   21a: mov QWORD PTR [rsp+0x10],rdi
#   21f: vmovq rdi,xmm14
#   224: add rdi,rdx
#   227: mov QWORD PTR [rsp-0x40],rsi
#   22c: mov QWORD PTR [rsp+0x18],rdi
#   231: nop DWORD PTR [rax+0x0]
#   238: cmp QWORD PTR [rbp+0x10],0x3f
#   23d: jle 5c1 <qgemv4_avx512+0x5c1>
#   243: mov QWORD PTR [rsp+0x40],r13
#   248: mov rdi,QWORD PTR [rsp+0x20]
#   24d: mov rax,r13
#   250: mov r10,r14
#   253: vxorps xmm2,xmm2,xmm2
#   257: mov rsi,QWORD PTR [rsp+0x10]
#   25c: mov rdx,QWORD PTR [rsp+0x8]
#   261: mov r8d,0x1
#   267: vmovaps zmm3,zmm2
#   26d: vmovaps zmm5,zmm2
#   273: vmovaps zmm7,zmm2
#   279: vmovaps zmm6,zmm2
#   27f: vmovaps zmm8,zmm2
#   285: vmovaps zmm9,zmm2
#   28b: vmovaps zmm4,zmm2
#   291: nop DWORD PTR [rax+0x0]
#   298: lea r13,[r8-0x1]
#   29c: vpmovzxbd zmm0,XMMWORD PTR [r10]
#   2a2: add rax,0x100
#   2a8: add r10,0x20
#   2ac: sar r13,cl
#   2af: add rdx,0x100
#   2b6: add rsi,0x100
#   2bd: add rdi,0x100
#   2c4: vbroadcastss zmm16,DWORD PTR [rbx+r13*4]
#   2cb: vbroadcastss zmm15,DWORD PTR [r11+r13*4]
#   2d2: vpandd zmm1,zmm0,zmm10
#   2d8: vpsrld zmm0,zmm0,0x4
#   2df: vcvtdq2ps zmm1,zmm1
#   2e5: mov r13,r8
#   2e8: vcvtdq2ps zmm0,zmm0
#   2ee: add r8,0x2
#   2f2: vfmadd132ps zmm1,zmm15,zmm16
#   2f8: vfmadd132ps zmm0,zmm15,zmm16
#   2fe: sar r13,cl
#   301: vfmadd231ps zmm4,zmm1,ZMMWORD PTR [rax-0x100]
#   308: vfmadd231ps zmm8,zmm1,ZMMWORD PTR [rdx-0x100]
#   30f: vfmadd231ps zmm7,zmm1,ZMMWORD PTR [rsi-0x100]
#   316: vfmadd231ps zmm3,zmm1,ZMMWORD PTR [rdi-0x100]
#   31d: vfmadd231ps zmm4,zmm0,ZMMWORD PTR [rax-0xc0]
#   324: vfmadd231ps zmm8,zmm0,ZMMWORD PTR [rdx-0xc0]
#   32b: vbroadcastss zmm16,DWORD PTR [rbx+r13*4]
#   332: vbroadcastss zmm15,DWORD PTR [r11+r13*4]
#   339: vfmadd231ps zmm7,zmm0,ZMMWORD PTR [rsi-0xc0]
#   340: vfmadd231ps zmm3,zmm0,ZMMWORD PTR [rdi-0xc0]
#   347: vpmovzxbd zmm0,XMMWORD PTR [r10-0x10]
#   34e: vpandd zmm1,zmm0,zmm10
#   354: vpsrld zmm0,zmm0,0x4
#   35b: vcvtdq2ps zmm1,zmm1
#   361: vfmadd132ps zmm1,zmm15,zmm16
#   367: vcvtdq2ps zmm0,zmm0
#   36d: vfmadd132ps zmm0,zmm15,zmm16
#   373: vfmadd231ps zmm9,zmm1,ZMMWORD PTR [rax-0x80]
#   37a: vfmadd231ps zmm6,zmm1,ZMMWORD PTR [rdx-0x80]
#   381: vfmadd231ps zmm5,zmm1,ZMMWORD PTR [rsi-0x80]
#   388: vfmadd231ps zmm2,zmm1,ZMMWORD PTR [rdi-0x80]
#   38f: vfmadd231ps zmm9,zmm0,ZMMWORD PTR [rax-0x40]
#   396: vfmadd231ps zmm6,zmm0,ZMMWORD PTR [rdx-0x40]
#   39d: vfmadd231ps zmm5,zmm0,ZMMWORD PTR [rsi-0x40]
#   3a4: vfmadd231ps zmm2,zmm0,ZMMWORD PTR [rdi-0x40]
#   3ab: cmp r15,r8
#   3ae: jg 298 <qgemv4_avx512+0x298>
#   3b4: mov r13,QWORD PTR [rsp+0x40]
#   3b9: mov rax,QWORD PTR [rsp+0x28]
#   3be: cmp rax,r15
#   3c1: jl 518 <qgemv4_avx512+0x518>
#   3c7: vaddps zmm4,zmm4,zmm9
#   3cd: mov rax,QWORD PTR [rsp+0x38]
#   3d2: add rbx,r9
#   3d5: add r11,r9
#   3d8: vaddps zmm6,zmm6,zmm8
#   3de: vaddps zmm5,zmm5,zmm7
#   3e4: vaddps zmm2,zmm2,zmm3
#   3ea: vextractf64x4 ymm0,zmm4,0x1
#   3f1: vaddps ymm0,ymm0,ymm4
#   3f5: vextractf128 xmm1,ymm0,0x1
#   3fb: vaddps xmm1,xmm1,xmm0
#   3ff: vpermilps xmm0,xmm1,0x4e
#   405: vaddps xmm0,xmm0,xmm1
#   409: vmovaps xmm1,xmm0
#   40d: vshufps xmm0,xmm0,xmm0,0x55
#   412: vaddss xmm0,xmm1,xmm0
#   416: vmovss DWORD PTR [r12],xmm0
#   41c: vextractf64x4 ymm0,zmm6,0x1
#   423: vaddps ymm0,ymm0,ymm6
#   427: vextractf128 xmm1,ymm0,0x1
#   42d: vaddps xmm1,xmm1,xmm0
#   431: vpermilps xmm0,xmm1,0x4e
#   437: vaddps xmm0,xmm0,xmm1
#   43b: vmovaps xmm1,xmm0
#   43f: vshufps xmm0,xmm0,xmm0,0x55
#   444: vaddss xmm0,xmm1,xmm0
#   448: vmovss DWORD PTR [r12+rax*4],xmm0
#   44e: vextractf64x4 ymm0,zmm5,0x1
#   455: vmovq rax,xmm11
#   45a: vaddps ymm0,ymm0,ymm5
#   45e: vextractf128 xmm1,ymm0,0x1
#   464: vaddps xmm1,xmm1,xmm0
#   468: vpermilps xmm0,xmm1,0x4e
#   46e: vaddps xmm0,xmm0,xmm1
#   472: vmovaps xmm1,xmm0
#   476: vshufps xmm0,xmm0,xmm0,0x55
#   47b: vaddss xmm0,xmm1,xmm0
#   47f: vmovss DWORD PTR [r12+rax*4],xmm0
#   485: vextractf64x4 ymm0,zmm2,0x1
#   48c: vmovq rax,xmm12
#   491: vaddps ymm0,ymm0,ymm2
#   495: vextractf128 xmm1,ymm0,0x1
#   49b: vaddps xmm1,xmm1,xmm0
#   49f: vpermilps xmm0,xmm1,0x4e
#   4a5: vaddps xmm0,xmm0,xmm1
#   4a9: vmovaps xmm1,xmm0
#   4ad: vshufps xmm0,xmm0,xmm0,0x55
#   4b2: vaddss xmm0,xmm1,xmm0
#   4b6: vmovss DWORD PTR [r12+rax*4],xmm0
#   4bc: mov rax,QWORD PTR [rsp+0x30]
#   4c1: add r12,0x4
#   4c5: add r14,rax
#   4c8: cmp QWORD PTR [rsp+0x18],r12
#   4cd: jne 238 <qgemv4_avx512+0x238>
#   4d3: mov rdx,QWORD PTR [rsp-0x30]
#   4d8: mov rax,QWORD PTR [rsp-0x38]
#   4dd: mov rsi,QWORD PTR [rsp-0x40]
#   4e2: mov rbx,QWORD PTR [rsp-0x28]
#   4e7: sub rax,0x4
#   4eb: add rdx,rbx
#   4ee: mov rbx,QWORD PTR [rsp-0x20]
#   4f3: add QWORD PTR [rsp+0x20],rbx
#   4f8: add r13,rbx
#   4fb: cmp QWORD PTR [rsp-0x18],rax
#   500: jne 19d <qgemv4_avx512+0x19d>
#   506: vzeroupper
#   509: lea rsp,[rbp-0x28]
#   50d: pop rbx
#   50e: pop r12
#   510: pop r13
#   512: pop r14
#   514: pop r15
#   516: pop rbp
#   517: ret
#   518: mov rdx,rax
#   51b: shl rdx,0x4
#   51f: vpmovzxbd zmm0,XMMWORD PTR [rdx+r14*1]
#   526: mov rdx,rax
#   529: sar rdx,cl
#   52c: vbroadcastss zmm16,DWORD PTR [rbx+rdx*4]
#   533: vbroadcastss zmm15,DWORD PTR [r11+rdx*4]
#   53a: vpandd zmm1,zmm0,zmm10
#   540: mov rdx,rax
#   543: vcvtdq2ps zmm1,zmm1
#   549: vpsrld zmm0,zmm0,0x4
#   550: shl rax,0x5
#   554: add rax,QWORD PTR [rbp+0x10]
#   558: vfmadd132ps zmm1,zmm15,zmm16
#   55e: vcvtdq2ps zmm0,zmm0
#   564: shl rdx,0x7
#   568: vfmadd132ps zmm0,zmm15,zmm16
#   56e: vfmadd231ps zmm8,zmm1,ZMMWORD PTR [r13+rax*4+0x0]
#   576: add rdx,r13
#   579: vfmadd231ps zmm8,zmm0,ZMMWORD PTR [r13+rax*4+0x40]
#   581: add rax,QWORD PTR [rbp+0x10]
#   585: vfmadd231ps zmm7,zmm1,ZMMWORD PTR [r13+rax*4+0x0]
#   58d: vfmadd231ps zmm4,zmm1,ZMMWORD PTR [rdx]
#   593: vfmadd231ps zmm7,zmm0,ZMMWORD PTR [r13+rax*4+0x40]
#   59b: add rax,QWORD PTR [rbp+0x10]
#   59f: vfmadd132ps zmm1,zmm3,ZMMWORD PTR [r13+rax*4+0x0]
#   5a7: vfmadd231ps zmm4,zmm0,ZMMWORD PTR [rdx+0x40]
#   5ae: vmovaps zmm3,zmm0
#   5b4: vfmadd132ps zmm3,zmm1,ZMMWORD PTR [r13+rax*4+0x40]
#   5bc: jmp 3c7 <qgemv4_avx512+0x3c7>
#   5c1: vxorps xmm2,xmm2,xmm2
#   5c5: xor eax,eax
#   5c7: vmovaps zmm3,zmm2
#   5cd: vmovaps zmm5,zmm2
#   5d3: vmovaps zmm7,zmm2
#   5d9: vmovaps zmm6,zmm2
#   5df: vmovaps zmm8,zmm2
#   5e5: vmovaps zmm9,zmm2
#   5eb: vmovaps zmm4,zmm2
#   5f1: jmp 3be <qgemv4_avx512+0x3be>
#   5f6: cmp QWORD PTR [rbp+0x18],0x3f
#   5fb: jle 610 <qgemv4_avx512+0x610>
#   5fd: mov edi,0x1
#   602: add ecx,0x1
#   605: mov r8,rdi
#   608: shl r8,cl
#   60b: cmp r8,rsi
#   60e: jl 602 <qgemv4_avx512+0x602>
#   610: cmp QWORD PTR [rsp+0x38],0x0
#   616: jle 4e2 <qgemv4_avx512+0x4e2>
#   61c: vmovq rdi,xmm13
#   621: vmovq r8,xmm13
#   626: mov QWORD PTR [rsp-0x30],rdx
#   62b: mov r14,QWORD PTR [rsp]
#   62f: add rdi,r13
#   632: mov QWORD PTR [rsp-0x38],rax
#   637: mov rbx,QWORD PTR [rsp-0x8]
#   63c: mov r12,rdx
#   63f: mov QWORD PTR [rsp+0x8],rdi
#   644: add rdi,r8
#   647: mov r11,QWORD PTR [rsp-0x10]
#   64c: vmovq r8,xmm11
#   651: mov QWORD PTR [rsp+0x10],rdi
#   656: vmovq rdi,xmm14
#   65b: add rdi,rdx
#   65e: mov QWORD PTR [rsp-0x40],rsi
#   663: mov QWORD PTR [rsp+0x18],rdi
#   668: cmp QWORD PTR [rbp+0x10],0x3f
#   66d: jle 94b <qgemv4_avx512+0x94b>
#   673: mov r10,r14
#   676: mov rsi,QWORD PTR [rsp+0x10]
#   67b: mov rdx,QWORD PTR [rsp+0x8]
#   680: mov rax,r13
#   683: vxorps xmm2,xmm2,xmm2
#   687: mov QWORD PTR [rsp+0x40],r14
#   68c: mov edi,0x1
#   691: mov r14,r12
#   694: vmovaps zmm3,zmm2
#   69a: mov r12,r9
#   69d: mov r9,r10
#   6a0: vmovaps zmm8,zmm2
#   6a6: vmovaps zmm9,zmm2
#   6ac: vmovaps zmm5,zmm2
#   6b2: vmovaps zmm4,zmm2
#   6b8: nop DWORD PTR [rax+rax*1+0x0]
#   6c0: lea r10,[rdi-0x1]
#   6c4: vpmovzxbd zmm0,XMMWORD PTR [r9]
#   6ca: add rax,0x100
#   6d0: add r9,0x20
#   6d4: sar r10,cl
#   6d7: add rdx,0x100
#   6de: add rsi,0x100
#   6e5: vbroadcastss zmm7,DWORD PTR [rbx+r10*4]
#   6ec: vbroadcastss zmm6,DWORD PTR [r11+r10*4]
#   6f3: vpandd zmm1,zmm0,zmm10
#   6f9: vpsrld zmm0,zmm0,0x4
#   700: vcvtdq2ps zmm1,zmm1
#   706: mov r10,rdi
#   709: vcvtdq2ps zmm0,zmm0
#   70f: add rdi,0x2
#   713: vfmadd132ps zmm1,zmm6,zmm7
#   719: vfmadd132ps zmm0,zmm6,zmm7
#   71f: sar r10,cl
#   722: vbroadcastss zmm7,DWORD PTR [rbx+r10*4]
#   729: vbroadcastss zmm6,DWORD PTR [r11+r10*4]
#   730: vfmadd231ps zmm4,zmm1,ZMMWORD PTR [rax-0x100]
#   737: vfmadd231ps zmm9,zmm1,ZMMWORD PTR [rdx-0x100]
#   73e: vfmadd231ps zmm3,zmm1,ZMMWORD PTR [rsi-0x100]
#   745: vfmadd231ps zmm4,zmm0,ZMMWORD PTR [rax-0xc0]
#   74c: vfmadd231ps zmm9,zmm0,ZMMWORD PTR [rdx-0xc0]
#   753: vfmadd231ps zmm3,zmm0,ZMMWORD PTR [rsi-0xc0]
#   75a: vpmovzxbd zmm0,XMMWORD PTR [r9-0x10]
#   761: vpandd zmm1,zmm0,zmm10
#   767: vpsrld zmm0,zmm0,0x4
#   76e: vcvtdq2ps zmm1,zmm1
#   774: vfmadd132ps zmm1,zmm6,zmm7
#   77a: vcvtdq2ps zmm0,zmm0
#   780: vfmadd132ps zmm0,zmm6,zmm7
#   786: vfmadd231ps zmm5,zmm1,ZMMWORD PTR [rax-0x80]
#   78d: vfmadd231ps zmm8,zmm1,ZMMWORD PTR [rdx-0x80]
#   794: vfmadd231ps zmm2,zmm1,ZMMWORD PTR [rsi-0x80]
#   79b: vfmadd231ps zmm5,zmm0,ZMMWORD PTR [rax-0x40]
#   7a2: vfmadd231ps zmm8,zmm0,ZMMWORD PTR [rdx-0x40]
#   7a9: vfmadd231ps zmm2,zmm0,ZMMWORD PTR [rsi-0x40]
#   7b0: cmp rdi,r15
#   7b3: jl 6c0 <qgemv4_avx512+0x6c0>
#   7b9: mov r9,r12
#   7bc: mov rax,QWORD PTR [rsp+0x28]
#   7c1: mov r12,r14
#   7c4: mov r14,QWORD PTR [rsp+0x40]
#   7c9: cmp r15,rax
#   7cc: jg 8b6 <qgemv4_avx512+0x8b6>
#   7d2: vaddps zmm4,zmm4,zmm5
#   7d8: mov rax,QWORD PTR [rsp+0x38]
#   7dd: add rbx,r9
#   7e0: add r11,r9
#   7e3: vaddps zmm8,zmm8,zmm9
#   7e9: vaddps zmm2,zmm2,zmm3
#   7ef: vextractf64x4 ymm0,zmm4,0x1
#   7f6: vaddps ymm0,ymm0,ymm4
#   7fa: vextractf128 xmm1,ymm0,0x1
#   800: vaddps xmm1,xmm1,xmm0
#   804: vpermilps xmm0,xmm1,0x4e
#   80a: vaddps xmm0,xmm0,xmm1
#   80e: vmovaps xmm1,xmm0
#   812: vshufps xmm0,xmm0,xmm0,0x55
#   817: vaddss xmm0,xmm1,xmm0
#   81b: vmovss DWORD PTR [r12],xmm0
#   821: vextractf64x4 ymm0,zmm8,0x1
#   828: vaddps ymm0,ymm0,ymm8
#   82d: vextractf128 xmm1,ymm0,0x1
#   833: vaddps xmm1,xmm1,xmm0
#   837: vpermilps xmm0,xmm1,0x4e
#   83d: vaddps xmm0,xmm0,xmm1
#   841: vmovaps xmm1,xmm0
#   845: vshufps xmm0,xmm0,xmm0,0x55
#   84a: vaddss xmm0,xmm1,xmm0
#   84e: vmovss DWORD PTR [r12+rax*4],xmm0
#   854: vextractf64x4 ymm0,zmm2,0x1
#   85b: mov rax,QWORD PTR [rsp+0x30]
#   860: vaddps ymm0,ymm0,ymm2
#   864: add r14,rax
#   867: vextractf128 xmm1,ymm0,0x1
#   86d: vaddps xmm1,xmm1,xmm0
#   871: vpermilps xmm0,xmm1,0x4e
#   877: vaddps xmm0,xmm0,xmm1
#   87b: vmovaps xmm1,xmm0
#   87f: vshufps xmm0,xmm0,xmm0,0x55
#   884: vaddss xmm0,xmm1,xmm0
#   888: vmovss DWORD PTR [r12+r8*4],xmm0
#   88e: add r12,0x4
#   892: cmp QWORD PTR [rsp+0x18],r12
#   897: jne 668 <qgemv4_avx512+0x668>
#   89d: mov rdx,QWORD PTR [rsp-0x30]
#   8a2: mov rax,QWORD PTR [rsp-0x38]
#   8a7: vmovq xmm11,r8
#   8ac: mov rsi,QWORD PTR [rsp-0x40]
#   8b1: jmp 4e2 <qgemv4_avx512+0x4e2>
#   8b6: mov rdx,rax
#   8b9: shl rdx,0x4
#   8bd: vpmovzxbd zmm0,XMMWORD PTR [rdx+r14*1]
#   8c4: mov rdx,rax
#   8c7: sar rdx,cl
#   8ca: vbroadcastss zmm7,DWORD PTR [rbx+rdx*4]
#   8d1: vbroadcastss zmm6,DWORD PTR [r11+rdx*4]
#   8d8: vpandd zmm1,zmm0,zmm10
#   8de: vpsrld zmm0,zmm0,0x4
#   8e5: vcvtdq2ps zmm0,zmm0
#   8eb: mov rdx,rax
#   8ee: vcvtdq2ps zmm1,zmm1
#   8f4: shl rax,0x5
#   8f8: vfmadd132ps zmm0,zmm6,zmm7
#   8fe: vfmadd132ps zmm1,zmm6,zmm7
#   904: add rax,QWORD PTR [rbp+0x10]
#   908: shl rdx,0x7
#   90c: vfmadd231ps zmm9,zmm1,ZMMWORD PTR [r13+rax*4+0x0]
#   914: add rdx,r13
#   917: vfmadd231ps zmm9,zmm0,ZMMWORD PTR [r13+rax*4+0x40]
#   91f: add rax,QWORD PTR [rbp+0x10]
#   923: vfmadd231ps zmm4,zmm1,ZMMWORD PTR [rdx]
#   929: vfmadd132ps zmm1,zmm3,ZMMWORD PTR [r13+rax*4+0x0]
#   931: vfmadd231ps zmm4,zmm0,ZMMWORD PTR [rdx+0x40]
#   938: vmovaps zmm3,zmm0
#   93e: vfmadd132ps zmm3,zmm1,ZMMWORD PTR [r13+rax*4+0x40]
#   946: jmp 7d2 <qgemv4_avx512+0x7d2>
#   94b: vxorps xmm2,xmm2,xmm2
#   94f: xor eax,eax
#   951: vmovaps zmm3,zmm2
#   957: vmovaps zmm8,zmm2
#   95d: vmovaps zmm9,zmm2
#   963: vmovaps zmm5,zmm2
#   969: vmovaps zmm4,zmm2
#   96f: jmp 7c9 <qgemv4_avx512+0x7c9>
#   974: mov ecx,0xf
#   979: vpbroadcastd zmm6,ecx
#   97f: xor ecx,ecx
#   981: cmp QWORD PTR [rbp+0x18],0x3f
#   986: jle 99b <qgemv4_avx512+0x99b>
#   988: mov edi,0x1
#   98d: add ecx,0x1
#   990: mov r8,rdi
#   993: shl r8,cl
#   996: cmp r8,rsi
#   999: jl 98d <qgemv4_avx512+0x98d>
#   99b: cmp QWORD PTR [rsp+0x38],0x0
#   9a1: jle 4e2 <qgemv4_avx512+0x4e2>
#   9a7: mov QWORD PTR [rsp+0x40],rdx
#   9ac: vmovq rbx,xmm14
#   9b1: mov r12,QWORD PTR [rsp]
#   9b5: mov QWORD PTR [rsp+0x18],rax
#   9ba: mov r11,QWORD PTR [rsp-0x8]
#   9bf: lea r14,[rdx+rbx*1]
#   9c3: mov rbx,rdx
#   9c6: mov r10,QWORD PTR [rsp-0x10]
#   9cb: cmp QWORD PTR [rbp+0x10],0x3f
#   9d0: jle b6e <qgemv4_avx512+0xb6e>
#   9d6: vxorps xmm2,xmm2,xmm2
#   9da: mov rax,r13
#   9dd: mov r8,r12
#   9e0: mov edx,0x1
#   9e5: vmovaps zmm0,zmm2
#   9eb: nop DWORD PTR [rax+rax*1+0x0]
#   9f0: lea rdi,[rdx-0x1]
#   9f4: vpmovzxbd zmm1,XMMWORD PTR [r8]
#   9fa: add r8,0x20
#   9fe: add rax,0x100
#   a04: sar rdi,cl
#   a07: vbroadcastss zmm5,DWORD PTR [r11+rdi*4]
#   a0e: vbroadcastss zmm4,DWORD PTR [r10+rdi*4]
#   a15: vpandd zmm3,zmm1,zmm6
#   a1b: vpsrld zmm1,zmm1,0x4
#   a22: vcvtdq2ps zmm3,zmm3
#   a28: mov rdi,rdx
#   a2b: vcvtdq2ps zmm1,zmm1
#   a31: add rdx,0x2
#   a35: vfmadd132ps zmm3,zmm4,zmm5
#   a3b: vfmadd132ps zmm1,zmm4,zmm5
#   a41: sar rdi,cl
#   a44: vbroadcastss zmm5,DWORD PTR [r11+rdi*4]
#   a4b: vbroadcastss zmm4,DWORD PTR [r10+rdi*4]
#   a52: vfmadd231ps zmm0,zmm3,ZMMWORD PTR [rax-0x100]
#   a59: vfmadd231ps zmm0,zmm1,ZMMWORD PTR [rax-0xc0]
#   a60: vpmovzxbd zmm1,XMMWORD PTR [r8-0x10]
#   a67: vpandd zmm3,zmm1,zmm6
#   a6d: vpsrld zmm1,zmm1,0x4
#   a74: vcvtdq2ps zmm3,zmm3
#   a7a: vfmadd132ps zmm3,zmm4,zmm5
#   a80: vcvtdq2ps zmm1,zmm1
#   a86: vfmadd132ps zmm1,zmm4,zmm5
#   a8c: vfmadd231ps zmm2,zmm3,ZMMWORD PTR [rax-0x80]
#   a93: vfmadd231ps zmm2,zmm1,ZMMWORD PTR [rax-0x40]
#   a9a: cmp rdx,r15
#   a9d: jl 9f0 <qgemv4_avx512+0x9f0>
#   aa3: mov rax,QWORD PTR [rsp+0x28]
#   aa8: cmp r15,rax
#   aab: jg b0e <qgemv4_avx512+0xb0e>
#   aad: vaddps zmm0,zmm0,zmm2
#   ab3: add rbx,0x4
#   ab7: add r11,r9
#   aba: add r10,r9
#   abd: mov rax,QWORD PTR [rsp+0x30]
#   ac2: vextractf64x4 ymm1,zmm0,0x1
#   ac9: add r12,rax
#   acc: vaddps ymm0,ymm1,ymm0
#   ad0: vextractf128 xmm1,ymm0,0x1
#   ad6: vaddps xmm1,xmm1,xmm0
#   ada: vpermilps xmm0,xmm1,0x4e
#   ae0: vaddps xmm0,xmm0,xmm1
#   ae4: vmovaps xmm1,xmm0
#   ae8: vshufps xmm0,xmm0,xmm0,0x55
#   aed: vaddss xmm0,xmm1,xmm0
#   af1: vmovss DWORD PTR [rbx-0x4],xmm0
#   af6: cmp r14,rbx
#   af9: jne 9cb <qgemv4_avx512+0x9cb>
#   aff: mov rdx,QWORD PTR [rsp+0x40]
#   b04: mov rax,QWORD PTR [rsp+0x18]
#   b09: jmp 4e2 <qgemv4_avx512+0x4e2>
#   b0e: mov rdx,rax
#   b11: shl rdx,0x4
#   b15: vpmovzxbd zmm1,XMMWORD PTR [rdx+r12*1]
#   b1c: mov rdx,rax
#   b1f: shl rax,0x7
#   b23: sar rdx,cl
#   b26: add rax,r13
#   b29: vbroadcastss zmm5,DWORD PTR [r11+rdx*4]
#   b30: vbroadcastss zmm4,DWORD PTR [r10+rdx*4]
#   b37: vpandd zmm3,zmm1,zmm6
#   b3d: vpsrld zmm1,zmm1,0x4
#   b44: vcvtdq2ps zmm3,zmm3
#   b4a: vcvtdq2ps zmm1,zmm1
#   b50: vfmadd132ps zmm3,zmm4,zmm5
#   b56: vfmadd132ps zmm1,zmm4,zmm5
#   b5c: vfmadd231ps zmm0,zmm3,ZMMWORD PTR [rax]
#   b62: vfmadd231ps zmm0,zmm1,ZMMWORD PTR [rax+0x40]
#   b69: jmp aad <qgemv4_avx512+0xaad>
#   b6e: vxorps xmm2,xmm2,xmm2
#   b72: xor eax,eax
#   b74: vmovaps zmm0,zmm2
#   b7a: jmp aa8 <qgemv4_avx512+0xaa8>
#   b7f: mov ecx,0xf
#   b84: vpbroadcastd zmm9,ecx
#   b8a: xor ecx,ecx
#   b8c: cmp QWORD PTR [rbp+0x18],0x3f
#   b91: jle ba6 <qgemv4_avx512+0xba6>
#   b93: mov edi,0x1
#   b98: add ecx,0x1
#   b9b: mov r8,rdi
#   b9e: shl r8,cl
#   ba1: cmp r8,rsi
#   ba4: jl b98 <qgemv4_avx512+0xb98>
#   ba6: cmp QWORD PTR [rsp+0x38],0x0
#   bac: jle 4e2 <qgemv4_avx512+0x4e2>
#   bb2: vmovq rdi,xmm13
#   bb7: mov QWORD PTR [rsp+0x10],rdx
#   bbc: mov r14,QWORD PTR [rsp]
#   bc0: mov r12,rdx
#   bc3: add rdi,r13
#   bc6: mov QWORD PTR [rsp+0x8],rax
#   bcb: mov rbx,QWORD PTR [rsp-0x8]
#   bd0: mov QWORD PTR [rsp+0x40],rdi
#   bd5: vmovq rdi,xmm14
#   bda: mov r11,QWORD PTR [rsp-0x10]
#   bdf: add rdi,rdx
#   be2: mov QWORD PTR [rsp+0x18],rdi
#   be7: cmp QWORD PTR [rbp+0x10],0x3f
#   bec: jle e3e <qgemv4_avx512+0xe3e>
#   bf2: mov rdx,QWORD PTR [rsp+0x40]
#   bf7: mov rax,r13
#   bfa: mov r10,r14
#   bfd: mov edi,0x1
#   c02: vxorps xmm5,xmm5,xmm5
#   c06: vmovaps zmm4,zmm5
#   c0c: vmovaps zmm6,zmm5
#   c12: vmovaps zmm7,zmm5
#   c18: nop DWORD PTR [rax+rax*1+0x0]
#   c20: lea r8,[rdi-0x1]
#   c24: vpmovzxbd zmm0,XMMWORD PTR [r10]
#   c2a: add rax,0x100
#   c30: add r10,0x20
#   c34: sar r8,cl
#   c37: add rdx,0x100
#   c3e: vbroadcastss zmm8,DWORD PTR [rbx+r8*4]
#   c45: vbroadcastss zmm1,DWORD PTR [r11+r8*4]
#   c4c: vpandd zmm3,zmm0,zmm9
#   c52: vpsrld zmm0,zmm0,0x4
#   c59: vcvtdq2ps zmm0,zmm0
#   c5f: vcvtdq2ps zmm3,zmm3
#   c65: mov r8,rdi
#   c68: vmovaps zmm2,zmm3
#   c6e: vfmadd132ps zmm0,zmm1,zmm8
#   c74: vfmadd132ps zmm2,zmm1,zmm8
#   c7a: sar r8,cl
#   c7d: add rdi,0x2
#   c81: vbroadcastss zmm8,DWORD PTR [rbx+r8*4]
#   c88: vbroadcastss zmm3,DWORD PTR [r11+r8*4]
#   c8f: vfmadd231ps zmm7,zmm2,ZMMWORD PTR [rax-0x100]
#   c96: vfmadd132ps zmm2,zmm4,ZMMWORD PTR [rdx-0x100]
#   c9d: vfmadd231ps zmm7,zmm0,ZMMWORD PTR [rax-0xc0]
#   ca4: vmovaps zmm4,zmm0
#   caa: vpmovzxbd zmm0,XMMWORD PTR [r10-0x10]
#   cb1: vfmadd132ps zmm4,zmm2,ZMMWORD PTR [rdx-0xc0]
#   cb8: vpandd zmm2,zmm0,zmm9
#   cbe: vpsrld zmm0,zmm0,0x4
#   cc5: vcvtdq2ps zmm2,zmm2
#   ccb: vfmadd132ps zmm2,zmm3,zmm8
#   cd1: vcvtdq2ps zmm0,zmm0
#   cd7: vfmadd132ps zmm0,zmm3,zmm8
#   cdd: vfmadd231ps zmm6,zmm2,ZMMWORD PTR [rax-0x80]
#   ce4: vfmadd231ps zmm6,zmm0,ZMMWORD PTR [rax-0x40]
#   ceb: vmovaps zmm1,zmm2
#   cf1: vfmadd132ps zmm1,zmm5,ZMMWORD PTR [rdx-0x80]
#   cf8: vmovaps zmm5,zmm0
#   cfe: vfmadd132ps zmm5,zmm1,ZMMWORD PTR [rdx-0x40]
#   d05: cmp rdi,r15
#   d08: jl c20 <qgemv4_avx512+0xc20>
#   d0e: mov rax,QWORD PTR [rsp+0x28]
#   d13: cmp rax,r15
#   d16: jl dbd <qgemv4_avx512+0xdbd>
#   d1c: vaddps zmm6,zmm6,zmm7
#   d22: vaddps zmm2,zmm4,zmm5
#   d28: add rbx,r9
#   d2b: add r11,r9
#   d2e: mov rax,QWORD PTR [rsp+0x38]
#   d33: vextractf64x4 ymm0,zmm6,0x1
#   d3a: vaddps ymm0,ymm0,ymm6
#   d3e: vextractf128 xmm1,ymm0,0x1
#   d44: vaddps xmm1,xmm1,xmm0
#   d48: vpermilps xmm0,xmm1,0x4e
#   d4e: vaddps xmm0,xmm0,xmm1
#   d52: vmovaps xmm1,xmm0
#   d56: vshufps xmm0,xmm0,xmm0,0x55
#   d5b: vaddss xmm0,xmm1,xmm0
#   d5f: vmovss DWORD PTR [r12],xmm0
#   d65: vextractf64x4 ymm0,zmm2,0x1
#   d6c: vaddps ymm0,ymm0,ymm2
#   d70: vextractf128 xmm1,ymm0,0x1
#   d76: vaddps xmm1,xmm1,xmm0
#   d7a: vpermilps xmm0,xmm1,0x4e
#   d80: vaddps xmm0,xmm0,xmm1
#   d84: vmovaps xmm1,xmm0
#   d88: vshufps xmm0,xmm0,xmm0,0x55
#   d8d: vaddss xmm0,xmm1,xmm0
#   d91: vmovss DWORD PTR [r12+rax*4],xmm0
#   d97: mov rax,QWORD PTR [rsp+0x30]
#   d9c: add r12,0x4
#   da0: add r14,rax
#   da3: cmp QWORD PTR [rsp+0x18],r12
#   da8: jne be7 <qgemv4_avx512+0xbe7>
#   dae: mov rdx,QWORD PTR [rsp+0x10]
#   db3: mov rax,QWORD PTR [rsp+0x8]
#   db8: jmp 4e2 <qgemv4_avx512+0x4e2>
#   dbd: mov rdx,rax
#   dc0: shl rdx,0x4
#   dc4: vpmovzxbd zmm0,XMMWORD PTR [rdx+r14*1]
#   dcb: mov rdx,rax
#   dce: sar rdx,cl
#   dd1: vbroadcastss zmm3,DWORD PTR [rbx+rdx*4]
#   dd8: vbroadcastss zmm2,DWORD PTR [r11+rdx*4]
#   ddf: vpandd zmm1,zmm0,zmm9
#   de5: vpsrld zmm0,zmm0,0x4
#   dec: vcvtdq2ps zmm0,zmm0
#   df2: mov rdx,rax
#   df5: vcvtdq2ps zmm1,zmm1
#   dfb: shl rax,0x5
#   dff: vfmadd132ps zmm0,zmm2,zmm3
#   e05: shl rdx,0x7
#   e09: vfmadd132ps zmm1,zmm2,zmm3
#   e0f: add rax,QWORD PTR [rbp+0x10]
#   e13: add rdx,r13
#   e16: vfmadd231ps zmm7,zmm1,ZMMWORD PTR [rdx]
#   e1c: vfmadd132ps zmm1,zmm4,ZMMWORD PTR [r13+rax*4+0x0]
#   e24: vfmadd231ps zmm7,zmm0,ZMMWORD PTR [rdx+0x40]
#   e2b: vmovaps zmm4,zmm0
#   e31: vfmadd132ps zmm4,zmm1,ZMMWORD PTR [r13+rax*4+0x40]
#   e39: jmp d1c <qgemv4_avx512+0xd1c>
#   e3e: vxorps xmm5,xmm5,xmm5
#   e42: xor eax,eax
#   e44: vmovaps zmm4,zmm5
#   e4a: vmovaps zmm6,zmm5
#   e50: vmovaps zmm7,zmm5
#   e56: jmp d13 <qgemv4_avx512+0xd13>
CODE["qgemv4_avx512"] = bytes.fromhex(
    "554889e54157415641554154534883e4c04883ec4848895424f04889ca4c89c148893c244c8b55204c8b751048897424"
    "f84c894c24384c8b45284d85d20f8ec60400004a8d04b5000000004d89c54d89c1c461f96ee831c0c441f97eef4d85f6"
    "7e504d8d61404c8d9a8400000031db90498d73804c89e7660f1f840000000000c5fa1046fc4883c6084883c704c5fa11"
    "47bcc5fa1046f8c5fa1147fc4939f375df4883c3204983ec804983eb804939de7fbe488d70014c01fa4d01f94939f274"
    "054889f0eb974c89f2488b5d18c441f96eef4d89f148c1ea3f4c8975104c01f248d1fa4d85f64889542430498d561f49"
    "0f49d648c1fa054885db4989d7488d531f480f49d3488b5c243883e00349c1e1044883e8034c894c24e048c1fa054889"
    "4424e84c89f04889d6488d141bc461f96eda4801dac461f96ee24889da48c1e20448895424d84b8d14764d8d0c904899"
    "48f77d184c894c24204c8d0c8500000000488d049d00000000c461f96ef0498d47fe48d1e84983fe3f488d540002b802"
    "000000480f4fc24889ca4889442428b80f00000062727d487cd04c89d04883f8010f84cd0700004883f8020f84ce0900"
    "0031c94883f8030f843904000048837d183f7e1abf010000000f1f800000000083c1014989f849d3e04c39c67ff24883"
    "7c2438000f8ef8020000c461f97eefc441f97ee848895424d04c8b34244c01ef48894424c8488b5c24f84989d448897c"
    "24084c01c74c8b5c24f048897c2410c461f97ef74801d748897424c048897c24180f1f800000000048837d103f0f8e7e"
    "0300004c896c2440488b7c24204c89e84d89f2c5e857d2488b742410488b54240841b80100000062f17c4828da62f17c"
    "4828ea62f17c4828fa62f17c4828f262717c4828c262717c4828ca62f17c4828e20f1f80000000004d8d68ff62d27d48"
    "31024805000100004983c22049d3fd4881c2000100004881c6000100004881c70001000062a27d481804ab62127d4818"
    "3cab62d17d48dbca62f17d4872d00462f17c485bc94d89c562f17c485bc04983c00262b2054898c862b2054898c049d3"
    "fd62f27548b860fc62727548b842fc62f27548b87efc62f27548b85ffc62f27d48b860fd62727d48b842fd62a27d4818"
    "04ab62127d48183cab62f27d48b87efd62f27d48b85ffd62d27d483142ff62d17d48dbca62f17d4872d00462f17c485b"
    "c962b2054898c862f17c485bc062b2054898c062727548b848fe62f27548b872fe62f27548b86efe62f27548b857fe62"
    "727d48b848ff62f27d48b872ff62f27d48b86eff62f27d48b857ff4d39c70f8fe4feffff4c8b6c2440488b4424284c39"
    "f80f8c5101000062d15c4858e1488b4424384c01cb4d01cb62d14c4858f062f1544858ef62f16c4858d362f3fd481be0"
    "01c5fc58c4c4e37d19c101c5f058c8c4e37904c14ec5f858c1c5f828c8c5f8c6c055c5f258c0c4c17a11042462f3fd48"
    "1bf001c5fc58c6c4e37d19c101c5f058c8c4e37904c14ec5f858c1c5f828c8c5f8c6c055c5f258c0c4c17a11048462f3"
    "fd481be801c461f97ed8c5fc58c5c4e37d19c101c5f058c8c4e37904c14ec5f858c1c5f828c8c5f8c6c055c5f258c0c4"
    "c17a11048462f3fd481bd001c461f97ee0c5fc58c2c4e37d19c101c5f058c8c4e37904c14ec5f858c1c5f828c8c5f8c6"
    "c055c5f258c0c4c17a110484488b4424304983c4044901c64c396424180f8565fdffff488b5424d0488b4424c8488b74"
    "24c0488b5c24d84883e8044801da488b5c24e048015c24204901dd48394424e80f8597fcffffc5f877488d65d85b415c"
    "415d415e415f5dc34889c248c1e20462b27d483104324889c248d3fa62e27d4818049362527d48183c9362d17d48dbca"
    "4889c262f17c485bc962f17d4872d00448c1e0054803451062b2054898c862f17c485bc048c1e20762b2054898c06252"
    "7548b84485004c01ea62527d48b84485014803451062d27548b87c850062f27548b82262d27d48b87c85014803451062"
    "d26548984c850062f27d48b8620162f17c4828d862d27548985c8501e906feffffc5e857d231c062f17c4828da62f17c"
    "4828ea62f17c4828fa62f17c4828f262717c4828c262717c4828ca62f17c4828e2e9c8fdffff48837d183f7e13bf0100"
    "000083c1014989f849d3e04939f07cf248837c2438000f8ec6feffffc461f97eefc441f97ee848895424d04c8b34244c"
    "01ef48894424c8488b5c24f84989d448897c24084c01c74c8b5c24f0c441f97ed848897c2410c461f97ef74801d74889"
    "7424c048897c241848837d103f0f8ed80200004d89f2488b742410488b5424084c89e8c5e857d24c89742440bf010000"
    "004d89e662f17c4828da4d89cc4d89d162717c4828c262717c4828ca62f17c4828ea62f17c4828e20f1f840000000000"
    "4c8d57ff62d27d4831014805000100004983c12049d3fa4881c2000100004881c60001000062b27d48183c9362927d48"
    "18349362d17d48dbca62f17d4872d00462f17c485bc94989fa62f17c485bc04883c70262f24d4898cf62f24d4898c749"
    "d3fa62b27d48183c9362927d4818349362f27548b860fc62727548b84afc62f27548b85efc62f27d48b860fd62727d48"
    "b84afd62f27d48b85efd62d27d483141ff62d17d48dbca62f17d4872d00462f17c485bc962f24d4898cf62f17c485bc0"
    "62f24d4898c762f27548b868fe62727548b842fe62f27548b856fe62f27d48b868ff62727d48b842ff62f27d48b856ff"
    "4c39ff0f8c07ffffff4d89e1488b4424284d89f44c8b7424404939c70f8fe400000062f15c4858e5488b4424384c01cb"
    "4d01cb62513c4858c162f16c4858d362f3fd481be001c5fc58c4c4e37d19c101c5f058c8c4e37904c14ec5f858c1c5f8"
    "28c8c5f8c6c055c5f258c0c4c17a1104246273fd481bc001c4c17c58c0c4e37d19c101c5f058c8c4e37904c14ec5f858"
    "c1c5f828c8c5f8c6c055c5f258c0c4c17a11048462f3fd481bd001488b442430c5fc58c24901c6c4e37d19c101c5f058"
    "c8c4e37904c14ec5f858c1c5f828c8c5f8c6c055c5f258c0c4817a1104844983c4044c396424180f85cbfdffff488b54"
    "24d0488b4424c8c441f96ed8488b7424c0e92cfcffff4889c248c1e20462b27d483104324889c248d3fa62f27d48183c"
    "9362d27d4818349362d17d48dbca62f17d4872d00462f17c485bc04889c262f17c485bc948c1e00562f24d4898c762f2"
    "4d4898cf4803451048c1e20762527548b84c85004c01ea62527d48b84c85014803451062f27548b82262d26548984c85"
    "0062f27d48b8620162f17c4828d862d27548985c8501e987feffffc5e857d231c062f17c4828da62717c4828c262717c"
    "4828ca62f17c4828ea62f17c4828e2e955feffffb90f00000062f27d487cf131c948837d183f7e13bf0100000083c101"
    "4989f849d3e04939f07cf248837c2438000f8e3bfbffff4889542440c461f97ef34c8b242448894424184c8b5c24f84c"
    "8d341a4889d34c8b5424f048837d103f0f8e98010000c5e857d24c89e84d89e0ba0100000062f17c4828c20f1f440000"
    "488d7aff62d27d4831084983c02048050001000048d3ff62d27d48182cbb62d27d481824ba62f17548dbde62f1754872"
    "d10462f17c485bdb4889d762f17c485bc94883c20262f25d4898dd62f25d4898cd48d3ff62d27d48182cbb62d27d4818"
    "24ba62f26548b840fc62f27548b840fd62d27d483148ff62f17548dbde62f1754872d10462f17c485bdb62f25d4898dd"
    "62f17c485bc962f25d4898cd62f26548b850fe62f27548b850ff4c39fa0f8c4dffffff488b4424284939c77f6162f17c"
    "4858c24883c3044d01cb4d01ca488b44243062f3fd481bc1014901c4c5f458c0c4e37d19c101c5f058c8c4e37904c14e"
    "c5f858c1c5f828c8c5f8c6c055c5f258c0c5fa1143fc4939de0f85ccfeffff488b542440488b442418e9d4f9ffff4889"
    "c248c1e20462b27d48310c224889c248c1e00748d3fa4c01e862d27d48182c9362d27d4818249262f17548dbde62f175"
    "4872d10462f17c485bdb62f17c485bc962f25d4898dd62f25d4898cd62f26548b80062f27548b84001e93fffffffc5e8"
    "57d231c062f17c4828c2e929ffffffb90f00000062727d487cc931c948837d183f7e13bf0100000083c1014989f849d3"
    "e04939f07cf248837c2438000f8e30f9ffffc461f97eef48895424104c8b34244989d44c01ef4889442408488b5c24f8"
    "48897c2440c461f97ef74c8b5c24f04801d748897c241848837d103f0f8e4c020000488b5424404c89e84d89f2bf0100"
    "0000c5d057ed62f17c4828e562f17c4828f562f17c4828fd0f1f8400000000004c8d47ff62d27d483102480500010000"
    "4983c22049d3f84881c20001000062327d4818048362927d48180c8362d17d48dbd962f17d4872d00462f17c485bc062"
    "f17c485bdb4989f862f17c4828d362d2754898c062d2754898d049d3f84883c70262327d4818048362927d48181c8362"
    "f26d48b878fc62f25d489852fc62f27d48b878fd62f17c4828e062d27d483142ff62f26d489862fd62d17d48dbd162f1"
    "7d4872d00462f17c485bd262d2654898d062f17c485bc062d2654898c062f26d48b870fe62f27d48b870ff62f17c4828"
    "ca62f25548984afe62f17c4828e862f27548986aff4c39ff0f8c12ffffff488b4424284c39f80f8ca100000062f14c48"
    "58f762f15c4858d54c01cb4d01cb488b44243862f3fd481bf001c5fc58c6c4e37d19c101c5f058c8c4e37904c14ec5f8"
    "58c1c5f828c8c5f8c6c055c5f258c0c4c17a11042462f3fd481bd001c5fc58c2c4e37d19c101c5f058c8c4e37904c14e"
    "c5f858c1c5f828c8c5f8c6c055c5f258c0c4c17a110484488b4424304983c4044901c64c396424180f8539feffff488b"
    "542410488b442408e925f7ffff4889c248c1e20462b27d483104324889c248d3fa62f27d48181c9362d27d4818149362"
    "d17d48dbc962f17d4872d00462f17c485bc04889c262f17c485bc948c1e00562f26d4898c348c1e20762f26d4898cb48"
    "0345104c01ea62f27548b83a62d25d48984c850062f27d48b87a0162f17c4828e062d2754898648501e9defeffffc5d0"
    "57ed31c062f17c4828e562f17c4828f562f17c4828fde9b8feffff"
)

# qgemv8_avx512: 2645 bytes
#   0: push rbp
#   1: mov rbp,rsp
#   4: push r15
#   6: push r14
#   8: push r13
#   a: push r12
#   c: push rbx
#   d: and rsp,0xffffffffffffffc0
#   11: sub rsp,0x8
#   15: mov QWORD PTR [rsp-0x28],rdi
#   1a: mov QWORD PTR [rsp-0x30],rsi
#   1f: mov rdi,QWORD PTR [rbp+0x20]
#   23: mov r15,QWORD PTR [rbp+0x10]
#   27: mov QWORD PTR [rsp-0x38],rdx
#   2c: mov QWORD PTR [rsp],r9
#   30: test rdi,rdi
#   33: jle 3ad <qgemv8_avx512+0x3ad>
#   39: test r15,r15
#   3c: lea r13,[r15+0xf]
#   40: mov rax,rcx
#   43: mov rcx,QWORD PTR [rbp+0x18]
#   47: cmovns r13,r15
#   4b: mov QWORD PTR [rsp-0x20],r8
#   50: lea rdx,[rdi-0x4]
#   54: mov rbx,r9
#   57: add rcx,0xf
#   5b: sar r13,0x4
#   5f: cmp QWORD PTR [rbp+0x18],0x0
#   64: cmovns rcx,QWORD PTR [rbp+0x18]
#   69: sar rcx,0x4
#   6d: mov rsi,rcx
#   70: lea rcx,[r9+r9*1]
#   74: vmovq xmm9,rcx
#   79: add rcx,r9
#   7c: vmovq xmm10,rcx
#   81: mov rcx,r9
#   84: shl rcx,0x4
#   88: mov QWORD PTR [rsp-0x50],rcx
#   8d: mov rcx,r15
#   90: shl rcx,0x4
#   94: mov QWORD PTR [rsp-0x48],rcx
#   99: lea rcx,[r15*4+0x0]
#   a1: lea r8,[rax+rcx*1]
#   a5: lea rax,[rdi-0x1]
#   a9: vmovq xmm0,rcx
#   ae: and rax,0xfffffffffffffffc
#   b2: lea r9,[r8+rcx*1]
#   b6: vmovdqa xmm13,xmm0
#   ba: sub rdx,rax
#   bd: mov rax,r15
#   c0: lea r12,[r9+rcx*1]
#   c4: mov QWORD PTR [rsp-0x40],rdx
#   c9: cqo
#   cb: idiv QWORD PTR [rbp+0x18]
#   cf: shl rax,0x2
#   d3: mov QWORD PTR [rsp-0x10],rax
#   d8: lea rax,[rbx*4+0x0]
#   e0: vmovq xmm1,rax
#   e5: lea rax,[r13-0x2]
#   e9: shr rax,1
#   ec: cmp r15,0x1f
#   f0: vmovdqa xmm12,xmm1
#   f4: lea rdx,[rax+rax*1+0x2]
#   f9: mov eax,0x2
#   fe: cmovg rax,rdx
#   102: mov QWORD PTR [rsp-0x8],rax
#   107: mov rax,rdi
#   10a: mov rdi,r8
#   10d: vmovq rbx,xmm13
#   112: xor ecx,ecx
#   114: sub rdi,rbx
#   117: cmp rax,0x1
#   11b: je 6c1 <qgemv8_avx512+0x6c1>
#   121: cmp rax,0x2
#   125: je 857 <qgemv8_avx512+0x857>
#   12b: cmp rax,0x3
#   12f: je 448 <qgemv8_avx512+0x448>
#   135: cmp QWORD PTR [rbp+0x18],0x1f
#   13a: jle 150 <qgemv8_avx512+0x150>
#   13c: nop DWORD PTR [rax+0x0]
#   140: add ecx,0x1
#   143: mov edx,0x1
#   148: shl rdx,cl
#   14b: cmp rsi,rdx
#   14e: jg 140 <qgemv8_avx512+0x140>
#   150: cmp QWORD PTR [rsp],0x0
#   155: jle 383 <qgemv8_avx512+0x383>
#   15b: mov r14,QWORD PTR [rsp-0x20]
#   160: vmovq rdx,xmm12
#   165: mov QWORD PTR [rsp-0x58],rax
#   16a: mov rbx,QWORD PTR [rsp-0x28]
#   16f: mov r11,QWORD PTR [rsp-0x38]
#   174: mov QWORD PTR [rsp-0x60],rsi
#   179: add rdx,r14
#   17c: mov r10,QWORD PTR [rsp-0x30]
#   181: mov QWORD PTR [rsp-0x18],rdx
#   186: cs nop WORD PTR [rax+rax*1+0x0]
#   190: cmp r15,0x1f
#   194: jle 413 <qgemv8_avx512+0x413>
#   19a: vxorps xmm3,xmm3,xmm3
#   19e: xor eax,eax
#   1a0: mov edx,0x1
#   1a5: vmovaps zmm5,zmm3
#   1ab: vmovaps zmm7,zmm3
#   1b1: vmovaps zmm1,zmm3
#   1b7: vmovaps zmm8,zmm3
#   1bd: vmovaps zmm2,zmm3
#   1c3: vmovaps zmm4,zmm3
#   1c9: vmovaps zmm6,zmm3
#   1cf: nop
#   1d0: lea rsi,[rdx-0x1]
#   1d4: vpmovzxbd zmm0,XMMWORD PTR [rbx+rax*1]
#   1db: sar rsi,cl
#   1de: vbroadcastss zmm14,DWORD PTR [r11+rsi*4]
#   1e5: vcvtdq2ps zmm0,zmm0
#   1eb: vfmadd132ps zmm0,zmm14,DWORD BCST [r10+rsi*4]
#   1f2: mov rsi,rdx
#   1f5: add rdx,0x2
#   1f9: sar rsi,cl
#   1fc: vfmadd231ps zmm6,zmm0,ZMMWORD PTR [rdi+rax*4]
#   203: vfmadd231ps zmm2,zmm0,ZMMWORD PTR [r8+rax*4]
#   20a: vfmadd231ps zmm1,zmm0,ZMMWORD PTR [r9+rax*4]
#   211: vfmadd231ps zmm5,zmm0,ZMMWORD PTR [r12+rax*4]
#   218: vbroadcastss zmm15,DWORD PTR [r11+rsi*4]
#   21f: vpmovzxbd zmm0,XMMWORD PTR [rbx+rax*1+0x10]
#   227: vcvtdq2ps zmm0,zmm0
#   22d: vfmadd132ps zmm0,zmm15,DWORD BCST [r10+rsi*4]
#   234: vfmadd231ps zmm4,zmm0,ZMMWORD PTR [rdi+rax*4+0x40]
#   23c: vfmadd231ps zmm8,zmm0,ZMMWORD PTR [r8+rax*4+0x40]
#   244: vfmadd231ps zmm7,zmm0,ZMMWORD PTR [r9+rax*4+0x40]
#   24c: vfmadd231ps zmm3,zmm0,ZMMWORD PTR [r12+rax*4+0x40]
#   254: add rax,0x20
#   258: cmp r13,rdx
#   25b: jg 1d0 <qgemv8_avx512+0x1d0>
#   261: mov rax,QWORD PTR [rsp-0x8]
#   266: cmp r13,rax
#   269: jg 3bc <qgemv8_avx512+0x3bc>
#   26f: vaddps zmm4,zmm4,zmm6
#   275: vaddps zmm2,zmm2,zmm8
#   27b: mov rax,QWORD PTR [rsp]
#   27f: add rbx,r15
#   282: vaddps zmm1,zmm1,zmm7
#   288: vaddps zmm3,zmm3,zmm5
#   28e: vextractf64x4 ymm6,zmm4,0x1
#   295: vaddps ymm4,ymm6,ymm4
#   299: vextractf128 xmm6,ymm4,0x1
#   29f: vaddps xmm6,xmm6,xmm4
#   2a3: vpermilps xmm4,xmm6,0x4e
#   2a9: vaddps xmm4,xmm4,xmm6
#   2ad: vmovaps xmm6,xmm4
#   2b1: vshufps xmm4,xmm4,xmm4,0x55
#   2b6: vaddss xmm4,xmm6,xmm4
#   2ba: vmovss DWORD PTR [r14],xmm4
#   2bf: vextractf64x4 ymm4,zmm2,0x1
#   2c6: vaddps ymm2,ymm4,ymm2
#   2ca: vextractf128 xmm4,ymm2,0x1
#   2d0: vaddps xmm4,xmm4,xmm2
#   2d4: vpermilps xmm2,xmm4,0x4e
#   2da: vaddps xmm2,xmm2,xmm4
#   2de: vmovaps xmm4,xmm2
#   2e2: vshufps xmm2,xmm2,xmm2,0x55
#   2e7: vaddss xmm2,xmm4,xmm2
#   2eb: vmovss DWORD PTR [r14+rax*4],xmm2
#   2f1: vextractf64x4 ymm2,zmm1,0x1
#   2f8: vmovq rax,xmm9
#   2fd: vaddps ymm2,ymm2,ymm1
#   301: vextractf128 xmm4,ymm2,0x1
#   307: vaddps xmm4,xmm4,xmm2
#   30b: vpermilps xmm2,xmm4,0x4e
#   311: vaddps xmm2,xmm2,xmm4
#   315: vmovaps xmm4,xmm2
#   319: vshufps xmm2,xmm2,xmm2,0x55
#   31e: vaddss xmm2,xmm4,xmm2
#   322: vmovss DWORD PTR [r14+rax*4],xmm2
#   328: vextractf64x4 ymm2,zmm3,0x1
#   32f: vmovq rax,xmm10
#   334: vaddps ymm2,ymm2,ymm3
#   338: vextractf128 xmm3,ymm2,0x1
#   33e: vaddps xmm3,xmm3,xmm2
#   342: vpermilps xmm2,xmm3,0x4e
#   348: vaddps xmm2,xmm2,xmm3
#   34c: vmovaps xmm3,xmm2
#   350: vshufps xmm2,xmm2,xmm2,0x55
#   355: vaddss xmm2,xmm3,xmm2
#   359: vmovss DWORD PTR [r14+rax*4],xmm2
#   35f: mov rax,QWORD PTR [rsp-0x10]
#   364: add r14,0x4
#   368: add r11,rax
#   36b: add r10,rax
#   36e: cmp QWORD PTR [rsp-0x18],r14
#   373: jne 190 <qgemv8_avx512+0x190>
#   379: mov rax,QWORD PTR [rsp-0x58]
#   37e: mov rsi,QWORD PTR [rsp-0x60]
#   383: mov rbx,QWORD PTR [rsp-0x50]
#   388: add QWORD PTR [rsp-0x20],rbx
#   38d: sub rax,0x4
#   391: mov rbx,QWORD PTR [rsp-0x48]
#   396: add r8,rbx
#   399: add r9,rbx
#   39c: add r12,rbx
#   39f: cmp QWORD PTR [rsp-0x40],rax
#   3a4: jne 10a <qgemv8_avx512+0x10a>
#   3aa: vzeroupper
#   3ad: lea rsp,[rbp-0x28]
#   3b1: pop rbx
#   3b2: pop r12
#   3b4: pop r13
#   3b6: pop r14
#   3b8: pop r15
#   3ba: pop rbp
#   3bb: ret
#   3bc: mov rsi,rax
#   3bf: mov rdx,rax
#   3c2: shl rax,0x6
#   3c6: shl rsi,0x4
#   3ca: sar rdx,cl
#   3cd: vpmovzxbd zmm11,XMMWORD PTR [rbx+rsi*1]
#   3d4: vbroadcastss zmm0,DWORD PTR [r11+rdx*4]
#   3db: vcvtdq2ps zmm11,zmm11
#   3e1: vfmadd132ps zmm11,zmm0,DWORD BCST [r10+rdx*4]
#   3e8: vfmadd231ps zmm6,zmm11,ZMMWORD PTR [rdi+rax*1]
#   3ef: lea rax,[r15+rsi*1]
#   3f3: vfmadd231ps zmm2,zmm11,ZMMWORD PTR [rdi+rax*4]
#   3fa: add rax,r15
#   3fd: vfmadd231ps zmm1,zmm11,ZMMWORD PTR [rdi+rax*4]
#   404: add rax,r15
#   407: vfmadd231ps zmm5,zmm11,ZMMWORD PTR [rdi+rax*4]
#   40e: jmp 26f <qgemv8_avx512+0x26f>
#   413: vxorps xmm3,xmm3,xmm3
#   417: xor eax,eax
#   419: vmovaps zmm5,zmm3
#   41f: vmovaps zmm7,zmm3
#   425: vmovaps zmm1,zmm3
#   42b: vmovaps zmm8,zmm3
#   431: vmovaps zmm2,zmm3
#   437: vmovaps zmm4,zmm3
#   43d: vmovaps zmm6,zmm3
#   443: jmp 266 <qgemv8_avx512+0x266>
#   448: cmp QWORD PTR [rbp+0x18],0x1f
#   44d: jle 45f <qgemv8_avx512+0x45f>
#   44f: add ecx,0x1
#   452: mov edx,0x1
#   457: shl rdx,cl
#   45a: cmp rdx,rsi
#   45d: jl 44f <qgemv8_avx512+0x44f>
#   45f: cmp QWORD PTR [rsp],0x0
#   464: jle 383 <qgemv8_avx512+0x383>
#   46a: mov r14,QWORD PTR [rsp-0x20]
#   46f: vmovq rdx,xmm12
#   474: mov QWORD PTR [rsp-0x60],rax
#   479: vmovdqa xmm1,xmm9
#   47d: mov rbx,QWORD PTR [rsp-0x28]
#   482: mov r11,QWORD PTR [rsp-0x38]
#   487: mov QWORD PTR [rsp-0x68],rsi
#   48c: add rdx,r14
#   48f: mov QWORD PTR [rsp-0x58],r12
#   494: mov r10,QWORD PTR [rsp-0x30]
#   499: mov QWORD PTR [rsp-0x18],rdx
#   49e: mov r12,QWORD PTR [rsp-0x10]
#   4a3: cmp r15,0x1f
#   4a7: jle 698 <qgemv8_avx512+0x698>
#   4ad: vxorps xmm7,xmm7,xmm7
#   4b1: xor eax,eax
#   4b3: mov edx,0x1
#   4b8: vmovaps zmm2,zmm7
#   4be: vmovaps zmm3,zmm7
#   4c4: vmovaps zmm5,zmm7
#   4ca: vmovaps zmm4,zmm7
#   4d0: vmovaps zmm6,zmm7
#   4d6: cs nop WORD PTR [rax+rax*1+0x0]
#   4e0: lea rsi,[rdx-0x1]
#   4e4: vpmovzxbd zmm0,XMMWORD PTR [rbx+rax*1]
#   4eb: sar rsi,cl
#   4ee: vbroadcastss zmm11,DWORD PTR [r11+rsi*4]
#   4f5: vcvtdq2ps zmm0,zmm0
#   4fb: vfmadd132ps zmm0,zmm11,DWORD BCST [r10+rsi*4]
#   502: mov rsi,rdx
#   505: add rdx,0x2
#   509: sar rsi,cl
#   50c: vfmadd231ps zmm6,zmm0,ZMMWORD PTR [rdi+rax*4]
#   513: vfmadd231ps zmm5,zmm0,ZMMWORD PTR [r8+rax*4]
#   51a: vfmadd231ps zmm2,zmm0,ZMMWORD PTR [r9+rax*4]
#   521: vbroadcastss zmm11,DWORD PTR [r11+rsi*4]
#   528: vpmovzxbd zmm0,XMMWORD PTR [rax+rbx*1+0x10]
#   530: vcvtdq2ps zmm0,zmm0
#   536: vfmadd132ps zmm0,zmm11,DWORD BCST [r10+rsi*4]
#   53d: vfmadd231ps zmm4,zmm0,ZMMWORD PTR [rdi+rax*4+0x40]
#   545: vfmadd231ps zmm3,zmm0,ZMMWORD PTR [r8+rax*4+0x40]
#   54d: vfmadd231ps zmm7,zmm0,ZMMWORD PTR [r9+rax*4+0x40]
#   555: add rax,0x20
#   559: cmp rdx,r13
#   55c: jl 4e0 <qgemv8_avx512+0x4e0>
#   55e: mov rax,QWORD PTR [rsp-0x8]
#   563: cmp r13,rax
#   566: jg 64c <qgemv8_avx512+0x64c>
#   56c: vaddps zmm4,zmm4,zmm6
#   572: mov rax,QWORD PTR [rsp]
#   576: add rbx,r15
#   579: add r11,r12
#   57c: vaddps zmm3,zmm3,zmm5
#   582: vaddps zmm2,zmm2,zmm7
#   588: add r10,r12
#   58b: vextractf64x4 ymm6,zmm4,0x1
#   592: vaddps ymm4,ymm6,ymm4
#   596: vextractf128 xmm6,ymm4,0x1
#   59c: vaddps xmm6,xmm6,xmm4
#   5a0: vpermilps xmm4,xmm6,0x4e
#   5a6: vaddps xmm4,xmm4,xmm6
#   5aa: vmovaps xmm6,xmm4
#   5ae: vshufps xmm4,xmm4,xmm4,0x55
#   5b3: vaddss xmm4,xmm6,xmm4
#   5b7: vmovss DWORD PTR [r14],xmm4
#   5bc: vextractf64x4 ymm4,zmm3,0x1
#   5c3: vaddps ymm3,ymm4,ymm3
#   5c7: vextractf128 xmm4,ymm3,0x1
#   5cd: vaddps xmm4,xmm4,xmm3
#   5d1: vpermilps xmm3,xmm4,0x4e
#   5d7: vaddps xmm3,xmm3,xmm4
#   5db: vmovaps xmm4,xmm3
#   5df: vshufps xmm3,xmm3,xmm3,0x55
#   5e4: vaddss xmm3,xmm4,xmm3
#   5e8: vmovss DWORD PTR [r14+rax*4],xmm3
#   5ee: vextractf64x4 ymm3,zmm2,0x1
#   5f5: vmovq rax,xmm1
#   5fa: vaddps ymm2,ymm3,ymm2
#   5fe: vextractf128 xmm3,ymm2,0x1
#   604: vaddps xmm3,xmm3,xmm2
#   608: vpermilps xmm2,xmm3,0x4e
#   60e: vaddps xmm2,xmm2,xmm3
#   612: vmovaps xmm3,xmm2
#   616: vshufps xmm2,xmm2,xmm2,0x55
#   61b: vaddss xmm2,xmm3,xmm2
#   61f: vmovss DWORD PTR [r14+rax*4],xmm2
#   625: add r14,0x4
#   629: cmp QWORD PTR [rsp-0x18],r14
#   62e: jne 4a3 <qgemv8_avx512+0x4a3>
#   634: mov r12,QWORD PTR [rsp-0x58]
#   639: mov rax,QWORD PTR [rsp-0x60]
#   63e: vmovdqa xmm9,xmm1
#   642: mov rsi,QWORD PTR [rsp-0x68]
#   647: jmp 383 <qgemv8_avx512+0x383>
#   64c: mov rdx,rax
#   64f: mov rsi,rax
#   652: shl rax,0x6
#   656: shl rdx,0x4
#   65a: sar rsi,cl
#   65d: vpmovzxbd zmm8,XMMWORD PTR [rbx+rdx*1]
#   664: vbroadcastss zmm0,DWORD PTR [r11+rsi*4]
#   66b: add rdx,r15
#   66e: vcvtdq2ps zmm8,zmm8
#   674: vfmadd132ps zmm8,zmm0,DWORD BCST [r10+rsi*4]
#   67b: vfmadd231ps zmm5,zmm8,ZMMWORD PTR [rdi+rdx*4]
#   682: add rdx,r15
#   685: vfmadd231ps zmm6,zmm8,ZMMWORD PTR [rdi+rax*1]
#   68c: vfmadd231ps zmm2,zmm8,ZMMWORD PTR [rdi+rdx*4]
#   693: jmp 56c <qgemv8_avx512+0x56c>
#   698: vxorps xmm7,xmm7,xmm7
#   69c: xor eax,eax
#   69e: vmovaps zmm2,zmm7
#   6a4: vmovaps zmm3,zmm7
#   6aa: vmovaps zmm5,zmm7
#   6b0: vmovaps zmm4,zmm7
#   6b6: vmovaps zmm6,zmm7
#   6bc: jmp 563 <qgemv8_avx512+0x563>
#   6c1: cmp QWORD PTR [rbp+0x18],0x1f
#   6c6: jle 6db <qgemv8_avx512+0x6db>
#   6c8: mov edx,0x1
#   6cd: add ecx,0x1
#   6d0: mov r10,rdx
#   6d3: shl r10,cl
#   6d6: cmp r10,rsi
#   6d9: jl 6cd <qgemv8_avx512+0x6cd>
#   6db: cmp QWORD PTR [rsp],0x0
#   6e0: jle 383 <qgemv8_avx512+0x383>
#   6e6: mov r14,QWORD PTR [rsp-0x20]
#   6eb: vmovq rdx,xmm12
#   6f0: mov QWORD PTR [rsp-0x58],r12
#   6f5: mov rbx,QWORD PTR [rsp-0x28]
#   6fa: mov r11,QWORD PTR [rsp-0x38]
#   6ff: mov QWORD PTR [rsp-0x60],r9
#   704: add rdx,r14
#   707: mov QWORD PTR [rsp-0x68],rax
#   70c: mov r10,QWORD PTR [rsp-0x30]
#   711: mov QWORD PTR [rsp-0x18],rdx
#   716: mov rax,QWORD PTR [rsp-0x10]
#   71b: cmp r15,0x1f
#   71f: jle 846 <qgemv8_avx512+0x846>
#   725: vxorps xmm4,xmm4,xmm4
#   729: mov r9d,0x1
#   72f: xor edx,edx
#   731: vmovaps zmm3,zmm4
#   737: nop WORD PTR [rax+rax*1+0x0]
#   740: lea r12,[r9-0x1]
#   744: vpmovzxbd zmm2,XMMWORD PTR [rbx+rdx*1]
#   74b: sar r12,cl
#   74e: vbroadcastss zmm7,DWORD PTR [r11+r12*4]
#   755: vcvtdq2ps zmm2,zmm2
#   75b: vfmadd132ps zmm2,zmm7,DWORD BCST [r10+r12*4]
#   762: mov r12,r9
#   765: add r9,0x2
#   769: sar r12,cl
#   76c: vfmadd231ps zmm3,zmm2,ZMMWORD PTR [rdi+rdx*4]
#   773: vpmovzxbd zmm2,XMMWORD PTR [rdx+rbx*1+0x10]
#   77b: vbroadcastss zmm5,DWORD PTR [r11+r12*4]
#   782: vcvtdq2ps zmm2,zmm2
#   788: vfmadd132ps zmm2,zmm5,DWORD BCST [r10+r12*4]
#   78f: vfmadd231ps zmm4,zmm2,ZMMWORD PTR [rdi+rdx*4+0x40]
#   797: add rdx,0x20
#   79b: cmp r9,r13
#   79e: jl 740 <qgemv8_avx512+0x740>
#   7a0: mov rdx,QWORD PTR [rsp-0x8]
#   7a5: cmp r13,rdx
#   7a8: jg 80e <qgemv8_avx512+0x80e>
#   7aa: vaddps zmm3,zmm3,zmm4
#   7b0: add r14,0x4
#   7b4: add rbx,r15
#   7b7: add r11,rax
#   7ba: add r10,rax
#   7bd: vextractf64x4 ymm2,zmm3,0x1
#   7c4: vaddps ymm2,ymm2,ymm3
#   7c8: vextractf128 xmm3,ymm2,0x1
#   7ce: vaddps xmm3,xmm3,xmm2
#   7d2: vpermilps xmm2,xmm3,0x4e
#   7d8: vaddps xmm2,xmm2,xmm3
#   7dc: vmovaps xmm3,xmm2
#   7e0: vshufps xmm2,xmm2,xmm2,0x55
#   7e5: vaddss xmm2,xmm3,xmm2
#   7e9: vmovss DWORD PTR [r14-0x4],xmm2
#   7ef: cmp QWORD PTR [rsp-0x18],r14
#   7f4: jne 71b <qgemv8_avx512+0x71b>
#   7fa: mov r12,QWORD PTR [rsp-0x58]
#   7ff: mov r9,QWORD PTR [rsp-0x60]
#   804: mov rax,QWORD PTR [rsp-0x68]
#   809: jmp 383 <qgemv8_avx512+0x383>
#   80e: mov r9,rdx
#   811: shl r9,0x4
#   815: vpmovzxbd zmm2,XMMWORD PTR [rbx+r9*1]
#   81c: mov r9,rdx
#   81f: shl rdx,0x6
#   823: sar r9,cl
#   826: vbroadcastss zmm5,DWORD PTR [r11+r9*4]
#   82d: vcvtdq2ps zmm2,zmm2
#   833: vfmadd132ps zmm2,zmm5,DWORD BCST [r10+r9*4]
#   83a: vfmadd231ps zmm3,zmm2,ZMMWORD PTR [rdi+rdx*1]
#   841: jmp 7aa <qgemv8_avx512+0x7aa>
#   846: vxorps xmm4,xmm4,xmm4
#   84a: xor edx,edx
#   84c: vmovaps zmm3,zmm4
#   852: jmp 7a5 <qgemv8_avx512+0x7a5>
#   857: cmp QWORD PTR [rbp+0x18],0x1f
#   85c: jle 871 <qgemv8_avx512+0x871>
#   85e: mov edx,0x1
#   863: add ecx,0x1
#   866: mov r10,rdx
#   869: shl r10,cl
#   86c: cmp r10,rsi
#   86f: jl 863 <qgemv8_avx512+0x863>
#   871: cmp QWORD PTR [rsp],0x0
#   876: jle 383 <qgemv8_avx512+0x383>
#   87c: mov r14,QWORD PTR [rsp-0x20]
#   881: vmovq rdx,xmm12
#   886: mov QWORD PTR [rsp-0x68],rax
#   88b: mov rbx,QWORD PTR [rsp-0x28]
#   890: mov r11,QWORD PTR [rsp-0x38]
#   895: mov QWORD PTR [rsp-0x58],r12
#   89a: add rdx,r14
#   89d: mov QWORD PTR [rsp-0x60],r9
#   8a2: mov r10,QWORD PTR [rsp-0x30]
#   8a7: mov QWORD PTR [rsp-0x18],rdx
#   8ac: mov rax,QWORD PTR [rsp-0x10]
#   8b1: cmp r15,0x1f
#   8b5: jle 9f2 <qgemv8_avx512+0x9f2>
#   8bb: vxorps xmm6,xmm6,xmm6
#   8bf: xor edx,edx
#   8c1: mov r9d,0x1
#   8c7: vmovaps zmm3,zmm6
#   8cd: vmovaps zmm4,zmm6
#   8d3: vmovaps zmm5,zmm6
#   8d9: nop DWORD PTR [rax+0x0]
#   8e0: lea r12,[r9-0x1]
#   8e4: vpmovzxbd zmm2,XMMWORD PTR [rbx+rdx*1]
#   8eb: sar r12,cl
#   8ee: vbroadcastss zmm7,DWORD PTR [r11+r12*4]
#   8f5: vcvtdq2ps zmm2,zmm2
#   8fb: vfmadd132ps zmm2,zmm7,DWORD BCST [r10+r12*4]
#   902: mov r12,r9
#   905: add r9,0x2
#   909: sar r12,cl
#   90c: vfmadd231ps zmm5,zmm2,ZMMWORD PTR [rdi+rdx*4]
#   913: vfmadd231ps zmm3,zmm2,ZMMWORD PTR [r8+rdx*4]
#   91a: vbroadcastss zmm1,DWORD PTR [r11+r12*4]
#   921: vpmovzxbd zmm2,XMMWORD PTR [rdx+rbx*1+0x10]
#   929: vcvtdq2ps zmm2,zmm2
#   92f: vfmadd132ps zmm2,zmm1,DWORD BCST [r10+r12*4]
#   936: vfmadd231ps zmm4,zmm2,ZMMWORD PTR [rdi+rdx*4+0x40]
#   93e: vfmadd231ps zmm6,zmm2,ZMMWORD PTR [r8+rdx*4+0x40]
#   946: add rdx,0x20
#   94a: cmp r9,r13
#   94d: jl 8e0 <qgemv8_avx512+0x8e0>
#   94f: mov rdx,QWORD PTR [rsp-0x8]
#   954: cmp r13,rdx
#   957: jg a13 <qgemv8_avx512+0xa13>
#   95d: vaddps zmm4,zmm4,zmm5
#   963: mov rdx,QWORD PTR [rsp]
#   967: add rbx,r15
#   96a: add r11,rax
#   96d: vaddps zmm3,zmm3,zmm6
#   973: add r10,rax
#   976: vextractf64x4 ymm2,zmm4,0x1
#   97d: vaddps ymm2,ymm2,ymm4
#   981: vextractf128 xmm4,ymm2,0x1
#   987: vaddps xmm4,xmm4,xmm2
#   98b: vpermilps xmm2,xmm4,0x4e
#   991: vaddps xmm2,xmm2,xmm4
#   995: vmovaps xmm4,xmm2
#   999: vshufps xmm2,xmm2,xmm2,0x55
#   99e: vaddss xmm2,xmm4,xmm2
#   9a2: vmovss DWORD PTR [r14],xmm2
#   9a7: vextractf64x4 ymm2,zmm3,0x1
#   9ae: vaddps ymm2,ymm2,ymm3
#   9b2: vextractf128 xmm3,ymm2,0x1
#   9b8: vaddps xmm3,xmm3,xmm2
#   9bc: vpermilps xmm2,xmm3,0x4e
#   9c2: vaddps xmm2,xmm2,xmm3
#   9c6: vmovaps xmm3,xmm2
#   9ca: vshufps xmm2,xmm2,xmm2,0x55
#   9cf: vaddss xmm2,xmm3,xmm2
#   9d3: vmovss DWORD PTR [r14+rdx*4],xmm2
#   9d9: add r14,0x4
#   9dd: cmp QWORD PTR [rsp-0x18],r14
#   9e2: je 7fa <qgemv8_avx512+0x7fa>
#   9e8: cmp r15,0x1f
#   9ec: jg 8bb <qgemv8_avx512+0x8bb>
#   9f2: vxorps xmm6,xmm6,xmm6
#   9f6: xor edx,edx
#   9f8: vmovaps zmm3,zmm6
#   9fe: vmovaps zmm4,zmm6
#   a04: vmovaps zmm5,zmm6
#   a0a: cmp r13,rdx
#   a0d: jle 95d <qgemv8_avx512+0x95d>
#   a13: mov r9,rdx
#   a16: mov r12,rdx
#   a19: shl rdx,0x6
#   a1d: shl r9,0x4
#   a21: sar r12,cl
#   a24: vpmovzxbd zmm2,XMMWORD PTR [rbx+r9*1]
#   a2b: vbroadcastss zmm7,DWORD PTR [r11+r12*4]
#   a32: add r9,r15
#   a35: vcvtdq2ps zmm2,zmm2
#   a3b: vfmadd132ps zmm2,zmm7,DWORD BCST [r10+r12*4]
#   a42: vfmadd231ps zmm5,zmm2,ZMMWORD PTR [rdi+rdx*1]
#   a49: vfmadd231ps zmm3,zmm2,ZMMWORD PTR [rdi+r9*4]
#   a50: jmp 95d <qgemv8_avx512+0x95d>
CODE["qgemv8_avx512"] = bytes.fromhex(
    "554889e54157415641554154534883e4c04883ec0848897c24d848897424d0488b7d204c8b7d1048895424c84c890c24"
    "4885ff0f8e740300004d85ff4d8d6f0f4889c8488b4d184d0f49ef4c894424e0488d57fc4c89cb4883c10f49c1fd0448"
    "837d1800480f494d1848c1f9044889ce4b8d0c09c461f96ec94c01c9c461f96ed14c89c948c1e10448894c24b04c89f9"
    "48c1e10448894c24b84a8d0cbd000000004c8d0408488d47ffc4e1f96ec14883e0fc4d8d0c08c5796fe84829c24c89f8"
    "4d8d240948895424c0489948f77d1848c1e00248894424f0488d049d00000000c4e1f96ec8498d45fe48d1e84983ff1f"
    "c5796fe1488d540002b802000000480f4fc248894424f84889f84c89c7c461f97eeb31c94829df4883f8010f84a00500"
    "004883f8020f842c0700004883f8030f841303000048837d181f7e140f1f400083c101ba0100000048d3e24839d67ff0"
    "48833c24000f8e280200004c8b7424e0c461f97ee248894424a8488b5c24d84c8b5c24c848897424a04c01f24c8b5424"
    "d048895424e8662e0f1f8400000000004983ff1f0f8e79020000c5e057db31c0ba0100000062f17c4828eb62f17c4828"
    "fb62f17c4828cb62717c4828c362f17c4828d362f17c4828e362f17c4828f390488d72ff62f27d4831040348d3fe6252"
    "7d481834b362f17c485bc062d20d589804b24889d64883c20248d3fe62f27d48b8348762d27d48b8148062d27d48b80c"
    "8162d27d48b82c8462527d48183cb362f27d483144030162f17c485bc062d205589804b262f27d48b864870162527d48"
    "b844800162d27d48b87c810162d27d48b85c84014883c0204939d50f8f6fffffff488b4424f84939c50f8f4d01000062"
    "f15c4858e662d16c4858d0488b04244c01fb62f1744858cf62f1644858dd62f3fd481be601c5cc58e4c4e37d19e601c5"
    "c858f4c4e37904e64ec5d858e6c5f828f4c5d8c6e455c5ca58e4c4c17a112662f3fd481bd401c5dc58d2c4e37d19d401"
    "c5d858e2c4e37904d44ec5e858d4c5f828e2c5e8c6d255c5da58d2c4c17a11148662f3fd481bca01c461f97ec8c5ec58"
    "d1c4e37d19d401c5d858e2c4e37904d44ec5e858d4c5f828e2c5e8c6d255c5da58d2c4c17a11148662f3fd481bda01c4"
    "61f97ed0c5ec58d3c4e37d19d301c5e058dac4e37904d34ec5e858d3c5f828dac5e8c6d255c5e258d2c4c17a11148648"
    "8b4424f04983c6044901c34901c24c397424e80f8517feffff488b4424a8488b7424a0488b5c24b048015c24e04883e8"
    "04488b5c24b84901d84901d94901dc48394424c00f8560fdffffc5f877488d65d85b415c415d415e415f5dc34889c648"
    "89c248c1e00648c1e60448d3fa62727d48311c3362d27d4818049362517c485bdb62527d58981c9262f22548b8340749"
    "8d043762f22548b814874c01f862f22548b80c874c01f862f22548b82c87e95cfeffffc5e057db31c062f17c4828eb62"
    "f17c4828fb62f17c4828cb62717c4828c362f17c4828d362f17c4828e362f17c4828f3e91efeffff48837d181f7e1083"
    "c101ba0100000048d3e24839f27cf048833c24000f8e19ffffff4c8b7424e0c461f97ee248894424a0c5797fc9488b5c"
    "24d84c8b5c24c848897424984c01f24c896424a84c8b5424d048895424e84c8b6424f04983ff1f0f8eeb010000c5c057"
    "ff31c0ba0100000062f17c4828d762f17c4828df62f17c4828ef62f17c4828e762f17c4828f7662e0f1f840000000000"
    "488d72ff62f27d4831040348d3fe62527d48181cb362f17c485bc062d225589804b24889d64883c20248d3fe62f27d48"
    "b8348762d27d48b82c8062d27d48b8148162527d48181cb362f27d483144180162f17c485bc062d225589804b262f27d"
    "48b864870162d27d48b85c800162d27d48b87c81014883c0204c39ea7c82488b4424f84939c50f8fe000000062f15c48"
    "58e6488b04244c01fb4d01e362f1644858dd62f16c4858d74d01e262f3fd481be601c5cc58e4c4e37d19e601c5c858f4"
    "c4e37904e64ec5d858e6c5f828f4c5d8c6e455c5ca58e4c4c17a112662f3fd481bdc01c5dc58dbc4e37d19dc01c5d858"
    "e3c4e37904dc4ec5e058dcc5f828e3c5e0c6db55c5da58dbc4c17a111c8662f3fd481bd301c4e1f97ec8c5e458d2c4e3"
    "7d19d301c5e058dac4e37904d34ec5e858d3c5f828dac5e8c6d255c5e258d2c4c17a1114864983c6044c397424e80f85"
    "6ffeffff4c8b6424a8488b4424a0c5796fc9488b742498e937fdffff4889c24889c648c1e00648c1e20448d3fe62727d"
    "4831041362d27d481804b34c01fa62517c485bc062527d589804b262f23d48b82c974c01fa62f23d48b8340762f23d48"
    "b81497e9d4feffffc5c057ff31c062f17c4828d762f17c4828df62f17c4828ef62f17c4828e762f17c4828f7e9a2feff"
    "ff48837d181f7e13ba0100000083c1014989d249d3e24939f27cf248833c24000f8e9dfcffff4c8b7424e0c461f97ee2"
    "4c896424a8488b5c24d84c8b5c24c84c894c24a04c01f248894424984c8b5424d048895424e8488b4424f04983ff1f0f"
    "8e21010000c5d857e441b90100000031d262f17c4828dc660f1f8400000000004d8d61ff62f27d4831141349d3fc6292"
    "7d48183ca362f17c485bd2629245589814a24d89cc4983c10249d3fc62f26d48b81c9762f27d4831541a0162927d4818"
    "2ca362f17c485bd2629255589814a262f26d48b86497014883c2204d39e97ca0488b5424f84939d57f6462f1644858dc"
    "4983c6044c01fb4901c34901c262f3fd481bda01c5ec58d3c4e37d19d301c5e058dac4e37904d34ec5e858d3c5f828da"
    "c5e8c6d255c5e258d2c4c17a1156fc4c397424e80f8521ffffff4c8b6424a84c8b4c24a0488b442498e975fbffff4989"
    "d149c1e10462b27d4831140b4989d148c1e20649d3f962927d48182c8b62f17c485bd26292555898148a62f26d48b81c"
    "17e964ffffffc5d857e431d262f17c4828dce94effffff48837d181f7e13ba0100000083c1014989d249d3e24939f27c"
    "f248833c24000f8e07fbffff4c8b7424e0c461f97ee24889442498488b5c24d84c8b5c24c84c896424a84c01f24c894c"
    "24a04c8b5424d048895424e8488b4424f04983ff1f0f8e37010000c5c857f631d241b90100000062f17c4828de62f17c"
    "4828e662f17c4828ee0f1f80000000004d8d61ff62f27d4831141349d3fc62927d48183ca362f17c485bd26292455898"
    "14a24d89cc4983c10249d3fc62f26d48b82c9762d26d48b81c9062927d48180ca362f27d4831541a0162f17c485bd262"
    "9275589814a262f26d48b864970162d26d48b87490014883c2204d39e97c91488b5424f84939d50f8fb600000062f15c"
    "4858e5488b14244c01fb4901c362f1644858de4901c262f3fd481be201c5ec58d4c4e37d19d401c5d858e2c4e37904d4"
    "4ec5e858d4c5f828e2c5e8c6d255c5da58d2c4c17a111662f3fd481bda01c5ec58d3c4e37d19d301c5e058dac4e37904"
    "d34ec5e858d3c5f828dac5e8c6d255c5e258d2c4c17a1114964983c6044c397424e80f8412feffff4983ff1f0f8fc9fe"
    "ffffc5c857f631d262f17c4828de62f17c4828e662f17c4828ee4939d50f8e4affffff4989d14989d448c1e20649c1e1"
    "0449d3fc62b27d4831140b62927d48183ca34d01f962f17c485bd2629245589814a262f26d48b82c1762b26d48b81c8f"
    "e908ffffff"
)

# qgemv4_avx2: 3047 bytes
#   0: push rbp
#   1: mov rbp,rsp
#   4: push r15
#   6: push r14
#   8: push r13
#   a: push r12
#   c: push rbx
#   d: and rsp,0xffffffffffffffe0
#   11: sub rsp,0x28
#   15: mov QWORD PTR [rsp-0x48],rdx
#   1a: mov rdx,rcx
#   1d: mov rcx,r8
#   20: mov QWORD PTR [rsp-0x38],rdi
#   25: mov r10,QWORD PTR [rbp+0x20]
#   29: mov r15,QWORD PTR [rbp+0x10]
#   2d: mov QWORD PTR [rsp-0x40],rsi
#   32: mov QWORD PTR [rsp+0x18],r9
#   37: mov r8,QWORD PTR [rbp+0x28]
#   3b: test r10,r10
#   3e: jle 489 <qgemv4_avx2+0x489>
#   44: lea rsi,[r15*4+0x0]
#   4c: mov r13,r8
#   4f: mov r9,r8
#   52: xor eax,eax
#   54: mov QWORD PTR [rsp-0x50],rsi
#   59: test r15,r15
#   5c: jle b3 <qgemv4_avx2+0xb3>
#   5e: lea r11,[rdx+0x40]
#   62: mov r12,r9
#   65: xor ebx,ebx
#   67: nop WORD PTR [rax+rax*1+0x0]
#   70: lea rdi,[r11-0x40]
#   74: mov r14,r12
#   77: nop WORD PTR [rax+rax*1+0x0]
#   80: vmovss xmm0,DWORD PTR [rdi]
#   84: add rdi,0x8
#   88: add r14,0x4
#   8c: vmovss DWORD PTR [r14-0x4],xmm0
#   92: vmovss xmm0,DWORD PTR [rdi-0x4]
#   97: vmovss DWORD PTR [r14+0x1c],xmm0
#   9d: cmp r11,rdi
#   a0: jne 80 <qgemv4_avx2+0x80>
#   a2: add rbx,0x10
#   a6: add r12,0x40
#   aa: add r11,0x40
#   ae: cmp r15,rbx
#   b1: jg 70 <qgemv4_avx2+0x70>
#   b3: lea rdi,[rax+0x1]
#   b7: add rdx,rsi
#   ba: add r9,rsi
#   bd: cmp r10,rdi
#   c0: je c7 <qgemv4_avx2+0xc7>
#   c2: mov rax,rdi
#   c5: jmp 59 <qgemv4_avx2+0x59>
#   c7: mov rdx,r15
#   ca: mov rbx,QWORD PTR [rbp+0x18]
#   ce: mov r9,r15
#   d1: mov rdi,r10
#   d4: shr rdx,0x3f
#   d8: add rdx,r15
#   db: sar rdx,1
#   de: test r15,r15
#   e1: mov QWORD PTR [rsp+0x8],rdx
#   e6: lea rdx,[r15+0xf]
#   ea: cmovns rdx,r15
#   ee: sar rdx,0x4
#   f2: test rbx,rbx
#   f5: mov r14,rdx
#   f8: lea rdx,[rbx+0xf]
#   fc: cmovns rdx,rbx
#   100: mov rbx,QWORD PTR [rsp+0x18]
#   105: and eax,0x3
#   108: sub rax,0x3
#   10c: mov rsi,rdx
#   10f: mov rdx,rbx
#   112: mov QWORD PTR [rsp-0x58],rax
#   117: mov rax,r15
#   11a: shl rdx,0x4
#   11e: sar rsi,0x4
#   122: mov QWORD PTR [rsp-0x68],rdx
#   127: lea rdx,[rbx*4+0x0]
#   12f: add rcx,rdx
#   132: mov QWORD PTR [rsp-0x30],rdx
#   137: lea rdx,[r15+r15*2]
#   13b: lea rbx,[rcx+rbx*8]
#   13f: mov QWORD PTR [rsp+0x20],rcx
#   144: mov QWORD PTR [rsp-0x8],rbx
#   149: mov rbx,r15
#   14c: shl rbx,0x4
#   150: mov QWORD PTR [rsp-0x60],rbx
#   155: lea rbx,[r8+rdx*4]
#   159: cqo
#   15b: idiv QWORD PTR [rbp+0x18]
#   15f: mov QWORD PTR [rsp-0x10],rbx
#   164: lea rbx,[rax*4+0x0]
#   16c: lea rax,[r14-0x2]
#   170: shr rax,1
#   173: cmp r15,0x1f
#   177: mov r15,rbx
#   17a: lea rdx,[rax+rax*1+0x2]
#   17f: mov eax,0x2
#   184: cmovg rax,rdx
#   188: mov QWORD PTR [rsp],rax
#   18c: mov eax,0xf
#   191: vmovd xmm12,eax
#   195: vpbroadcastd ymm12,xmm12
#   19a: vmovdqa ymm10,ymm12
#   19f: vmovdqa ymm11,ymm12
#   1a4: mov rax,QWORD PTR [rsp+0x20]
#   1a9: mov rbx,QWORD PTR [rsp-0x30]
#   1ae: sub rax,rbx
#   1b1: mov QWORD PTR [rsp+0x10],rax
#   1b6: cmp rdi,0x1
#   1ba: je 804 <qgemv4_avx2+0x804>
#   1c0: cmp rdi,0x2
#   1c4: je 9b2 <qgemv4_avx2+0x9b2>
#   1ca: xor ecx,ecx
#   1cc: cmp rdi,0x3
#   1d0: je 54b <qgemv4_avx2+0x54b>
#   1d6: cmp QWORD PTR [rbp+0x18],0x1f
#   1db: jle 1f6 <qgemv4_avx2+0x1f6>
#   1dd: mov eax,0x1
#   1e2: nop WORD PTR [rax+rax*1+0x0]
#   1e8: add ecx,0x1
#   1eb: mov rdx,rax
#   1ee: shl rdx,cl
#   1f1: cmp rsi,rdx
#   1f4: jg 1e8 <qgemv4_avx2+0x1e8>
#   1f6: cmp QWORD PTR [rsp+0x18],0x0
#   1fc: jle 45b <qgemv4_avx2+0x45b>
#   202: mov rdx,QWORD PTR [rsp-0x50]
#   207: mov QWORD PTR [rsp-0x70],rdi
#   20c: xor r12d,r12d
#   20f: mov rbx,QWORD PTR [rsp-0x38]
#   214: mov r11,QWORD PTR [rsp-0x40]
#   219: mov QWORD PTR [rbp+0x10],r9
#   21d: lea rax,[rdx+r13*1]
#   221: mov QWORD PTR [rsp-0x78],rsi
#   226: mov r10,QWORD PTR [rsp-0x48]
#   22b: mov QWORD PTR [rsp-0x28],rax
#   230: add rax,rdx
#   233: mov rdx,QWORD PTR [rsp+0x20]
#   238: mov QWORD PTR [rsp-0x20],rax
#   23d: mov rax,QWORD PTR [rsp-0x30]
#   242: add rax,rdx
#   245: mov QWORD PTR [rsp-0x18],rax
#   24a: nop WORD PTR [rax+rax*1+0x0]
#   250: cmp QWORD PTR [rbp+0x10],0x1f
#   255: jle 524 <qgemv4_avx2+0x524>
#   25b: vxorps xmm1,xmm1,xmm1
#   25f: mov r8,QWORD PTR [rsp-0x10]
#   264: mov rdi,QWORD PTR [rsp-0x20]
#   269: mov rdx,r13
#   26c: mov rsi,QWORD PTR [rsp-0x28]
#   271: vmovaps ymm3,ymm1
#   275: vmovaps ymm5,ymm1
#   279: vmovaps ymm7,ymm1
#   27d: vmovaps ymm6,ymm1
#   281: vmovaps ymm8,ymm1
#   285: vmovaps ymm9,ymm1
#   289: mov eax,0x1
#   28e: vmovaps ymm4,ymm1
#   292: nop WORD PTR [rax+rax*1+0x0]
#   298: lea r9,[rax-0x1]
#   29c: sub rdx,0xffffffffffffff80
#   2a0: sub rsi,0xffffffffffffff80
#   2a4: sub rdi,0xffffffffffffff80
#   2a8: vpmovzxbd ymm0,QWORD PTR [rbx+rax*8-0x8]
#   2af: sar r9,cl
#   2b2: sub r8,0xffffffffffffff80
#   2b6: vbroadcastss ymm14,DWORD PTR [r11+r9*4]
#   2bc: vbroadcastss ymm13,DWORD PTR [r10+r9*4]
#   2c2: mov r9,rax
#   2c5: vpand ymm2,ymm10,ymm0
#   2c9: vpsrld ymm0,ymm0,0x4
#   2ce: sar r9,cl
#   2d1: vcvtdq2ps ymm2,ymm2
#   2d5: vfmadd132ps ymm2,ymm13,ymm14
#   2da: vcvtdq2ps ymm0,ymm0
#   2de: vfmadd132ps ymm0,ymm13,ymm14
#   2e3: vfmadd231ps ymm4,ymm2,YMMWORD PTR [rdx-0x80]
#   2e9: vfmadd231ps ymm8,ymm2,YMMWORD PTR [rsi-0x80]
#   2ef: vfmadd231ps ymm7,ymm2,YMMWORD PTR [rdi-0x80]
#   2f5: vfmadd231ps ymm3,ymm2,YMMWORD PTR [r8-0x80]
#   2fb: vfmadd231ps ymm4,ymm0,YMMWORD PTR [rdx-0x60]
#   301: vfmadd231ps ymm8,ymm0,YMMWORD PTR [rsi-0x60]
#   307: vfmadd231ps ymm7,ymm0,YMMWORD PTR [rdi-0x60]
#   30d: vfmadd231ps ymm3,ymm0,YMMWORD PTR [r8-0x60]
#   313: vpmovzxbd ymm0,QWORD PTR [rbx+rax*8]
#   319: vbroadcastss ymm14,DWORD PTR [r11+r9*4]
#   31f: add rax,0x2
#   323: vbroadcastss ymm13,DWORD PTR [r10+r9*4]
#   329: vpand ymm2,ymm10,ymm0
#   32d: vpsrld ymm0,ymm0,0x4
#   332: vcvtdq2ps ymm2,ymm2
#   336: vfmadd132ps ymm2,ymm13,ymm14
#   33b: vcvtdq2ps ymm0,ymm0
#   33f: vfmadd132ps ymm0,ymm13,ymm14
#   344: vfmadd231ps ymm9,ymm2,YMMWORD PTR [rdx-0x40]
#   34a: vfmadd231ps ymm6,ymm2,YMMWORD PTR [rsi-0x40]
#   350: vfmadd231ps ymm5,ymm2,YMMWORD PTR [rdi-0x40]
#   356: vfmadd231ps ymm1,ymm2,YMMWORD PTR [r8-0x40]
#   35c: vfmadd231ps ymm9,ymm0,YMMWORD PTR [rdx-0x20]
#   362: vfmadd231ps ymm6,ymm0,YMMWORD PTR [rsi-0x20]
#   368: vfmadd231ps ymm5,ymm0,YMMWORD PTR [rdi-0x20]
#   36e: vfmadd231ps ymm1,ymm0,YMMWORD PTR [r8-0x20]
#   374: cmp r14,rax
#   377: jg 298 <qgemv4_avx2+0x298>
#   37d: mov rax,QWORD PTR [rsp]
#   381: cmp rax,r14
#   384: jl 498 <qgemv4_avx2+0x498>
#   38a: vaddps ymm4,ymm4,ymm9
#   38f: vaddps ymm6,ymm6,ymm8
#   394: mov rax,QWORD PTR [rsp+0x10]
#   399: add r11,r15
#   39c: vaddps ymm5,ymm5,ymm7
#   3a0: vaddps ymm1,ymm1,ymm3
#   3a4: add r10,r15
#   3a7: vextractf128 xmm0,ymm4,0x1
#   3ad: vaddps xmm0,xmm0,xmm4
#   3b1: vmovhlps xmm2,xmm0,xmm0
#   3b5: vaddps xmm0,xmm0,xmm2
#   3b9: vmovshdup xmm2,xmm0
#   3bd: vaddss xmm0,xmm0,xmm2
#   3c1: vmovss DWORD PTR [rax+r12*4],xmm0
#   3c7: vextractf128 xmm0,ymm6,0x1
#   3cd: mov rax,QWORD PTR [rsp+0x20]
#   3d2: vaddps xmm0,xmm0,xmm6
#   3d6: vmovhlps xmm2,xmm0,xmm0
#   3da: vaddps xmm0,xmm0,xmm2
#   3de: vmovshdup xmm2,xmm0
#   3e2: vaddss xmm0,xmm0,xmm2
#   3e6: vmovss DWORD PTR [rax+r12*4],xmm0
#   3ec: vextractf128 xmm0,ymm5,0x1
#   3f2: mov rax,QWORD PTR [rsp-0x18]
#   3f7: vaddps xmm0,xmm0,xmm5
#   3fb: vmovhlps xmm2,xmm0,xmm0
#   3ff: vaddps xmm0,xmm0,xmm2
#   403: vmovshdup xmm2,xmm0
#   407: vaddss xmm0,xmm0,xmm2
#   40b: vmovss DWORD PTR [rax+r12*4],xmm0
#   411: vextractf128 xmm0,ymm1,0x1
#   417: mov rax,QWORD PTR [rsp-0x8]
#   41c: vaddps xmm0,xmm0,xmm1
#   420: vmovhlps xmm1,xmm0,xmm0
#   424: vaddps xmm0,xmm0,xmm1
#   428: vmovshdup xmm1,xmm0
#   42c: vaddss xmm0,xmm0,xmm1
#   430: vmovss DWORD PTR [rax+r12*4],xmm0
#   436: mov rax,QWORD PTR [rsp+0x8]
#   43b: add r12,0x1
#   43f: add rbx,rax
#   442: cmp QWORD PTR [rsp+0x18],r12
#   447: jne 250 <qgemv4_avx2+0x250>
#   44d: mov rdi,QWORD PTR [rsp-0x70]
#   452: mov r9,QWORD PTR [rbp+0x10]
#   456: mov rsi,QWORD PTR [rsp-0x78]
#   45b: mov rax,QWORD PTR [rsp-0x60]
#   460: mov rbx,QWORD PTR [rsp-0x68]
#   465: sub rdi,0x4
#   469: add QWORD PTR [rsp+0x20],rbx
#   46e: add QWORD PTR [rsp-0x8],rbx
#   473: add r13,rax
#   476: add QWORD PTR [rsp-0x10],rax
#   47b: cmp QWORD PTR [rsp-0x58],rdi
#   480: jne 1a4 <qgemv4_avx2+0x1a4>
#   486: vzeroupper
#   489: lea rsp,[rbp-0x28]
#   48d: pop rbx
#   48e: pop r12
#   490: pop r13
#   492: pop r14
#   494: pop r15
#   496: pop rbp
#   497: ret
#   498: mov rdx,rax
#   49b: vpmovzxbd ymm0,QWORD PTR [rbx+rax*8]
#   4a1: sar rdx,cl
#   4a4: vbroadcastss ymm14,DWORD PTR [r11+rdx*4]
#   4aa: vbroadcastss ymm13,DWORD PTR [r10+rdx*4]
#   4b0: vpand ymm2,ymm0,ymm12
#   4b5: mov rdx,rax
#   4b8: vpsrld ymm0,ymm0,0x4
#   4bd: shl rax,0x4
#   4c1: vcvtdq2ps ymm2,ymm2
#   4c5: add rax,QWORD PTR [rbp+0x10]
#   4c9: vfmadd132ps ymm2,ymm13,ymm14
#   4ce: vcvtdq2ps ymm0,ymm0
#   4d2: vfmadd132ps ymm0,ymm13,ymm14
#   4d7: shl rdx,0x6
#   4db: vfmadd231ps ymm8,ymm2,YMMWORD PTR [r13+rax*4+0x0]
#   4e2: add rdx,r13
#   4e5: vfmadd231ps ymm8,ymm0,YMMWORD PTR [r13+rax*4+0x20]
#   4ec: add rax,QWORD PTR [rbp+0x10]
#   4f0: vfmadd231ps ymm7,ymm2,YMMWORD PTR [r13+rax*4+0x0]
#   4f7: vfmadd231ps ymm4,ymm2,YMMWORD PTR [rdx]
#   4fc: vfmadd231ps ymm7,ymm0,YMMWORD PTR [r13+rax*4+0x20]
#   503: add rax,QWORD PTR [rbp+0x10]
#   507: vfmadd132ps ymm2,ymm3,YMMWORD PTR [r13+rax*4+0x0]
#   50e: vfmadd231ps ymm4,ymm0,YMMWORD PTR [rdx+0x20]
#   514: vmovaps ymm3,ymm0
#   518: vfmadd132ps ymm3,ymm2,YMMWORD PTR [r13+rax*4+0x20]
#   51f: jmp 38a <qgemv4_avx2+0x38a>
#   524: vxorps xmm1,xmm1,xmm1
#   528: xor eax,eax
#   52a: vmovaps ymm3,ymm1
#   52e: vmovaps ymm5,ymm1
#   532: vmovaps ymm7,ymm1
#   536: vmovaps ymm6,ymm1
#   53a: vmovaps ymm8,ymm1
#   53e: vmovaps ymm9,ymm1
#   542: vmovaps ymm4,ymm1
#   546: jmp 381 <qgemv4_avx2+0x381>
#   54b: cmp QWORD PTR [rbp+0x18],0x1f
#   550: jle 565 <qgemv4_avx2+0x565>
#   552: mov eax,0x1
#   557: add ecx,0x1
#   55a: mov rdx,rax
#   55d: shl rdx,cl
#   560: cmp rdx,rsi
#   563: jl 557 <qgemv4_avx2+0x557>
#   565: cmp QWORD PTR [rsp+0x18],0x0
#   56b: jle 45b <qgemv4_avx2+0x45b>
#   571: mov rdx,QWORD PTR [rsp-0x50]
#   576: mov QWORD PTR [rsp-0x70],rdi
#   57b: xor r12d,r12d
#   57e: mov rbx,QWORD PTR [rsp-0x38]
#   583: mov r11,QWORD PTR [rsp-0x40]
#   588: mov QWORD PTR [rsp-0x78],rsi
#   58d: lea rax,[rdx+r13*1]
#   591: mov r10,QWORD PTR [rsp-0x48]
#   596: mov QWORD PTR [rsp-0x28],rax
#   59b: add rax,rdx
#   59e: mov rdx,QWORD PTR [rsp+0x20]
#   5a3: mov QWORD PTR [rsp-0x20],rax
#   5a8: mov rax,QWORD PTR [rsp-0x30]
#   5ad: add rax,rdx
#   5b0: mov QWORD PTR [rsp-0x18],rax
#   5b5: cmp r9,0x1f
#   5b9: jle 7e5 <qgemv4_avx2+0x7e5>
#   5bf: vxorps xmm0,xmm0,xmm0
#   5c3: mov rdi,QWORD PTR [rsp-0x20]
#   5c8: mov rsi,QWORD PTR [rsp-0x28]
#   5cd: mov rdx,r13
#   5d0: vmovaps ymm1,ymm0
#   5d4: vmovaps ymm4,ymm0
#   5d8: vmovaps ymm5,ymm0
#   5dc: mov eax,0x1
#   5e1: vmovaps ymm6,ymm0
#   5e5: vmovaps ymm3,ymm0
#   5e9: nop DWORD PTR [rax+0x0]
#   5f0: lea r8,[rax-0x1]
#   5f4: sub rdx,0xffffffffffffff80
#   5f8: sub rsi,0xffffffffffffff80
#   5fc: sub rdi,0xffffffffffffff80
#   600: vpmovzxbd ymm2,QWORD PTR [rbx+rax*8-0x8]
#   607: sar r8,cl
#   60a: vbroadcastss ymm9,DWORD PTR [r11+r8*4]
#   610: vbroadcastss ymm8,DWORD PTR [r10+r8*4]
#   616: mov r8,rax
#   619: vpand ymm7,ymm11,ymm2
#   61d: vpsrld ymm2,ymm2,0x4
#   622: sar r8,cl
#   625: vcvtdq2ps ymm7,ymm7
#   629: vfmadd132ps ymm7,ymm8,ymm9
#   62e: vcvtdq2ps ymm2,ymm2
#   632: vfmadd132ps ymm2,ymm8,ymm9
#   637: vfmadd231ps ymm3,ymm7,YMMWORD PTR [rdx-0x80]
#   63d: vfmadd231ps ymm5,ymm7,YMMWORD PTR [rsi-0x80]
#   643: vfmadd231ps ymm1,ymm7,YMMWORD PTR [rdi-0x80]
#   649: vfmadd231ps ymm3,ymm2,YMMWORD PTR [rdx-0x60]
#   64f: vfmadd231ps ymm5,ymm2,YMMWORD PTR [rsi-0x60]
#   655: vfmadd231ps ymm1,ymm2,YMMWORD PTR [rdi-0x60]
#   65b: vpmovzxbd ymm2,QWORD PTR [rbx+rax*8]
#   661: vbroadcastss ymm9,DWORD PTR [r11+r8*4]
#   667: add rax,0x2
#   66b: vbroadcastss ymm8,DWORD PTR [r10+r8*4]
#   671: vpand ymm7,ymm11,ymm2
#   675: vpsrld ymm2,ymm2,0x4
#   67a: vcvtdq2ps ymm7,ymm7
#   67e: vfmadd132ps ymm7,ymm8,ymm9
#   683: vcvtdq2ps ymm2,ymm2
#   687: vfmadd132ps ymm2,ymm8,ymm9
#   68c: vfmadd231ps ymm6,ymm7,YMMWORD PTR [rdx-0x40]
#   692: vfmadd231ps ymm4,ymm7,YMMWORD PTR [rsi-0x40]
#   698: vfmadd231ps ymm0,ymm7,YMMWORD PTR [rdi-0x40]
#   69e: vfmadd231ps ymm6,ymm2,YMMWORD PTR [rdx-0x20]
#   6a4: vfmadd231ps ymm4,ymm2,YMMWORD PTR [rsi-0x20]
#   6aa: vfmadd231ps ymm0,ymm2,YMMWORD PTR [rdi-0x20]
#   6b0: cmp rax,r14
#   6b3: jl 5f0 <qgemv4_avx2+0x5f0>
#   6b9: mov rax,QWORD PTR [rsp]
#   6bd: cmp r14,rax
#   6c0: jg 76d <qgemv4_avx2+0x76d>
#   6c6: vaddps ymm3,ymm3,ymm6
#   6ca: vaddps ymm4,ymm4,ymm5
#   6ce: mov rax,QWORD PTR [rsp+0x10]
#   6d3: add r11,r15
#   6d6: vaddps ymm0,ymm0,ymm1
#   6da: add r10,r15
#   6dd: vextractf128 xmm2,ymm3,0x1
#   6e3: vaddps xmm2,xmm2,xmm3
#   6e7: vextractf128 xmm1,ymm0,0x1
#   6ed: vaddps xmm0,xmm1,xmm0
#   6f1: vmovhlps xmm3,xmm2,xmm2
#   6f5: vaddps xmm2,xmm2,xmm3
#   6f9: vmovhlps xmm1,xmm0,xmm0
#   6fd: vaddps xmm0,xmm0,xmm1
#   701: vmovshdup xmm3,xmm2
#   705: vmovshdup xmm1,xmm0
#   709: vaddss xmm2,xmm2,xmm3
#   70d: vaddss xmm0,xmm0,xmm1
#   711: vmovss DWORD PTR [rax+r12*4],xmm2
#   717: vextractf128 xmm2,ymm4,0x1
#   71d: mov rax,QWORD PTR [rsp+0x20]
#   722: vaddps xmm2,xmm2,xmm4
#   726: vmovhlps xmm3,xmm2,xmm2
#   72a: vaddps xmm2,xmm2,xmm3
#   72e: vmovshdup xmm3,xmm2
#   732: vaddss xmm2,xmm2,xmm3
#   736: vmovss DWORD PTR [rax+r12*4],xmm2
#   73c: mov rax,QWORD PTR [rsp-0x18]
#   741: vmovss DWORD PTR [rax+r12*4],xmm0
#   747: mov rax,QWORD PTR [rsp+0x8]
#   74c: add r12,0x1
#   750: add rbx,rax
#   753: cmp QWORD PTR [rsp+0x18],r12
#   758: jne 5b5 <qgemv4_avx2+0x5b5>
#   75e: mov rdi,QWORD PTR [rsp-0x70]
#   763: mov rsi,QWORD PTR [rsp-0x78]
#   768: jmp 45b <qgemv4_avx2+0x45b>
#   76d: mov rdx,rax
#   770: vpmovzxbd ymm2,QWORD PTR [rbx+rax*8]
#   776: sar rdx,cl
#   779: vbroadcastss ymm9,DWORD PTR [r11+rdx*4]
#   77f: vbroadcastss ymm8,DWORD PTR [r10+rdx*4]
#   785: vpand ymm7,ymm2,ymm12
#   78a: vpsrld ymm2,ymm2,0x4
#   78f: mov rdx,rax
#   792: vcvtdq2ps ymm2,ymm2
#   796: shl rax,0x4
#   79a: vcvtdq2ps ymm7,ymm7
#   79e: vfmadd132ps ymm2,ymm8,ymm9
#   7a3: vfmadd132ps ymm7,ymm8,ymm9
#   7a8: add rax,r9
#   7ab: shl rdx,0x6
#   7af: vfmadd231ps ymm5,ymm7,YMMWORD PTR [r13+rax*4+0x0]
#   7b6: add rdx,r13
#   7b9: vfmadd231ps ymm5,ymm2,YMMWORD PTR [r13+rax*4+0x20]
#   7c0: vfmadd231ps ymm3,ymm7,YMMWORD PTR [rdx]
#   7c5: add rax,r9
#   7c8: vfmadd132ps ymm7,ymm1,YMMWORD PTR [r13+rax*4+0x0]
#   7cf: vfmadd231ps ymm3,ymm2,YMMWORD PTR [rdx+0x20]
#   7d5: vmovaps ymm1,ymm2
#   7d9: vfmadd132ps ymm1,ymm7,YMMWORD PTR [r13+rax*4+0x20]
#   7e0: jmp 6c6 <qgemv4_avx2+0x6c6>
#   7e5: vxorps xmm0,xmm0,xmm0
#   7e9: xor eax,eax
#   7eb: vmovaps ymm1,ymm0
#   7ef: vmovaps ymm4,ymm0
#   7f3: vmovaps ymm5,ymm0
#   7f7: vmovaps ymm6,ymm0
#   7fb: vmovaps ymm3,ymm0
#   7ff: jmp 6bd <qgemv4_avx2+0x6bd>
#   804: mov eax,0xf
#   809: xor ecx,ecx
#   80b: cmp QWORD PTR [rbp+0x18],0x1f
#   810: vmovd xmm2,eax
#   814: vpbroadcastd ymm2,xmm2
#   819: jle 82e <qgemv4_avx2+0x82e>
#   81b: mov eax,0x1
#   820: add ecx,0x1
#   823: mov rdx,rax
#   826: shl rdx,cl
#   829: cmp rdx,rsi
#   82c: jl 820 <qgemv4_avx2+0x820>
#   82e: cmp QWORD PTR [rsp+0x18],0x0
#   834: jle 45b <qgemv4_avx2+0x45b>
#   83a: mov r11,QWORD PTR [rsp-0x38]
#   83f: mov r10,QWORD PTR [rsp-0x40]
#   844: xor ebx,ebx
#   846: vmovdqa ymm3,ymm2
#   84a: mov r8,QWORD PTR [rsp-0x48]
#   84f: cmp r9,0x1f
#   853: jle 959 <qgemv4_avx2+0x959>
#   859: vxorps xmm1,xmm1,xmm1
#   85d: mov rdx,r13
#   860: mov eax,0x1
#   865: vmovaps ymm0,ymm1
#   869: nop DWORD PTR [rax+0x0]
#   870: lea r12,[rax-0x1]
#   874: vpmovzxbd ymm7,QWORD PTR [r11+rax*8-0x8]
#   87b: sub rdx,0xffffffffffffff80
#   87f: sar r12,cl
#   882: vbroadcastss ymm5,DWORD PTR [r8+r12*4]
#   888: vbroadcastss ymm6,DWORD PTR [r10+r12*4]
#   88e: vpand ymm4,ymm3,ymm7
#   892: mov r12,rax
#   895: vpsrld ymm7,ymm7,0x4
#   89a: vcvtdq2ps ymm4,ymm4
#   89e: sar r12,cl
#   8a1: vfmadd132ps ymm4,ymm5,ymm6
#   8a6: vcvtdq2ps ymm7,ymm7
#   8aa: vfmadd132ps ymm6,ymm5,ymm7
#   8af: vpmovzxbd ymm7,QWORD PTR [r11+rax*8]
#   8b5: vfmadd231ps ymm0,ymm4,YMMWORD PTR [rdx-0x80]
#   8bb: vbroadcastss ymm5,DWORD PTR [r8+r12*4]
#   8c1: add rax,0x2
#   8c5: vfmadd231ps ymm0,ymm6,YMMWORD PTR [rdx-0x60]
#   8cb: vbroadcastss ymm6,DWORD PTR [r10+r12*4]
#   8d1: vpand ymm4,ymm3,ymm7
#   8d5: vcvtdq2ps ymm4,ymm4
#   8d9: vpsrld ymm7,ymm7,0x4
#   8de: vfmadd132ps ymm4,ymm5,ymm6
#   8e3: vcvtdq2ps ymm7,ymm7
#   8e7: vfmadd231ps ymm5,ymm7,ymm6
#   8ec: vfmadd231ps ymm1,ymm4,YMMWORD PTR [rdx-0x40]
#   8f2: vfmadd231ps ymm1,ymm5,YMMWORD PTR [rdx-0x20]
#   8f8: cmp rax,r14
#   8fb: jl 870 <qgemv4_avx2+0x870>
#   901: mov rax,QWORD PTR [rsp]
#   905: cmp r14,rax
#   908: jg 968 <qgemv4_avx2+0x968>
#   90a: vaddps ymm0,ymm0,ymm1
#   90e: mov rax,QWORD PTR [rsp+0x10]
#   913: add r10,r15
#   916: add r8,r15
#   919: vextractf128 xmm1,ymm0,0x1
#   91f: vaddps xmm0,xmm1,xmm0
#   923: vmovhlps xmm1,xmm0,xmm0
#   927: vaddps xmm0,xmm0,xmm1
#   92b: vmovshdup xmm1,xmm0
#   92f: vaddss xmm0,xmm0,xmm1
#   933: vmovss DWORD PTR [rax+rbx*4],xmm0
#   938: mov rax,QWORD PTR [rsp+0x8]
#   93d: add rbx,0x1
#   941: add r11,rax
#   944: cmp QWORD PTR [rsp+0x18],rbx
#   949: je 45b <qgemv4_avx2+0x45b>
#   94f: cmp r9,0x1f
#   953: jg 859 <qgemv4_avx2+0x859>
#   959: vxorps xmm1,xmm1,xmm1
#   95d: xor eax,eax
#   95f: vmovaps ymm0,ymm1
#   963: cmp r14,rax
#   966: jle 90a <qgemv4_avx2+0x90a>
#   968: mov rdx,rax
#   96b: vpmovzxbd ymm4,QWORD PTR [r11+rax*8]
#   971: shl rax,0x6
#   975: sar rdx,cl
#   978: add rax,r13
#   97b: vbroadcastss ymm7,DWORD PTR [r10+rdx*4]
#   981: vbroadcastss ymm6,DWORD PTR [r8+rdx*4]
#   987: vpand ymm5,ymm4,ymm2
#   98b: vpsrld ymm4,ymm4,0x4
#   990: vcvtdq2ps ymm5,ymm5
#   994: vcvtdq2ps ymm4,ymm4
#   998: vfmadd132ps ymm5,ymm6,ymm7
#   99d: vfmadd132ps ymm4,ymm6,ymm7
#   9a2: vfmadd231ps ymm0,ymm5,YMMWORD PTR [rax]
#   9a7: vfmadd231ps ymm0,ymm4,YMMWORD PTR [rax+0x20]
#   9ad: jmp 90a <qgemv4_avx2+0x90a>
#   9b2: mov eax,0xf
#   9b7: xor ecx,ecx
#   9b9: cmp QWORD PTR [rbp+0x18],0x1f
#   9be: vmovd xmm6,eax
#   9c2: vpbroadcastd ymm6,xmm6
#   9c7: jle 9dc <qgemv4_avx2+0x9dc>
#   9c9: mov eax,0x1
#   9ce: add ecx,0x1
#   9d1: mov rdx,rax
#   9d4: shl rdx,cl
#   9d7: cmp rdx,rsi
#   9da: jl 9ce <qgemv4_avx2+0x9ce>
#   9dc: cmp QWORD PTR [rsp+0x18],0x0
#   9e2: jle 45b <qgemv4_avx2+0x45b>
#   9e8: mov rax,QWORD PTR [rsp-0x50]
#   9ed: mov QWORD PTR [rsp-0x18],rdi
#   9f2: xor ebx,ebx
#   9f4: vmovdqa ymm5,ymm6
#   9f8: mov r11,QWORD PTR [rsp-0x38]
#   9fd: mov r10,QWORD PTR [rsp-0x40]
#   a02: mov QWORD PTR [rsp-0x20],rsi
#   a07: mov r8,QWORD PTR [rsp-0x48]
#   a0c: lea r12,[rax+r13*1]
#   a10: cmp r9,0x1f
#   a14: jle bd0 <qgemv4_avx2+0xbd0>
#   a1a: vxorps xmm1,xmm1,xmm1
#   a1e: mov rsi,r12
#   a21: mov rdx,r13
#   a24: mov eax,0x1
#   a29: vmovaps ymm0,ymm1
#   a2d: vmovaps ymm3,ymm1
#   a31: vmovaps ymm4,ymm1
#   a35: nop DWORD PTR [rax]
#   a38: lea rdi,[rax-0x1]
#   a3c: vpmovzxbd ymm2,QWORD PTR [r11+rax*8-0x8]
#   a43: sub rdx,0xffffffffffffff80
#   a47: sub rsi,0xffffffffffffff80
#   a4b: sar rdi,cl
#   a4e: vbroadcastss ymm9,DWORD PTR [r10+rdi*4]
#   a54: vbroadcastss ymm8,DWORD PTR [r8+rdi*4]
#   a5a: vpand ymm7,ymm5,ymm2
#   a5e: vpsrld ymm2,ymm2,0x4
#   a63: vcvtdq2ps ymm7,ymm7
#   a67: mov rdi,rax
#   a6a: vcvtdq2ps ymm2,ymm2
#   a6e: vfmadd132ps ymm7,ymm8,ymm9
#   a73: vfmadd132ps ymm2,ymm8,ymm9
#   a78: sar rdi,cl
#   a7b: vfmadd231ps ymm4,ymm7,YMMWORD PTR [rdx-0x80]
#   a81: vfmadd231ps ymm0,ymm7,YMMWORD PTR [rsi-0x80]
#   a87: vfmadd231ps ymm4,ymm2,YMMWORD PTR [rdx-0x60]
#   a8d: vfmadd231ps ymm0,ymm2,YMMWORD PTR [rsi-0x60]
#   a93: vpmovzxbd ymm2,QWORD PTR [r11+rax*8]
#   a99: vbroadcastss ymm9,DWORD PTR [r10+rdi*4]
#   a9f: add rax,0x2
#   aa3: vbroadcastss ymm8,DWORD PTR [r8+rdi*4]
#   aa9: vpand ymm7,ymm5,ymm2
#   aad: vpsrld ymm2,ymm2,0x4
#   ab2: vcvtdq2ps ymm7,ymm7
#   ab6: vfmadd132ps ymm7,ymm8,ymm9
#   abb: vcvtdq2ps ymm2,ymm2
#   abf: vfmadd132ps ymm2,ymm8,ymm9
#   ac4: vfmadd231ps ymm3,ymm7,YMMWORD PTR [rdx-0x40]
#   aca: vfmadd231ps ymm1,ymm7,YMMWORD PTR [rsi-0x40]
#   ad0: vfmadd231ps ymm3,ymm2,YMMWORD PTR [rdx-0x20]
#   ad6: vfmadd231ps ymm1,ymm2,YMMWORD PTR [rsi-0x20]
#   adc: cmp rax,r14
#   adf: jl a38 <qgemv4_avx2+0xa38>
#   ae5: mov rax,QWORD PTR [rsp]
#   ae9: cmp rax,r14
#   aec: jl b6a <qgemv4_avx2+0xb6a>
#   aee: vaddps ymm3,ymm3,ymm4
#   af2: vaddps ymm0,ymm0,ymm1
#   af6: mov rax,QWORD PTR [rsp+0x10]
#   afb: add r10,r15
#   afe: add r8,r15
#   b01: vextractf128 xmm2,ymm3,0x1
#   b07: vextractf128 xmm1,ymm0,0x1
#   b0d: vaddps xmm2,xmm2,xmm3
#   b11: vaddps xmm0,xmm1,xmm0
#   b15: vmovhlps xmm3,xmm2,xmm2
#   b19: vmovhlps xmm1,xmm0,xmm0
#   b1d: vaddps xmm2,xmm2,xmm3
#   b21: vaddps xmm0,xmm0,xmm1
#   b25: vmovshdup xmm3,xmm2
#   b29: vmovshdup xmm1,xmm0
#   b2d: vaddss xmm2,xmm2,xmm3
#   b31: vaddss xmm0,xmm0,xmm1
#   b35: vmovss DWORD PTR [rax+rbx*4],xmm2
#   b3a: mov rax,QWORD PTR [rsp+0x20]
#   b3f: vmovss DWORD PTR [rax+rbx*4],xmm0
#   b44: mov rax,QWORD PTR [rsp+0x8]
#   b49: add rbx,0x1
#   b4d: add r11,rax
#   b50: cmp QWORD PTR [rsp+0x18],rbx
#   b55: jne a10 <qgemv4_avx2+0xa10>
#   b5b: mov rdi,QWORD PTR [rsp-0x18]
#   b60: mov rsi,QWORD PTR [rsp-0x20]
#   b65: jmp 45b <qgemv4_avx2+0x45b>
#   b6a: mov rdx,rax
#   b6d: vpmovzxbd ymm2,QWORD PTR [r11+rax*8]
#   b73: sar rdx,cl
#   b76: vbroadcastss ymm9,DWORD PTR [r10+rdx*4]
#   b7c: vbroadcastss ymm8,DWORD PTR [r8+rdx*4]
#   b82: mov rdx,rax
#   b85: vpand ymm7,ymm2,ymm6
#   b89: shl rdx,0x6
#   b8d: shl rax,0x4
#   b91: vpsrld ymm2,ymm2,0x4
#   b96: vcvtdq2ps ymm7,ymm7
#   b9a: add rdx,r13
#   b9d: vfmadd132ps ymm7,ymm8,ymm9
#   ba2: add rax,r9
#   ba5: vcvtdq2ps ymm2,ymm2
#   ba9: vfmadd231ps ymm4,ymm7,YMMWORD PTR [rdx]
#   bae: vfmadd132ps ymm2,ymm8,ymm9
#   bb3: vfmadd132ps ymm7,ymm0,YMMWORD PTR [r13+rax*4+0x0]
#   bba: vfmadd231ps ymm4,ymm2,YMMWORD PTR [rdx+0x20]
#   bc0: vfmadd132ps ymm2,ymm7,YMMWORD PTR [r13+rax*4+0x20]
#   bc7: vmovaps ymm0,ymm2
#   bcb: jmp aee <qgemv4_avx2+0xaee>
#   bd0: vxorps xmm1,xmm1,xmm1
#   bd4: xor eax,eax
#   bd6: vmovaps ymm0,ymm1
#   bda: vmovaps ymm3,ymm1
#   bde: vmovaps ymm4,ymm1
#   be2: jmp ae9 <qgemv4_avx2+0xae9>
CODE["qgemv4_avx2"] = bytes.fromhex(
    "554889e54157415641554154534883e4e04883ec2848895424b84889ca4c89c148897c24c84c8b55204c8b7d10488974"
    "24c04c894c24184c8b45284d85d20f8e450400004a8d34bd000000004d89c54d89c131c048897424b04d85ff7e554c8d"
    "5a404d89cc31db660f1f840000000000498d7bc04d89e6660f1f840000000000c5fa10074883c7084983c604c4c17a11"
    "46fcc5fa1047fcc4c17a11461c4939fb75de4883c3104983c4404983c3404939df7fbd488d78014801f24901f14939fa"
    "74054889f8eb924c89fa488b5d184d89f94c89d748c1ea3f4c01fa48d1fa4d85ff4889542408498d570f490f49d748c1"
    "fa044885db4989d6488d530f480f49d3488b5c241883e0034883e8034889d64889da48894424a84c89f848c1e20448c1"
    "fe044889542498488d149d000000004801d148895424d04b8d147f488d1cd948894c242048895c24f84c89fb48c1e304"
    "48895c24a0498d1c90489948f77d1848895c24f0488d1c8500000000498d46fe48d1e84983ff1f4989df488d540002b8"
    "02000000480f4fc248890424b80f000000c5796ee0c4427d58e4c4417d6fd4c4417d6fdc488b442420488b5c24d04829"
    "d848894424104883ff010f84440600004883ff020f84e807000031c94883ff030f847503000048837d181f7e19b80100"
    "0000660f1f44000083c1014889c248d3e24839d67ff248837c2418000f8e59020000488b5424b048897c24904531e448"
    "8b5c24c84c8b5c24c04c894d104a8d042a48897424884c8b5424b848894424d84801d0488b54242048894424e0488b44"
    "24d04801d048894424e8660f1f44000048837d101f0f8ec9020000c5f057c94c8b4424f0488b7c24e04c89ea488b7424"
    "d8c5fc28d9c5fc28e9c5fc28f9c5fc28f1c57c28c1c57c28c9b801000000c5fc28e1660f1f4400004c8d48ff4883ea80"
    "4883ee804883ef80c4e27d3144c3f849d3f94983e880c4027d18348bc4027d182c8a4989c1c5addbd0c5fd72d00449d3"
    "f9c5fc5bd2c4c21598d6c5fc5bc0c4c21598c6c4e26db86280c4626db84680c4e26db87f80c4c26db85880c4e27db862"
    "a0c4627db846a0c4e27db87fa0c4c27db858a0c4e27d3104c3c4027d18348b4883c002c4027d182c8ac5addbd0c5fd72"
    "d004c5fc5bd2c4c21598d6c5fc5bc0c4c21598c6c4626db84ac0c4e26db876c0c4e26db86fc0c4c26db848c0c4627db8"
    "4ae0c4e27db876e0c4e27db86fe0c4c27db848e04939c60f8f1bffffff488b04244c39f00f8c0e010000c4c15c58e1c4"
    "c14c58f0488b4424104d01fbc5d458efc5f458cb4d01fac4e37d19e001c5f858c4c5f812d0c5f858c2c5fa16d0c5fa58"
    "c2c4a17a1104a0c4e37d19f001488b442420c5f858c6c5f812d0c5f858c2c5fa16d0c5fa58c2c4a17a1104a0c4e37d19"
    "e801488b4424e8c5f858c5c5f812d0c5f858c2c5fa16d0c5fa58c2c4a17a1104a0c4e37d19c801488b4424f8c5f858c1"
    "c5f812c8c5f858c1c5fa16c8c5fa58c1c4a17a1104a0488b4424084983c4014801c34c396424180f8503feffff488b7c"
    "24904c8b4d10488b742488488b4424a0488b5c24984883ef0448015c242048015c24f84901c548014424f048397c24a8"
    "0f851efdffffc5f877488d65d85b415c415d415e415f5dc34889c2c4e27d3104c348d3fac4427d183493c4427d182c92"
    "c4c17ddbd44889c2c5fd72d00448c1e004c5fc5bd248034510c4c21598d6c5fc5bc0c4c21598c648c1e206c4426db844"
    "85004c01eac4427db844852048034510c4c26db87c8500c4e26db822c4c27db87c852048034510c4c26598548500c4e2"
    "7db86220c5fc28d8c4c26d985c8520e966feffffc5f057c931c0c5fc28d9c5fc28e9c5fc28f9c5fc28f1c57c28c1c57c"
    "28c9c5fc28e1e936feffff48837d181f7e13b80100000083c1014889c248d3e24839f27cf248837c2418000f8eeafeff"
    "ff488b5424b048897c24904531e4488b5c24c84c8b5c24c048897424884a8d042a4c8b5424b848894424d84801d0488b"
    "54242048894424e0488b4424d04801d048894424e84983f91f0f8e26020000c5f857c0488b7c24e0488b7424d84c89ea"
    "c5fc28c8c5fc28e0c5fc28e8b801000000c5fc28f0c5fc28d80f1f80000000004c8d40ff4883ea804883ee804883ef80"
    "c4e27d3154c3f849d3f8c4027d180c83c4027d1804824989c0c5a5dbfac5ed72d20449d3f8c5fc5bffc4c23d98f9c5fc"
    "5bd2c4c23d98d1c4e245b85a80c4e245b86e80c4e245b84f80c4e26db85aa0c4e26db86ea0c4e26db84fa0c4e27d3114"
    "c3c4027d180c834883c002c4027d180482c5a5dbfac5ed72d204c5fc5bffc4c23d98f9c5fc5bd2c4c23d98d1c4e245b8"
    "72c0c4e245b866c0c4e245b847c0c4e26db872e0c4e26db866e0c4e26db847e04c39f00f8c37ffffff488b04244939c6"
    "0f8fa7000000c5e458dec5dc58e5488b4424104d01fbc5fc58c14d01fac4e37d19da01c5e858d3c4e37d19c101c5f058"
    "c0c5e812dac5e858d3c5f812c8c5f858c1c5fa16dac5fa16c8c5ea58d3c5fa58c1c4a17a1114a0c4e37d19e201488b44"
    "2420c5e858d4c5e812dac5e858d3c5fa16dac5ea58d3c4a17a1114a0488b4424e8c4a17a1104a0488b4424084983c401"
    "4801c34c396424180f8557feffff488b7c2490488b742488e9eefcffff4889c2c4e27d3114c348d3fac4427d180c93c4"
    "427d180492c4c16ddbfcc5ed72d2044889c2c5fc5bd248c1e004c5fc5bffc4c23d98d1c4c23d98f94c01c848c1e206c4"
    "c245b86c85004c01eac4c26db86c8520c4e245b81a4c01c8c4c275987c8500c4e26db85a20c5fc28cac4c245984c8520"
    "e9e1feffffc5f857c031c0c5fc28c8c5fc28e0c5fc28e8c5fc28f0c5fc28d8e9b9feffffb80f00000031c948837d181f"
    "c5f96ed0c4e27d58d27e13b80100000083c1014889c248d3e24839f27cf248837c2418000f8e21fcffff4c8b5c24c84c"
    "8b5424c031dbc5fd6fda4c8b4424b84983f91f0f8e00010000c5f057c94c89eab801000000c5fc28c10f1f8000000000"
    "4c8d60ffc4c27d317cc3f84883ea8049d3fcc4827d182ca0c4827d1834a2c5e5dbe74989c4c5c572d704c5fc5be449d3"
    "fcc4e25598e6c5fc5bffc4e25598f7c4c27d313cc3c4e25db84280c4827d182ca04883c002c4e24db842a0c4827d1834"
    "a2c5e5dbe7c5fc5be4c5c572d704c4e25598e6c5fc5bffc4e245b8eec4e25db84ac0c4e255b84ae04c39f00f8c6fffff"
    "ff488b04244939c67f5ec5fc58c1488b4424104d01fa4d01f8c4e37d19c101c5f058c0c5f812c8c5f858c1c5fa16c8c5"
    "fa58c1c5fa110498488b4424084883c3014901c348395c24180f840cfbffff4983f91f0f8f00ffffffc5f057c931c0c5"
    "fc28c14939c67ea24889c2c4c27d3124c348c1e00648d3fa4c01e8c4c27d183c92c4c27d183490c5dddbeac5dd72d404"
    "c5fc5bedc5fc5be4c4e24d98efc4e24d98e7c4e255b800c4e25db84020e958ffffffb80f00000031c948837d181fc5f9"
    "6ef0c4e27d58f67e13b80100000083c1014889c248d3e24839f27cf248837c2418000f8e73faffff488b4424b048897c"
    "24e831dbc5fd6fee4c8b5c24c84c8b5424c048897424e04c8b4424b84e8d24284983f91f0f8eb6010000c5f057c94c89"
    "e64c89eab801000000c5fc28c1c5fc28d9c5fc28e10f1f00488d78ffc4c27d3154c3f84883ea804883ee8048d3ffc442"
    "7d180cbac4427d1804b8c5d5dbfac5ed72d204c5fc5bff4889c7c5fc5bd2c4c23d98f9c4c23d98d148d3ffc4e245b862"
    "80c4e245b84680c4e26db862a0c4e26db846a0c4c27d3114c3c4427d180cba4883c002c4427d1804b8c5d5dbfac5ed72"
    "d204c5fc5bffc4c23d98f9c5fc5bd2c4c23d98d1c4e245b85ac0c4e245b84ec0c4e26db85ae0c4e26db84ee04c39f00f"
    "8c53ffffff488b04244c39f07c7cc5e458dcc5fc58c1488b4424104d01fa4d01f8c4e37d19da01c4e37d19c101c5e858"
    "d3c5f058c0c5e812dac5f812c8c5e858d3c5f858c1c5fa16dac5fa16c8c5ea58d3c5fa58c1c5fa111498488b442420c5"
    "fa110498488b4424084883c3014901c348395c24180f85b5feffff488b7c24e8488b7424e0e9f1f8ffff4889c2c4c27d"
    "3114c348d3fac4427d180c92c4427d1804904889c2c5eddbfe48c1e20648c1e004c5ed72d204c5fc5bff4c01eac4c23d"
    "98f94c01c8c5fc5bd2c4e245b822c4c23d98d1c4c27d987c8500c4e26db86220c4c24598548520c5fc28c2e91effffff"
    "c5f057c931c0c5fc28c1c5fc28d9c5fc28e1e902ffffff"
)

# qgemv8_avx2: 2276 bytes
#   0: push rbp
#   1: mov rbp,rsp
#   4: push r15
#   6: push r14
#   8: push r13
#   a: push r12
#   c: push rbx
#   d: and rsp,0xffffffffffffffe0
#   11: sub rsp,0x8
#   15: mov QWORD PTR [rsp-0x40],rsi
#   1a: mov QWORD PTR [rsp-0x38],rdi
#   1f: mov rsi,QWORD PTR [rbp+0x20]
#   23: mov rdi,QWORD PTR [rbp+0x10]
#   27: mov QWORD PTR [rsp-0x48],rdx
#   2c: mov QWORD PTR [rsp-0x8],r9
#   31: test rsi,rsi
#   34: jle 33c <qgemv8_avx2+0x33c>
#   3a: test rdi,rdi
#   3d: lea r12,[rdi+0x7]
#   41: mov rbx,QWORD PTR [rbp+0x18]
#   45: mov rax,rcx
#   48: cmovns r12,rdi
#   4c: mov r14,r9
#   4f: mov rdx,r8
#   52: lea rcx,[rbx+0x7]
#   56: lea r8,[rdi+rdi*1]
#   5a: sar r12,0x3
#   5e: test rbx,rbx
#   61: cmovns rcx,rbx
#   65: lea rbx,[r8+rdi*1]
#   69: sar rcx,0x3
#   6d: mov r9,rcx
#   70: mov rcx,r14
#   73: shl r14,0x4
#   77: mov QWORD PTR [rsp-0x60],r14
#   7c: mov r14,rcx
#   7f: lea rcx,[rcx*4+0x0]
#   87: mov QWORD PTR [rsp-0x30],rcx
#   8c: add rcx,rdx
#   8f: lea rdx,[rsi-0x4]
#   93: mov QWORD PTR [rsp],rcx
#   97: lea rcx,[rcx+r14*8]
#   9b: mov r14,rax
#   9e: lea rax,[rsi-0x1]
#   a2: and rax,0xfffffffffffffffc
#   a6: mov QWORD PTR [rsp-0x20],rcx
#   ab: mov rcx,rdi
#   ae: sub rdx,rax
#   b1: mov rax,rdi
#   b4: shl rcx,0x4
#   b8: mov QWORD PTR [rsp-0x50],rdx
#   bd: cqo
#   bf: idiv QWORD PTR [rbp+0x18]
#   c3: mov QWORD PTR [rsp-0x58],rcx
#   c8: mov rcx,rsi
#   cb: lea rsi,[rax*4+0x0]
#   d3: lea rax,[r12-0x2]
#   d8: shr rax,1
#   db: cmp rdi,0xf
#   df: lea rdx,[rax+rax*1+0x2]
#   e4: mov eax,0x2
#   e9: cmovg rax,rdx
#   ed: mov rdx,rcx
#   f0: mov QWORD PTR [rsp-0x18],rax
#   f5: mov rcx,QWORD PTR [rsp-0x30]
#   fa: mov rax,QWORD PTR [rsp]
#   fe: sub rax,rcx
#   101: xor ecx,ecx
#   103: mov QWORD PTR [rsp-0x10],rax
#   108: cmp rdx,0x1
#   10c: je 5dc <qgemv8_avx2+0x5dc>
#   112: cmp rdx,0x2
#   116: je 735 <qgemv8_avx2+0x735>
#   11c: cmp rdx,0x3
#   120: je 3c2 <qgemv8_avx2+0x3c2>
#   126: cmp QWORD PTR [rbp+0x18],0xf
#   12b: jle 140 <qgemv8_avx2+0x140>
#   12d: nop DWORD PTR [rax]
#   130: add ecx,0x1
#   133: mov eax,0x1
#   138: shl rax,cl
#   13b: cmp r9,rax
#   13e: jg 130 <qgemv8_avx2+0x130>
#   140: cmp QWORD PTR [rsp-0x8],0x0
#   146: jle 314 <qgemv8_avx2+0x314>
#   14c: mov r15,QWORD PTR [rsp]
#   150: mov rax,QWORD PTR [rsp-0x30]
#   155: mov QWORD PTR [rsp-0x68],rdx
#   15a: mov r13,QWORD PTR [rsp-0x38]
#   15f: mov r11,QWORD PTR [rsp-0x48]
#   164: mov QWORD PTR [rsp-0x70],r9
#   169: add rax,r15
#   16c: mov r10,QWORD PTR [rsp-0x40]
#   171: xor r15d,r15d
#   174: mov QWORD PTR [rsp-0x28],rax
#   179: nop DWORD PTR [rax+0x0]
#   180: cmp rdi,0xf
#   184: jle 39b <qgemv8_avx2+0x39b>
#   18a: vxorps xmm3,xmm3,xmm3
#   18e: mov rax,r14
#   191: mov edx,0x1
#   196: vmovaps ymm5,ymm3
#   19a: vmovaps ymm6,ymm3
#   19e: vmovaps ymm1,ymm3
#   1a2: vmovaps ymm8,ymm3
#   1a6: vmovaps ymm2,ymm3
#   1aa: vmovaps ymm4,ymm3
#   1ae: vmovaps ymm7,ymm3
#   1b2: nop WORD PTR [rax+rax*1+0x0]
#   1b8: lea r9,[rdx-0x1]
#   1bc: vpmovzxbd ymm0,QWORD PTR [r13+rdx*8-0x8]
#   1c3: sar r9,cl
#   1c6: vbroadcastss ymm9,DWORD PTR [r11+r9*4]
#   1cc: vbroadcastss ymm10,DWORD PTR [r10+r9*4]
#   1d2: mov r9,rdx
#   1d5: vcvtdq2ps ymm0,ymm0
#   1d9: sar r9,cl
#   1dc: vfmadd132ps ymm0,ymm9,ymm10
#   1e1: vbroadcastss ymm9,DWORD PTR [r11+r9*4]
#   1e7: vbroadcastss ymm10,DWORD PTR [r10+r9*4]
#   1ed: vfmadd231ps ymm7,ymm0,YMMWORD PTR [rax]
#   1f2: vfmadd231ps ymm2,ymm0,YMMWORD PTR [rax+rdi*4]
#   1f8: vfmadd231ps ymm1,ymm0,YMMWORD PTR [rax+r8*4]
#   1fe: vfmadd231ps ymm5,ymm0,YMMWORD PTR [rax+rbx*4]
#   204: vpmovzxbd ymm0,QWORD PTR [r13+rdx*8+0x0]
#   20b: add rdx,0x2
#   20f: vcvtdq2ps ymm0,ymm0
#   213: vfmadd132ps ymm0,ymm9,ymm10
#   218: vfmadd231ps ymm4,ymm0,YMMWORD PTR [rax+0x20]
#   21e: vfmadd231ps ymm8,ymm0,YMMWORD PTR [rax+rdi*4+0x20]
#   225: vfmadd231ps ymm6,ymm0,YMMWORD PTR [rax+r8*4+0x20]
#   22c: vfmadd231ps ymm3,ymm0,YMMWORD PTR [rax+rbx*4+0x20]
#   233: add rax,0x40
#   237: cmp r12,rdx
#   23a: jg 1b8 <qgemv8_avx2+0x1b8>
#   240: mov rax,QWORD PTR [rsp-0x18]
#   245: cmp r12,rax
#   248: jg 34b <qgemv8_avx2+0x34b>
#   24e: vaddps ymm4,ymm4,ymm7
#   252: vaddps ymm2,ymm2,ymm8
#   257: mov rax,QWORD PTR [rsp-0x10]
#   25c: add r13,rdi
#   25f: vaddps ymm1,ymm1,ymm6
#   263: vaddps ymm3,ymm3,ymm5
#   267: add r11,rsi
#   26a: add r10,rsi
#   26d: vextractf128 xmm0,ymm4,0x1
#   273: vaddps xmm0,xmm0,xmm4
#   277: vmovhlps xmm4,xmm0,xmm0
#   27b: vaddps xmm0,xmm0,xmm4
#   27f: vmovshdup xmm4,xmm0
#   283: vaddss xmm0,xmm0,xmm4
#   287: vmovss DWORD PTR [rax+r15*4],xmm0
#   28d: vextractf128 xmm0,ymm2,0x1
#   293: mov rax,QWORD PTR [rsp]
#   297: vaddps xmm0,xmm0,xmm2
#   29b: vmovhlps xmm2,xmm0,xmm0
#   29f: vaddps xmm0,xmm0,xmm2
#   2a3: vmovshdup xmm2,xmm0
#   2a7: vaddss xmm0,xmm0,xmm2
#   2ab: vmovss DWORD PTR [rax+r15*4],xmm0
#   2b1: vextractf128 xmm0,ymm1,0x1
#   2b7: mov rax,QWORD PTR [rsp-0x28]
#   2bc: vaddps xmm0,xmm0,xmm1
#   2c0: vmovhlps xmm1,xmm0,xmm0
#   2c4: vaddps xmm0,xmm0,xmm1
#   2c8: vmovshdup xmm1,xmm0
#   2cc: vaddss xmm0,xmm0,xmm1
#   2d0: vmovss DWORD PTR [rax+r15*4],xmm0
#   2d6: vextractf128 xmm0,ymm3,0x1
#   2dc: mov rax,QWORD PTR [rsp-0x20]
#   2e1: vaddps xmm0,xmm0,xmm3
#   2e5: vmovhlps xmm1,xmm0,xmm0
#   2e9: vaddps xmm0,xmm0,xmm1
#   2ed: vmovshdup xmm1,xmm0
#   2f1: vaddss xmm0,xmm0,xmm1
#   2f5: vmovss DWORD PTR [rax+r15*4],xmm0
#   2fb: add r15,0x1
#   2ff: cmp QWORD PTR [rsp-0x8],r15
#   304: jne 180 <qgemv8_avx2+0x180>
#   30a: mov rdx,QWORD PTR [rsp-0x68]
#   30f: mov r9,QWORD PTR [rsp-0x70]
#   314: mov rax,QWORD PTR [rsp-0x58]
#   319: mov rcx,QWORD PTR [rsp-0x60]
#   31e: sub rdx,0x4
#   322: add QWORD PTR [rsp],rcx
#   326: add QWORD PTR [rsp-0x20],rcx
#   32b: add r14,rax
#   32e: cmp QWORD PTR [rsp-0x50],rdx
#   333: jne f5 <qgemv8_avx2+0xf5>
#   339: vzeroupper
#   33c: lea rsp,[rbp-0x28]
#   340: pop rbx
#   341: pop r12
#   343: pop r13
#   345: pop r14
#   347: pop r15
#   349: pop rbp
#   34a: ret
#   34b: mov rdx,rax
#   34e: vpmovzxbd ymm0,QWORD PTR [r13+rax*8+0x0]
#   355: sar rdx,cl
#   358: vbroadcastss ymm9,DWORD PTR [r11+rdx*4]
#   35e: vbroadcastss ymm10,DWORD PTR [r10+rdx*4]
#   364: vcvtdq2ps ymm0,ymm0
#   368: mov rdx,rax
#   36b: lea rax,[rdi+rax*8]
#   36f: shl rdx,0x5
#   373: vfmadd132ps ymm0,ymm9,ymm10
#   378: vfmadd231ps ymm2,ymm0,YMMWORD PTR [r14+rax*4]
#   37e: vfmadd231ps ymm7,ymm0,YMMWORD PTR [r14+rdx*1]
#   384: add rax,rdi
#   387: vfmadd231ps ymm1,ymm0,YMMWORD PTR [r14+rax*4]
#   38d: add rax,rdi
#   390: vfmadd231ps ymm5,ymm0,YMMWORD PTR [r14+rax*4]
#   396: jmp 24e <qgemv8_avx2+0x24e>
#   39b: vxorps xmm3,xmm3,xmm3
#   39f: xor eax,eax
#   3a1: vmovaps ymm5,ymm3
#   3a5: vmovaps ymm6,ymm3
#   3a9: vmovaps ymm1,ymm3
#   3ad: vmovaps ymm8,ymm3
#   3b1: vmovaps ymm2,ymm3
#   3b5: vmovaps ymm4,ymm3
#   3b9: vmovaps ymm7,ymm3
#   3bd: jmp 245 <qgemv8_avx2+0x245>
#   3c2: cmp QWORD PTR [rbp+0x18],0xf
#   3c7: jle 3d9 <qgemv8_avx2+0x3d9>
#   3c9: add ecx,0x1
#   3cc: mov eax,0x1
#   3d1: shl rax,cl
#   3d4: cmp rax,r9
#   3d7: jl 3c9 <qgemv8_avx2+0x3c9>
#   3d9: cmp QWORD PTR [rsp-0x8],0x0
#   3df: jle 314 <qgemv8_avx2+0x314>
#   3e5: mov r15,QWORD PTR [rsp]
#   3e9: mov rax,QWORD PTR [rsp-0x30]
#   3ee: mov QWORD PTR [rsp-0x68],rdx
#   3f3: mov r13,QWORD PTR [rsp-0x38]
#   3f8: mov r11,QWORD PTR [rsp-0x48]
#   3fd: mov QWORD PTR [rsp-0x70],r9
#   402: add rax,r15
#   405: mov QWORD PTR [rsp-0x78],rbx
#   40a: mov r10,QWORD PTR [rsp-0x40]
#   40f: xor r15d,r15d
#   412: mov QWORD PTR [rsp-0x28],rax
#   417: mov rbx,QWORD PTR [rsp-0x10]
#   41c: cmp rdi,0xf
#   420: jle 5bd <qgemv8_avx2+0x5bd>
#   426: vxorps xmm6,xmm6,xmm6
#   42a: mov rax,r14
#   42d: mov edx,0x1
#   432: vmovaps ymm1,ymm6
#   436: vmovaps ymm2,ymm6
#   43a: vmovaps ymm4,ymm6
#   43e: vmovaps ymm3,ymm6
#   442: vmovaps ymm5,ymm6
#   446: cs nop WORD PTR [rax+rax*1+0x0]
#   450: lea r9,[rdx-0x1]
#   454: vpmovzxbd ymm0,QWORD PTR [r13+rdx*8-0x8]
#   45b: sar r9,cl
#   45e: vbroadcastss ymm7,DWORD PTR [r11+r9*4]
#   464: vbroadcastss ymm8,DWORD PTR [r10+r9*4]
#   46a: mov r9,rdx
#   46d: vcvtdq2ps ymm0,ymm0
#   471: sar r9,cl
#   474: vfmadd132ps ymm0,ymm7,ymm8
#   479: vbroadcastss ymm7,DWORD PTR [r11+r9*4]
#   47f: vbroadcastss ymm8,DWORD PTR [r10+r9*4]
#   485: vfmadd231ps ymm5,ymm0,YMMWORD PTR [rax]
#   48a: vfmadd231ps ymm4,ymm0,YMMWORD PTR [rax+rdi*4]
#   490: vfmadd231ps ymm1,ymm0,YMMWORD PTR [rax+r8*4]
#   496: vpmovzxbd ymm0,QWORD PTR [r13+rdx*8+0x0]
#   49d: add rdx,0x2
#   4a1: vcvtdq2ps ymm0,ymm0
#   4a5: vfmadd132ps ymm0,ymm7,ymm8
#   4aa: vfmadd231ps ymm3,ymm0,YMMWORD PTR [rax+0x20]
#   4b0: vfmadd231ps ymm2,ymm0,YMMWORD PTR [rax+rdi*4+0x20]
#   4b7: vfmadd231ps ymm6,ymm0,YMMWORD PTR [rax+r8*4+0x20]
#   4be: add rax,0x40
#   4c2: cmp rdx,r12
#   4c5: jl 450 <qgemv8_avx2+0x450>
#   4c7: mov rax,QWORD PTR [rsp-0x18]
#   4cc: cmp r12,rax
#   4cf: jg 576 <qgemv8_avx2+0x576>
#   4d5: vaddps ymm3,ymm3,ymm5
#   4d9: vaddps ymm2,ymm2,ymm4
#   4dd: mov rax,QWORD PTR [rsp]
#   4e1: add r13,rdi
#   4e4: vaddps ymm1,ymm1,ymm6
#   4e8: add r11,rsi
#   4eb: add r10,rsi
#   4ee: vextractf128 xmm0,ymm3,0x1
#   4f4: vaddps xmm0,xmm0,xmm3
#   4f8: vmovhlps xmm3,xmm0,xmm0
#   4fc: vaddps xmm0,xmm0,xmm3
#   500: vmovshdup xmm3,xmm0
#   504: vaddss xmm0,xmm0,xmm3
#   508: vmovss DWORD PTR [rbx+r15*4],xmm0
#   50e: vextractf128 xmm0,ymm2,0x1
#   514: vaddps xmm0,xmm0,xmm2
#   518: vmovhlps xmm2,xmm0,xmm0
#   51c: vaddps xmm0,xmm0,xmm2
#   520: vmovshdup xmm2,xmm0
#   524: vaddss xmm0,xmm0,xmm2
#   528: vmovss DWORD PTR [rax+r15*4],xmm0
#   52e: vextractf128 xmm0,ymm1,0x1
#   534: mov rax,QWORD PTR [rsp-0x28]
#   539: vaddps xmm0,xmm0,xmm1
#   53d: vmovhlps xmm1,xmm0,xmm0
#   541: vaddps xmm0,xmm0,xmm1
#   545: vmovshdup xmm1,xmm0
#   549: vaddss xmm0,xmm0,xmm1
#   54d: vmovss DWORD PTR [rax+r15*4],xmm0
#   553: add r15,0x1
#   557: cmp QWORD PTR [rsp-0x8],r15
#   55c: jne 41c <qgemv8_avx2+0x41c>
#   562: mov rdx,QWORD PTR [rsp-0x68]
#   567: mov r9,QWORD PTR [rsp-0x70]
#   56c: mov rbx,QWORD PTR [rsp-0x78]
#   571: jmp 314 <qgemv8_avx2+0x314>
#   576: mov rdx,rax
#   579: vpmovzxbd ymm0,QWORD PTR [r13+rax*8+0x0]
#   580: sar rdx,cl
#   583: vbroadcastss ymm7,DWORD PTR [r11+rdx*4]
#   589: vbroadcastss ymm8,DWORD PTR [r10+rdx*4]
#   58f: vcvtdq2ps ymm0,ymm0
#   593: mov rdx,rax
#   596: lea rax,[rdi+rax*8]
#   59a: shl rdx,0x5
#   59e: vfmadd132ps ymm0,ymm7,ymm8
#   5a3: vfmadd231ps ymm4,ymm0,YMMWORD PTR [r14+rax*4]
#   5a9: vfmadd231ps ymm5,ymm0,YMMWORD PTR [r14+rdx*1]
#   5af: add rax,rdi
#   5b2: vfmadd231ps ymm1,ymm0,YMMWORD PTR [r14+rax*4]
#   5b8: jmp 4d5 <qgemv8_avx2+0x4d5>
#   5bd: vxorps xmm6,xmm6,xmm6
#   5c1: xor eax,eax
#   5c3: vmovaps ymm1,ymm6
#   5c7: vmovaps ymm2,ymm6
#   5cb: vmovaps ymm4,ymm6
#   5cf: vmovaps ymm3,ymm6
#   5d3: vmovaps ymm5,ymm6
#   5d7: jmp 4cc <qgemv8_avx2+0x4cc>
#   5dc: cmp QWORD PTR [rbp+0x18],0xf
#   5e1: jle 5f6 <qgemv8_avx2+0x5f6>
#   5e3: mov eax,0x1
#   5e8: add ecx,0x1
#   5eb: mov r10,rax
#   5ee: shl r10,cl
#   5f1: cmp r10,r9
#   5f4: jl 5e8 <qgemv8_avx2+0x5e8>
#   5f6: cmp QWORD PTR [rsp-0x8],0x0
#   5fc: jle 314 <qgemv8_avx2+0x314>
#   602: mov QWORD PTR [rsp-0x28],r8
#   607: mov r13,QWORD PTR [rsp-0x38]
#   60c: xor r15d,r15d
#   60f: mov r11,QWORD PTR [rsp-0x48]
#   614: mov r10,QWORD PTR [rsp-0x40]
#   619: mov QWORD PTR [rsp-0x68],rdx
#   61e: cmp rdi,0xf
#   622: jle 726 <qgemv8_avx2+0x726>
#   628: vxorps xmm2,xmm2,xmm2
#   62c: mov r8,r14
#   62f: mov eax,0x1
#   634: vmovaps ymm1,ymm2
#   638: nop DWORD PTR [rax+rax*1+0x0]
#   640: lea rdx,[rax-0x1]
#   644: vpmovzxbd ymm0,QWORD PTR [r13+rax*8-0x8]
#   64b: add r8,0x40
#   64f: sar rdx,cl
#   652: vbroadcastss ymm3,DWORD PTR [r11+rdx*4]
#   658: vbroadcastss ymm4,DWORD PTR [r10+rdx*4]
#   65e: mov rdx,rax
#   661: vcvtdq2ps ymm0,ymm0
#   665: sar rdx,cl
#   668: vfmadd132ps ymm0,ymm3,ymm4
#   66d: vbroadcastss ymm3,DWORD PTR [r11+rdx*4]
#   673: vbroadcastss ymm4,DWORD PTR [r10+rdx*4]
#   679: vfmadd231ps ymm1,ymm0,YMMWORD PTR [r8-0x40]
#   67f: vpmovzxbd ymm0,QWORD PTR [r13+rax*8+0x0]
#   686: add rax,0x2
#   68a: vcvtdq2ps ymm0,ymm0
#   68e: vfmadd132ps ymm0,ymm3,ymm4
#   693: vfmadd231ps ymm2,ymm0,YMMWORD PTR [r8-0x20]
#   699: cmp rax,r12
#   69c: jl 640 <qgemv8_avx2+0x640>
#   69e: mov rax,QWORD PTR [rsp-0x18]
#   6a3: cmp r12,rax
#   6a6: jg 6f8 <qgemv8_avx2+0x6f8>
#   6a8: vaddps ymm1,ymm1,ymm2
#   6ac: mov rax,QWORD PTR [rsp-0x10]
#   6b1: add r13,rdi
#   6b4: add r11,rsi
#   6b7: add r10,rsi
#   6ba: vextractf128 xmm0,ymm1,0x1
#   6c0: vaddps xmm0,xmm0,xmm1
#   6c4: vmovhlps xmm1,xmm0,xmm0
#   6c8: vaddps xmm0,xmm0,xmm1
#   6cc: vmovshdup xmm1,xmm0
#   6d0: vaddss xmm0,xmm0,xmm1
#   6d4: vmovss DWORD PTR [rax+r15*4],xmm0
#   6da: add r15,0x1
#   6de: cmp QWORD PTR [rsp-0x8],r15
#   6e3: jne 61e <qgemv8_avx2+0x61e>
#   6e9: mov r8,QWORD PTR [rsp-0x28]
#   6ee: mov rdx,QWORD PTR [rsp-0x68]
#   6f3: jmp 314 <qgemv8_avx2+0x314>
#   6f8: mov rdx,rax
#   6fb: vpmovzxbd ymm0,QWORD PTR [r13+rax*8+0x0]
#   702: shl rax,0x5
#   706: sar rdx,cl
#   709: vbroadcastss ymm3,DWORD PTR [r11+rdx*4]
#   70f: vbroadcastss ymm4,DWORD PTR [r10+rdx*4]
#   715: vcvtdq2ps ymm0,ymm0
#   719: vfmadd132ps ymm0,ymm3,ymm4
#   71e: vfmadd231ps ymm1,ymm0,YMMWORD PTR [r14+rax*1]
#   724: jmp 6a8 <qgemv8_avx2+0x6a8>
#   726: vxorps xmm2,xmm2,xmm2
#   72a: xor eax,eax
#   72c: vmovaps ymm1,ymm2
#   730: jmp 6a3 <qgemv8_avx2+0x6a3>
#   735: cmp QWORD PTR [rbp+0x18],0xf
#   73a: jle 74f <qgemv8_avx2+0x74f>
#   73c: mov eax,0x1
#   741: add ecx,0x1
#   744: mov r10,rax
#   747: shl r10,cl
#   74a: cmp r10,r9
#   74d: jl 741 <qgemv8_avx2+0x741>
#   74f: cmp QWORD PTR [rsp-0x8],0x0
#   755: jle 314 <qgemv8_avx2+0x314>
#   75b: mov QWORD PTR [rsp-0x28],r8
#   760: mov r13,QWORD PTR [rsp-0x38]
#   765: xor r15d,r15d
#   768: mov r11,QWORD PTR [rsp-0x48]
#   76d: mov r10,QWORD PTR [rsp-0x40]
#   772: mov QWORD PTR [rsp-0x68],rdx
#   777: cmp rdi,0xf
#   77b: jle 88b <qgemv8_avx2+0x88b>
#   781: vxorps xmm4,xmm4,xmm4
#   785: mov rdx,r14
#   788: mov eax,0x1
#   78d: vmovaps ymm1,ymm4
#   791: vmovaps ymm2,ymm4
#   795: vmovaps ymm3,ymm4
#   799: nop DWORD PTR [rax+0x0]
#   7a0: lea r8,[rax-0x1]
#   7a4: vpmovzxbd ymm0,QWORD PTR [r13+rax*8-0x8]
#   7ab: sar r8,cl
#   7ae: vbroadcastss ymm5,DWORD PTR [r11+r8*4]
#   7b4: vbroadcastss ymm6,DWORD PTR [r10+r8*4]
#   7ba: mov r8,rax
#   7bd: vcvtdq2ps ymm0,ymm0
#   7c1: sar r8,cl
#   7c4: vfmadd132ps ymm0,ymm5,ymm6
#   7c9: vbroadcastss ymm5,DWORD PTR [r11+r8*4]
#   7cf: vbroadcastss ymm6,DWORD PTR [r10+r8*4]
#   7d5: vfmadd231ps ymm3,ymm0,YMMWORD PTR [rdx]
#   7da: vfmadd231ps ymm1,ymm0,YMMWORD PTR [rdx+rdi*4]
#   7e0: vpmovzxbd ymm0,QWORD PTR [r13+rax*8+0x0]
#   7e7: add rax,0x2
#   7eb: vcvtdq2ps ymm0,ymm0
#   7ef: vfmadd132ps ymm0,ymm5,ymm6
#   7f4: vfmadd231ps ymm2,ymm0,YMMWORD PTR [rdx+0x20]
#   7fa: vfmadd231ps ymm4,ymm0,YMMWORD PTR [rdx+rdi*4+0x20]
#   801: add rdx,0x40
#   805: cmp rax,r12
#   808: jl 7a0 <qgemv8_avx2+0x7a0>
#   80a: mov rax,QWORD PTR [rsp-0x18]
#   80f: cmp r12,rax
#   812: jg 8a6 <qgemv8_avx2+0x8a6>
#   818: vaddps ymm2,ymm2,ymm3
#   81c: vaddps ymm1,ymm1,ymm4
#   820: mov rax,QWORD PTR [rsp-0x10]
#   825: add r13,rdi
#   828: add r11,rsi
#   82b: add r10,rsi
#   82e: vextractf128 xmm0,ymm2,0x1
#   834: vaddps xmm0,xmm0,xmm2
#   838: vmovhlps xmm2,xmm0,xmm0
#   83c: vaddps xmm0,xmm0,xmm2
#   840: vmovshdup xmm2,xmm0
#   844: vaddss xmm0,xmm0,xmm2
#   848: vmovss DWORD PTR [rax+r15*4],xmm0
#   84e: vextractf128 xmm0,ymm1,0x1
#   854: mov rax,QWORD PTR [rsp]
#   858: vaddps xmm0,xmm0,xmm1
#   85c: vmovhlps xmm1,xmm0,xmm0
#   860: vaddps xmm0,xmm0,xmm1
#   864: vmovshdup xmm1,xmm0
#   868: vaddss xmm0,xmm0,xmm1
#   86c: vmovss DWORD PTR [rax+r15*4],xmm0
#   872: add r15,0x1
#   876: cmp QWORD PTR [rsp-0x8],r15
#   87b: je 6e9 <qgemv8_avx2+0x6e9>
#   881: cmp rdi,0xf
#   885: jg 781 <qgemv8_avx2+0x781>
#   88b: vxorps xmm4,xmm4,xmm4
#   88f: xor eax,eax
#   891: vmovaps ymm1,ymm4
#   895: vmovaps ymm2,ymm4
#   899: vmovaps ymm3,ymm4
#   89d: cmp r12,rax
#   8a0: jle 818 <qgemv8_avx2+0x818>
#   8a6: mov rdx,rax
#   8a9: vpmovzxbd ymm0,QWORD PTR [r13+rax*8+0x0]
#   8b0: sar rdx,cl
#   8b3: vbroadcastss ymm5,DWORD PTR [r11+rdx*4]
#   8b9: vbroadcastss ymm6,DWORD PTR [r10+rdx*4]
#   8bf: mov rdx,rax
#   8c2: vcvtdq2ps ymm0,ymm0
#   8c6: shl rdx,0x5
#   8ca: lea rax,[rdi+rax*8]
#   8ce: vfmadd132ps ymm0,ymm5,ymm6
#   8d3: vfmadd231ps ymm3,ymm0,YMMWORD PTR [r14+rdx*1]
#   8d9: vfmadd231ps ymm1,ymm0,YMMWORD PTR [r14+rax*4]
#   8df: jmp 818 <qgemv8_avx2+0x818>
CODE["qgemv8_avx2"] = bytes.fromhex(
    "554889e54157415641554154534883e4e04883ec0848897424c048897c24c8488b7520488b7d1048895424b84c894c24"
    "f84885f60f8e020300004885ff4c8d6707488b5d184889c84c0f49e74d89ce4c89c2488d4b074c8d043f49c1fc034885"
    "db480f49cb498d1c3848c1f9034989c94c89f149c1e6044c897424a04989ce488d0c8d0000000048894c24d04801d148"
    "8d56fc48890c244a8d0cf14989c6488d46ff4883e0fc48894c24e04889f94829c24889f848c1e10448895424b0489948"
    "f77d1848894c24a84889f1488d348500000000498d4424fe48d1e84883ff0f488d540002b802000000480f4fc24889ca"
    "48894424e8488b4c24d0488b04244829c831c948894424f04883fa010f84ca0400004883fa020f84190600004883fa03"
    "0f849c02000048837d180f7e130f1f0083c101b80100000048d3e04939c17ff048837c24f8000f8ec80100004c8b3c24"
    "488b4424d048895424984c8b6c24c84c8b5c24b84c894c24904c01f84c8b5424c04531ff48894424d80f1f8000000000"
    "4883ff0f0f8e11020000c5e057db4c89f0ba01000000c5fc28ebc5fc28f3c5fc28cbc57c28c3c5fc28d3c5fc28e3c5fc"
    "28fb660f1f4400004c8d4affc4c27d3144d5f849d3f9c4027d180c8bc4027d18148a4989d1c5fc5bc049d3f9c4c23598"
    "c2c4027d180c8bc4027d18148ac4e27db838c4e27db814b8c4a27db80c80c4e27db82c98c4c27d3144d5004883c202c5"
    "fc5bc0c4c23598c2c4e27db86020c4627db844b820c4a27db8748020c4e27db85c98204883c0404939d40f8f78ffffff"
    "488b4424e84939c40f8ffd000000c5dc58e7c4c16c58d0488b4424f04901fdc5f458cec5e458dd4901f34901f2c4e37d"
    "19e001c5f858c4c5f812e0c5f858c4c5fa16e0c5fa58c4c4a17a1104b8c4e37d19d001488b0424c5f858c2c5f812d0c5"
    "f858c2c5fa16d0c5fa58c2c4a17a1104b8c4e37d19c801488b4424d8c5f858c1c5f812c8c5f858c1c5fa16c8c5fa58c1"
    "c4a17a1104b8c4e37d19d801488b4424e0c5f858c3c5f812c8c5f858c1c5fa16c8c5fa58c1c4a17a1104b84983c7014c"
    "397c24f80f8576feffff488b5424984c8b4c2490488b4424a8488b4c24a04883ea0448010c2448014c24e04901c64839"
    "5424b00f85bcfdffffc5f877488d65d85b415c415d415e415f5dc34889c2c4c27d3144c50048d3fac4427d180c93c442"
    "7d181492c5fc5bc04889c2488d04c748c1e205c4c23598c2c4c27db81486c4c27db83c164801f8c4c27db80c864801f8"
    "c4c27db82c86e9b3feffffc5e057db31c0c5fc28ebc5fc28f3c5fc28cbc57c28c3c5fc28d3c5fc28e3c5fc28fbe983fe"
    "ffff48837d180f7e1083c101b80100000048d3e04c39c87cf048837c24f8000f8e2fffffff4c8b3c24488b4424d04889"
    "5424984c8b6c24c84c8b5c24b84c894c24904c01f848895c24884c8b5424c04531ff48894424d8488b5c24f04883ff0f"
    "0f8e97010000c5c857f64c89f0ba01000000c5fc28cec5fc28d6c5fc28e6c5fc28dec5fc28ee662e0f1f840000000000"
    "4c8d4affc4c27d3144d5f849d3f9c4827d183c8bc4027d18048a4989d1c5fc5bc049d3f9c4c24598c0c4827d183c8bc4"
    "027d18048ac4e27db828c4e27db824b8c4a27db80c80c4c27d3144d5004883c202c5fc5bc0c4c24598c0c4e27db85820"
    "c4e27db854b820c4a27db87480204883c0404c39e27c89488b4424e84939c40f8fa1000000c5e458ddc5ec58d4488b04"
    "244901fdc5f458ce4901f34901f2c4e37d19d801c5f858c3c5f812d8c5f858c3c5fa16d8c5fa58c3c4a17a1104bbc4e3"
    "7d19d001c5f858c2c5f812d0c5f858c2c5fa16d0c5fa58c2c4a17a1104b8c4e37d19c801488b4424d8c5f858c1c5f812"
    "c8c5f858c1c5fa16c8c5fa58c1c4a17a1104b84983c7014c397c24f80f85bafeffff488b5424984c8b4c2490488b5c24"
    "88e99efdffff4889c2c4c27d3144c50048d3fac4c27d183c93c4427d180492c5fc5bc04889c2488d04c748c1e205c4c2"
    "4598c0c4c27db82486c4c27db82c164801f8c4c27db80c86e918ffffffc5c857f631c0c5fc28cec5fc28d6c5fc28e6c5"
    "fc28dec5fc28eee9f0feffff48837d180f7e13b80100000083c1014989c249d3e24d39ca7cf248837c24f8000f8e12fd"
    "ffff4c894424d84c8b6c24c84531ff4c8b5c24b84c8b5424c048895424984883ff0f0f8efe000000c5e857d24d89f0b8"
    "01000000c5fc28ca0f1f840000000000488d50ffc4c27d3144c5f84983c04048d3fac4c27d181c93c4c27d1824924889"
    "c2c5fc5bc048d3fac4e26598c4c4c27d181c93c4c27d182492c4c27db848c0c4c27d3144c5004883c002c5fc5bc0c4e2"
    "6598c4c4c27db850e04c39e07ca2488b4424e84939c47f50c5f458ca488b4424f04901fd4901f34901f2c4e37d19c801"
    "c5f858c1c5f812c8c5f858c1c5fa16c8c5fa58c1c4a17a1104b84983c7014c397c24f80f8535ffffff4c8b4424d8488b"
    "542498e91cfcffff4889c2c4c27d3144c50048c1e00548d3fac4c27d181c93c4c27d182492c5fc5bc0c4e26598c4c4c2"
    "7db80c06eb82c5e857d231c0c5fc28cae96effffff48837d180f7e13b80100000083c1014989c249d3e24d39ca7cf248"
    "837c24f8000f8eb9fbffff4c894424d84c8b6c24c84531ff4c8b5c24b84c8b5424c048895424984883ff0f0f8e0a0100"
    "00c5d857e44c89f2b801000000c5fc28ccc5fc28d4c5fc28dc0f1f80000000004c8d40ffc4c27d3144c5f849d3f8c482"
    "7d182c83c4827d1834824989c0c5fc5bc049d3f8c4e25598c6c4827d182c83c4827d183482c4e27db81ac4e27db80cba"
    "c4c27d3144c5004883c002c5fc5bc0c4e25598c6c4e27db85220c4e27db864ba204883c2404c39e07c96488b4424e849"
    "39c40f8f8e000000c5ec58d3c5f458cc488b4424f04901fd4901f34901f2c4e37d19d001c5f858c2c5f812d0c5f858c2"
    "c5fa16d0c5fa58c2c4a17a1104b8c4e37d19c801488b0424c5f858c1c5f812c8c5f858c1c5fa16c8c5fa58c1c4a17a11"
    "04b84983c7014c397c24f80f8468feffff4883ff0f0f8ff6feffffc5d857e431c0c5fc28ccc5fc28d4c5fc28dc4939c4"
    "0f8e72ffffff4889c2c4c27d3144c50048d3fac4c27d182c93c4c27d1834924889c2c5fc5bc048c1e205488d04c7c4e2"
    "5598c6c4c27db81c16c4c27db80c86e934ffffff"
)
