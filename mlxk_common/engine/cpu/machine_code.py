"""Machine code of the CPU path's own kernels (x86-64), written by
scripts/build_kernels.py from scripts/kernels/*.c -- do not edit, rebuild.

Each entry: the CPU flags the code needs, the offset of the function in the
bytes, and the bytes.  The disassembly of each follows as a comment.
"""

COMPILER = 'gcc (Debian 12.2.0-14+deb12u1) 12.2.0'

KERNELS = {
    'half_matvec': {
        "cpu_flags": ('avx2', 'fma', 'f16c'),
        "entry": 0,
        "code": bytes.fromhex(
            '554989f24889e541574989ff4156415541544989d44889ca534883e4e04883f9030f8e040200004b8d0c00488d42fc49'
            '89f94c897c24f0488d3c0f4989c548894424f84d89c6488d340f4983e5fc49c1e6054531db4a8d1cc5000000004801f1'
            '4983c5040f1f40004d85c00f8e9f010000c5f057c94d89f731c0c5fc28d1c5fc28d9c5fc28e1662e0f1f840000000000'
            'a81f7514430f180c39420f180c3f420f180c3e420f180c39c4c17c100482c4c27d132c414983c710c4e255b8e0c4e27d'
            '132c47c4e255b8d8c4e27d132c46c4e255b8d0c4e27d132c414883c008c4e255b8c84939c07fa9c4e37d19e0014901d9'
            '4801df4801dec5f858c44801d9c5f812e0c5f858c4c5fa16e0c5fa58c4c4e37d19dc01c5d858dbc5e012e3c5e058dcc5'
            'fa16e3c5e258e4c4e37d19d301c5e058d2c5f814c4c5e812dac5e858d3c5fa16dac5ea58d3c4e37d19cb01c5e058c9c5'
            'f012d9c5f058cbc5fa16d9c5f258cbc5e814d1c5f816c2c4817811049c4983c3044d39dd0f85eefeffff488b4424f84c'
            '8b7c24f048c1e802488d0485040000004839c27e63498d34844b8d3c00490fafc0498d1494498d0c474d85c07e7731c0'
            'c5f857c00f1f4000c4e27d130c41c4c275b804824883c0084939c07febc4e37d19c1014883c6044801f9c5f058c0c5f8'
            '12c8c5f858c1c5fa16c8c5fa58c1c5fa1146fc4839f275b1c5f877488d65d85b415c415d415e415f5dc3660f1f440000'
            'c5f057c9c5fc28d1c5fc28d9c5fc28e1e9c2feffffc5f857c0eba231c0e95effffff'
        ),
    },
}

# half_matvec (gcc -mavx2 -mfma -mf16c), intel syntax:
# 0000000000000000 <half_matvec>:
#    0:	push   rbp
#    1:	mov    r10,rsi
#    4:	mov    rbp,rsp
#    7:	push   r15
#    9:	mov    r15,rdi
#    c:	push   r14
#    e:	push   r13
#   10:	push   r12
#   12:	mov    r12,rdx
#   15:	mov    rdx,rcx
#   18:	push   rbx
#   19:	and    rsp,0xffffffffffffffe0
#   1d:	cmp    rcx,0x3
#   21:	jle    22b <half_matvec+0x22b>
#   27:	lea    rcx,[r8+r8*1]
#   2b:	lea    rax,[rdx-0x4]
#   2f:	mov    r9,rdi
#   32:	mov    QWORD PTR [rsp-0x10],r15
#   37:	lea    rdi,[rdi+rcx*1]
#   3b:	mov    r13,rax
#   3e:	mov    QWORD PTR [rsp-0x8],rax
#   43:	mov    r14,r8
#   46:	lea    rsi,[rdi+rcx*1]
#   4a:	and    r13,0xfffffffffffffffc
#   4e:	shl    r14,0x5
#   52:	xor    r11d,r11d
#   55:	lea    rbx,[r8*8+0x0]
#   5d:	add    rcx,rsi
#   60:	add    r13,0x4
#   64:	nop    DWORD PTR [rax+0x0]
#   68:	test   r8,r8
#   6b:	jle    210 <half_matvec+0x210>
#   71:	vxorps xmm1,xmm1,xmm1
#   75:	mov    r15,r14
#   78:	xor    eax,eax
#   7a:	vmovaps ymm2,ymm1
#   7e:	vmovaps ymm3,ymm1
#   82:	vmovaps ymm4,ymm1
#   86:	cs nop WORD PTR [rax+rax*1+0x0]
#   90:	test   al,0x1f
#   92:	jne    a8 <half_matvec+0xa8>
#   94:	prefetcht0 BYTE PTR [r9+r15*1]
#   99:	prefetcht0 BYTE PTR [rdi+r15*1]
#   9e:	prefetcht0 BYTE PTR [rsi+r15*1]
#   a3:	prefetcht0 BYTE PTR [rcx+r15*1]
#   a8:	vmovups ymm0,YMMWORD PTR [r10+rax*4]
#   ae:	vcvtph2ps ymm5,XMMWORD PTR [r9+rax*2]
#   b4:	add    r15,0x10
#   b8:	vfmadd231ps ymm4,ymm5,ymm0
#   bd:	vcvtph2ps ymm5,XMMWORD PTR [rdi+rax*2]
#   c3:	vfmadd231ps ymm3,ymm5,ymm0
#   c8:	vcvtph2ps ymm5,XMMWORD PTR [rsi+rax*2]
#   ce:	vfmadd231ps ymm2,ymm5,ymm0
#   d3:	vcvtph2ps ymm5,XMMWORD PTR [rcx+rax*2]
#   d9:	add    rax,0x8
#   dd:	vfmadd231ps ymm1,ymm5,ymm0
#   e2:	cmp    r8,rax
#   e5:	jg     90 <half_matvec+0x90>
#   e7:	vextractf128 xmm0,ymm4,0x1
#   ed:	add    r9,rbx
#   f0:	add    rdi,rbx
#   f3:	add    rsi,rbx
#   f6:	vaddps xmm0,xmm0,xmm4
#   fa:	add    rcx,rbx
#   fd:	vmovhlps xmm4,xmm0,xmm0
#  101:	vaddps xmm0,xmm0,xmm4
#  105:	vmovshdup xmm4,xmm0
#  109:	vaddss xmm0,xmm0,xmm4
#  10d:	vextractf128 xmm4,ymm3,0x1
#  113:	vaddps xmm3,xmm4,xmm3
#  117:	vmovhlps xmm4,xmm3,xmm3
#  11b:	vaddps xmm3,xmm3,xmm4
#  11f:	vmovshdup xmm4,xmm3
#  123:	vaddss xmm4,xmm3,xmm4
#  127:	vextractf128 xmm3,ymm2,0x1
#  12d:	vaddps xmm2,xmm3,xmm2
#  131:	vunpcklps xmm0,xmm0,xmm4
#  135:	vmovhlps xmm3,xmm2,xmm2
#  139:	vaddps xmm2,xmm2,xmm3
#  13d:	vmovshdup xmm3,xmm2
#  141:	vaddss xmm2,xmm2,xmm3
#  145:	vextractf128 xmm3,ymm1,0x1
#  14b:	vaddps xmm1,xmm3,xmm1
#  14f:	vmovhlps xmm3,xmm1,xmm1
#  153:	vaddps xmm1,xmm1,xmm3
#  157:	vmovshdup xmm3,xmm1
#  15b:	vaddss xmm1,xmm1,xmm3
#  15f:	vunpcklps xmm2,xmm2,xmm1
#  163:	vmovlhps xmm0,xmm0,xmm2
#  167:	vmovups XMMWORD PTR [r12+r11*4],xmm0
#  16d:	add    r11,0x4
#  171:	cmp    r13,r11
#  174:	jne    68 <half_matvec+0x68>
#  17a:	mov    rax,QWORD PTR [rsp-0x8]
#  17f:	mov    r15,QWORD PTR [rsp-0x10]
#  184:	shr    rax,0x2
#  188:	lea    rax,[rax*4+0x4]
#  190:	cmp    rdx,rax
#  193:	jle    1f8 <half_matvec+0x1f8>
#  195:	lea    rsi,[r12+rax*4]
#  199:	lea    rdi,[r8+r8*1]
#  19d:	imul   rax,r8
#  1a1:	lea    rdx,[r12+rdx*4]
#  1a5:	lea    rcx,[r15+rax*2]
#  1a9:	test   r8,r8
#  1ac:	jle    225 <half_matvec+0x225>
#  1ae:	xor    eax,eax
#  1b0:	vxorps xmm0,xmm0,xmm0
#  1b4:	nop    DWORD PTR [rax+0x0]
#  1b8:	vcvtph2ps ymm1,XMMWORD PTR [rcx+rax*2]
#  1be:	vfmadd231ps ymm0,ymm1,YMMWORD PTR [r10+rax*4]
#  1c4:	add    rax,0x8
#  1c8:	cmp    r8,rax
#  1cb:	jg     1b8 <half_matvec+0x1b8>
#  1cd:	vextractf128 xmm1,ymm0,0x1
#  1d3:	add    rsi,0x4
#  1d7:	add    rcx,rdi
#  1da:	vaddps xmm0,xmm1,xmm0
#  1de:	vmovhlps xmm1,xmm0,xmm0
#  1e2:	vaddps xmm0,xmm0,xmm1
#  1e6:	vmovshdup xmm1,xmm0
#  1ea:	vaddss xmm0,xmm0,xmm1
#  1ee:	vmovss DWORD PTR [rsi-0x4],xmm0
#  1f3:	cmp    rdx,rsi
#  1f6:	jne    1a9 <half_matvec+0x1a9>
#  1f8:	vzeroupper
#  1fb:	lea    rsp,[rbp-0x28]
#  1ff:	pop    rbx
#  200:	pop    r12
#  202:	pop    r13
#  204:	pop    r14
#  206:	pop    r15
#  208:	pop    rbp
#  209:	ret
#  20a:	nop    WORD PTR [rax+rax*1+0x0]
#  210:	vxorps xmm1,xmm1,xmm1
#  214:	vmovaps ymm2,ymm1
#  218:	vmovaps ymm3,ymm1
#  21c:	vmovaps ymm4,ymm1
#  220:	jmp    e7 <half_matvec+0xe7>
#  225:	vxorps xmm0,xmm0,xmm0
#  229:	jmp    1cd <half_matvec+0x1cd>
#  22b:	xor    eax,eax
#  22d:	jmp    190 <half_matvec+0x190>
