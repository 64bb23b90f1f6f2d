/*
 * colo4j OpenCL C kernels: the opencl KernelBackend's counterpart of the cpu package. OpenCL C 1.2, float32 only.
 *
 * Built once per device (OpenClDevice) with:
 *   -DVW=<4|8|16>  vector width of row and column-strip loops (16 on CPU devices: one AVX-512 register)
 *   -DRW=<2^k>     work-items per row in the row kernels (1 on CPU devices: a row is one vectorised loop;
 *                  64..256 on GPUs: the row is split across a work-group and reduced in local memory)
 * Offsets and strides are in elements. Every kernel reads its operands at (buffer + offset), so tensor
 * views over one storage share a single device buffer.
 */

#if VW == 16
typedef float16 floatv;
#define VLOAD vload16
#define VSTORE vstore16
inline float hsum(float16 v) { float8 a = v.lo + v.hi; float4 b = a.lo + a.hi; float2 c = b.lo + b.hi; return c.x + c.y; }
inline float hmax(float16 v) { float8 a = fmax(v.lo, v.hi); float4 b = fmax(a.lo, a.hi); float2 c = fmax(b.lo, b.hi); return fmax(c.x, c.y); }
#elif VW == 8
typedef float8 floatv;
#define VLOAD vload8
#define VSTORE vstore8
inline float hsum(float8 v) { float4 b = v.lo + v.hi; float2 c = b.lo + b.hi; return c.x + c.y; }
inline float hmax(float8 v) { float4 b = fmax(v.lo, v.hi); float2 c = fmax(b.lo, b.hi); return fmax(c.x, c.y); }
#elif VW == 4
typedef float4 floatv;
#define VLOAD vload4
#define VSTORE vstore4
inline float hsum(float4 v) { float2 c = v.lo + v.hi; return c.x + c.y; }
inline float hmax(float4 v) { float2 c = fmax(v.lo, v.hi); return fmax(c.x, c.y); }
#else
#error "VW must be 4, 8 or 16"
#endif

#ifndef RW
#define RW 1
#endif

/* ---- work-group reductions over the RW work-items of a row (identity when RW == 1) ------------------------ */

#if RW > 1
inline float wg_sum(float v, __local float* s) {
    int l = get_local_id(0);
    s[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int o = RW / 2; o > 0; o >>= 1) {
        if (l < o) {
            s[l] += s[l + o];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = s[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}
inline float wg_max(float v, __local float* s) {
    int l = get_local_id(0);
    s[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int o = RW / 2; o > 0; o >>= 1) {
        if (l < o) {
            s[l] = fmax(s[l], s[l + o]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = s[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}
#define LID get_local_id(0)
#else
#define wg_sum(v, s) (v)
#define wg_max(v, s) (v)
#define LID 0
#endif

/* A row of n floats is VW-wide chunks c = LID, LID + RW, ... < n / VW, then tail elements j = n/VW*VW + LID, ... */
#define FOR_CHUNKS(c, n) for (int c = LID; c < (n) / VW; c += RW)
#define FOR_TAIL(j, n) for (int j = (n) / VW * VW + LID; j < (n); j += RW)
#define FOR_ALL(j, from, n) for (int j = (from) + LID; j < (n); j += RW)

/* ---- sgemm ---------------------------------------------------------------------------------------------------
 * C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b]. op(A) is first packed into panels of MR rows (Ap[b][ib][k][MR])
 * and op(B) into panels of NR = 32 columns (Bp[b][jb][k][NR]), zero-padded at the edges, so the inner loop reads
 * two streams sequentially whatever the operands' transposition, and each work-item keeps an MR x 32 block of C
 * in 2 * MR float16 registers.
 */
#define MR 4
#define NR 32

/* Each packing work-item moves a KB-deep slice of one panel, with vector loads where the layout allows. */
#define KB 16

__kernel void pack_a(__global const float* a, long aOff, long aBatch, int lda, int transA,
                     int m, int k, int mBlocks, __global float* ap) {
    int k0 = get_global_id(0) * KB;
    int ib = get_global_id(1);
    int b = get_global_id(2);
    if (k0 >= k) {
        return;
    }
    int kn = min(KB, k - k0);
    int i0 = ib * MR;
    bool full = i0 + MR <= m;
    __global const float* src = a + aOff + b * aBatch;
    __global float* dst = ap + (((long) b * mBlocks + ib) * k + k0) * MR;
    if (transA) {
        /* element (i, kk) at kk * lda + i: the panel's MR rows are adjacent at each kk */
        for (int q = 0; q < kn; q++) {
            __global const float* s = src + (long) (k0 + q) * lda + i0;
            float4 v = full ? vload4(0, s)
                            : (float4) (s[0], i0 + 1 < m ? s[1] : 0.0f, i0 + 2 < m ? s[2] : 0.0f, i0 + 3 < m ? s[3] : 0.0f);
            vstore4(v, q, dst);
        }
    } else {
        /* element (i, kk) at i * lda + kk: each of the MR rows is contiguous in kk */
        __global const float* r0 = src + (long) i0 * lda + k0;
        __global const float* r1 = r0 + lda;
        __global const float* r2 = r1 + lda;
        __global const float* r3 = r2 + lda;
        if (full) {
            for (int q = 0; q < kn; q++) {
                vstore4((float4) (r0[q], r1[q], r2[q], r3[q]), q, dst);
            }
        } else {
            for (int q = 0; q < kn; q++) {
                vstore4((float4) (r0[q], i0 + 1 < m ? r1[q] : 0.0f, i0 + 2 < m ? r2[q] : 0.0f, i0 + 3 < m ? r3[q] : 0.0f), q, dst);
            }
        }
    }
}

__kernel void pack_b(__global const float* bm, long bOff, long bBatch, int ldb, int transB,
                     int k, int n, int nBlocks, __global float* bp) {
    int k0 = get_global_id(0) * KB;
    int jb = get_global_id(1);
    int b = get_global_id(2);
    if (k0 >= k) {
        return;
    }
    int kn = min(KB, k - k0);
    int j0 = jb * NR;
    int cols = min(NR, n - j0);
    __global const float* src = bm + bOff + b * bBatch;
    __global float* dst = bp + (((long) b * nBlocks + jb) * k + k0) * NR;
    if (!transB) {
        /* element (kk, j) at kk * ldb + j: a panel row is NR contiguous floats */
        for (int q = 0; q < kn; q++) {
            __global const float* s = src + (long) (k0 + q) * ldb + j0;
            if (cols == NR) {
                vstore16(vload16(0, s), 0, dst + q * NR);
                vstore16(vload16(1, s), 1, dst + q * NR);
            } else {
                for (int c = 0; c < NR; c++) {
                    dst[q * NR + c] = c < cols ? s[c] : 0.0f;
                }
            }
        }
    } else {
        /* element (kk, j) at j * ldb + kk: each column is contiguous in kk; transpose through the L1-sized block */
        for (int c = 0; c < NR; c++) {
            __global const float* s = src + (long) (j0 + c) * ldb + k0;
            for (int q = 0; q < kn; q++) {
                dst[q * NR + c] = c < cols ? s[q] : 0.0f;
            }
        }
    }
}

#define GEMM_ACC(r) float16 c##r##0 = (float16) (0.0f), c##r##1 = (float16) (0.0f);
#define GEMM_STEP(r) { float16 av = (float16) (pa[r]); c##r##0 = fma(av, b0, c##r##0); c##r##1 = fma(av, b1, c##r##1); }
#define GEMM_STORE(r) { \
    int i = ib * MR + r; \
    if (i < m) { \
        __global float* cr = crow + (long) i * ldc; \
        if (full) { \
            float16 o0 = alpha * c##r##0; \
            float16 o1 = alpha * c##r##1; \
            if (beta != 0.0f) { \
                o0 += beta * vload16(0, cr); \
                o1 += beta * vload16(1, cr); \
            } \
            vstore16(o0, 0, cr); \
            vstore16(o1, 1, cr); \
        } else { \
            float t[NR]; \
            vstore16(c##r##0, 0, t); \
            vstore16(c##r##1, 1, t); \
            for (int q = 0; q < n - j0; q++) { \
                cr[q] = beta != 0.0f ? alpha * t[q] + beta * cr[q] : alpha * t[q]; \
            } \
        } \
    } }

/*
 * One k-slice [kStart, kStart + kLen) of the product (the host loops over slices so a B panel slice stays in cache
 * while the work-items of a group stream it; slices after the first pass beta = 1). aPanels / bPanels: 1 when that
 * operand is broadcast over the batch.
 */
__kernel void gemm_packed(__global const float* ap, __global const float16* bp, int m, int n, int k, int kStart, int kLen,
                          int mBlocks, int nBlocks, int aPanels, int bPanels, float alpha, float beta,
                          __global float* c, long cOff, long cBatch, int ldc) {
    int ib = get_global_id(0);
    int jb = get_global_id(1);
    int b = get_global_id(2);
    if (ib >= mBlocks) {
        return;
    }
    __global const float* pa = ap + (((long) (aPanels == 1 ? 0 : b) * mBlocks + ib) * k + kStart) * MR;
    __global const float16* pb = bp + (((long) (bPanels == 1 ? 0 : b) * nBlocks + jb) * k + kStart) * 2;
    GEMM_ACC(0) GEMM_ACC(1) GEMM_ACC(2) GEMM_ACC(3)
    for (int kk = 0; kk < kLen; kk++) {
        float16 b0 = pb[0];
        float16 b1 = pb[1];
        GEMM_STEP(0) GEMM_STEP(1) GEMM_STEP(2) GEMM_STEP(3)
        pa += MR;
        pb += 2;
    }
    int j0 = jb * NR;
    bool full = j0 + NR <= n;
    __global float* crow = c + cOff + b * cBatch + j0;
    GEMM_STORE(0) GEMM_STORE(1) GEMM_STORE(2) GEMM_STORE(3)
}

/*
 * The sgemm for GPUs (chosen for non-CPU devices): classic 16 x 16 tiles through local memory, one element of C per
 * work-item, reading the operands in place (transposed or not, batch stride 0 for a broadcast operand). The packed
 * register-blocked kernel above needs 128 accumulators per work-item, which suits a CPU core, not a GPU thread.
 */
#define TS 16
__kernel void gemm_tiled(__global const float* a, long aOff, long aBatch, int lda, int transA,
                         __global const float* bm, long bOff, long bBatch, int ldb, int transB,
                         int m, int n, int k, float alpha, float beta, __global float* c, long cOff, long cBatch, int ldc) {
    __local float as[TS][TS + 1];
    __local float bs[TS][TS + 1];
    int lx = get_local_id(0);
    int ly = get_local_id(1);
    int j = get_group_id(0) * TS + lx;
    int i = get_group_id(1) * TS + ly;
    long bt = get_global_id(2);
    __global const float* pa = a + aOff + bt * aBatch;
    __global const float* pb = bm + bOff + bt * bBatch;
    float acc = 0.0f;
    for (int k0 = 0; k0 < k; k0 += TS) {
        int ka = k0 + lx;
        as[ly][lx] = i < m && ka < k ? (transA ? pa[(long) ka * lda + i] : pa[(long) i * lda + ka]) : 0.0f;
        int kb = k0 + ly;
        bs[ly][lx] = kb < k && j < n ? (transB ? pb[(long) j * ldb + kb] : pb[(long) kb * ldb + j]) : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int q = 0; q < TS; q++) {
            acc = fma(as[ly][q], bs[q][lx], acc);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (i < m && j < n) {
        long p = cOff + bt * cBatch + (long) i * ldc + j;
        c[p] = beta != 0.0f ? alpha * acc + beta * c[p] : alpha * acc;
    }
}

/* ---- elementwise ---------------------------------------------------------------------------------------------- */

/* BinaryOp ordinals: ADD, SUB, MUL, DIV. */
inline float binary_apply(int op, float a, float b) {
    switch (op) {
        case 0: return a + b;
        case 1: return a - b;
        case 2: return a * b;
        default: return a / b;
    }
}

inline floatv binary_apply_v(int op, floatv a, floatv b) {
    switch (op) {
        case 0: return a + b;
        case 1: return a - b;
        case 2: return a * b;
        default: return a / b;
    }
}

/*
 * Each kernel exists once per op (suffix = the enum's ordinal), so the op is a compile-time constant and the
 * work-item loop vectorises; a runtime switch inside the kernel would keep it scalar.
 */

/* All three operands dense over n elements (after collapsing dims). */
#define BINARY_FLAT(OP) \
__kernel void binary_flat_##OP(__global const float* a, long aOff, __global const float* b, long bOff, \
                               __global float* out, long oOff, long n) { \
    long i = get_global_id(0); \
    if (i < n) { \
        out[oOff + i] = binary_apply(OP, a[aOff + i], b[bOff + i]); \
    } \
}
BINARY_FLAT(0)
BINARY_FLAT(1)
BINARY_FLAT(2)
BINARY_FLAT(3)

/*
 * General strided/broadcast case: dim 0 walks the innermost (collapsed) dim of `inner` elements with strides
 * ia/ib/io (0 for a broadcast operand), dim 1 the outer index, decoded over up to 4 outer dims
 * (sizes s0..s3, outermost first, unused dims size 1 and stride 0).
 */
#define BINARY_ND(OP) \
__kernel void binary_nd_##OP(__global const float* a, long aOff, __global const float* b, long bOff, \
                             __global float* out, long oOff, int inner, long ia, long ib, long io, \
                             int4 s, long4 sa, long4 sb, long4 so) { \
    int x0 = get_global_id(0) * VW; \
    long r = get_global_id(1); \
    if (x0 >= inner) { \
        return; \
    } \
    long i3 = r % s.w; r /= s.w; \
    long i2 = r % s.z; r /= s.z; \
    long i1 = r % s.y; r /= s.y; \
    long i0 = r; \
    __global const float* pa = a + aOff + i0 * sa.x + i1 * sa.y + i2 * sa.z + i3 * sa.w + x0 * ia; \
    __global const float* pb = b + bOff + i0 * sb.x + i1 * sb.y + i2 * sb.z + i3 * sb.w + x0 * ib; \
    __global float* po = out + oOff + i0 * so.x + i1 * so.y + i2 * so.z + i3 * so.w + x0 * io; \
    if (x0 + VW <= inner && io == 1 && (ia == 0 || ia == 1) && (ib == 0 || ib == 1)) { \
        floatv va = ia == 1 ? VLOAD(0, pa) : (floatv) (pa[0]); \
        floatv vb = ib == 1 ? VLOAD(0, pb) : (floatv) (pb[0]); \
        VSTORE(binary_apply_v(OP, va, vb), 0, po); \
    } else { \
        for (int x = 0; x < VW && x0 + x < inner; x++) { \
            po[x * io] = binary_apply(OP, pa[x * ia], pb[x * ib]); \
        } \
    } \
}
BINARY_ND(0)
BINARY_ND(1)
BINARY_ND(2)
BINARY_ND(3)

#define SQRT_2_OVER_PI 0.7978845608028654f
#define GELU_COEF 0.044715f

/*
 * Unary ops: one UNARY(NAME, forward, derivative) line per io.colo4j.ops.kernel.UnaryOp constant, named as it
 * (the backend looks up unary_fwd_NAME and unary_bwd_NAME). Forward and derivative are function bodies over
 * x of type T, compiled once for float (the scalar tail) and once for floatv (VW elements per work-item).
 */
#define UNARY(OP, FWD, BWD) \
inline float OP##_fwd_s(float x) { typedef float T; FWD } \
inline floatv OP##_fwd_v(floatv x) { typedef floatv T; FWD } \
inline float OP##_bwd_s(float x) { typedef float T; BWD } \
inline floatv OP##_bwd_v(floatv x) { typedef floatv T; BWD } \
__kernel void unary_fwd_##OP(__global const float* x, long xOff, __global float* out, long oOff, long n) { \
    long i = get_global_id(0) * VW; \
    if (i + VW <= n) { \
        VSTORE(OP##_fwd_v(VLOAD(0, x + xOff + i)), 0, out + oOff + i); \
    } else { \
        for (; i < n; i++) { \
            out[oOff + i] = OP##_fwd_s(x[xOff + i]); \
        } \
    } \
} \
__kernel void unary_bwd_##OP(__global const float* x, long xOff, __global const float* g, long gOff, \
                             __global float* out, long oOff, long n) { \
    long i = get_global_id(0) * VW; \
    if (i + VW <= n) { \
        VSTORE(OP##_bwd_v(VLOAD(0, x + xOff + i)) * VLOAD(0, g + gOff + i), 0, out + oOff + i); \
    } else { \
        for (; i < n; i++) { \
            out[oOff + i] = OP##_bwd_s(x[xOff + i]) * g[gOff + i]; \
        } \
    } \
}

UNARY(GELU_TANH,
      return (T) (0.5f) * x * ((T) (1.0f) + tanh((T) (SQRT_2_OVER_PI) * (x + (T) (GELU_COEF) * x * x * x)));,
      T t = tanh(SQRT_2_OVER_PI * (x + GELU_COEF * x * x * x));
      T dInner = SQRT_2_OVER_PI * (1.0f + 3.0f * GELU_COEF * x * x);
      return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * dInner;)
UNARY(RELU,
      return fmax(x, (T) (0.0f));,
      return select((T) (0.0f), (T) (1.0f), x > 0.0f);)
UNARY(SILU,
      return x / ((T) (1.0f) + exp(-x));,
      T sg = 1.0f / (1.0f + exp(-x));
      return sg * (1.0f + x * (1.0f - sg));)
UNARY(EXP,
      return exp(x);,
      return exp(x);)
UNARY(NEG,
      return -x;,
      return (T) (-1.0f);)
UNARY(TANH,
      return tanh(x);,
      T t = tanh(x);
      return 1.0f - t * t;)
UNARY(GELU_ERF,
      return 0.5f * x * (1.0f + erf(x * M_SQRT1_2_F));,
      return 0.5f * (1.0f + erf(x * M_SQRT1_2_F)) + x * 0.3989422804014327f * exp(-0.5f * x * x);)

/* Init.Random's counter-based generator (splitmix64 finaliser); base = mix(seed), computed on the host. */
inline ulong mix64(ulong z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
    return z ^ (z >> 31);
}

/*
 * Dropout by global index (DropoutBits, GlobalIndex): local element e lies in run r = e / runLength, which starts at
 * global index runs[2r] | runs[2r + 1] << 32 (a long uploaded as two uints); global element g is dropped when
 * (mix64(base + g * golden) >> 11) + 1 <= threshold, base = mix(seed) and threshold = floor(p * 2^53) from the host.
 */
inline float dropout_scale(ulong base, ulong threshold, float keep, __global const uint* runs, long runLength, long e) {
    long r = e / runLength;
    ulong g = ((ulong) runs[2 * r] | ((ulong) runs[2 * r + 1] << 32)) + (ulong) (e - r * runLength);
    ulong bits = mix64(base + g * 0x9e3779b97f4a7c15UL);
    return ((bits >> 11) + 1) <= threshold ? 0.0f : keep;
}

/* out = in * mask; dropout's backward too (the mask redrawn, never stored). */
__kernel void dropout(ulong base, ulong threshold, float keep, __global const uint* runs, long runLength,
                      __global const float* in, long inOff, __global float* out, long outOff, long n) {
    long e = get_global_id(0);
    if (e < n) {
        out[outOff + e] = in[inOff + e] * dropout_scale(base, threshold, keep, runs, runLength, e);
    }
}

/* out = residual + (x + bias[e % c]) * mask (hasBias 0: no bias), rounded as the cpu backend: no multiply-add. */
__kernel void bias_dropout_add(ulong base, ulong threshold, float keep, __global const uint* runs, long runLength,
                               __global const float* x, long xOff, __global const float* b, long bOff, int hasBias, long c,
                               __global const float* res, long resOff, __global float* out, long outOff, long n) {
    #pragma OPENCL FP_CONTRACT OFF
    long e = get_global_id(0);
    if (e < n) {
        float v = hasBias ? x[xOff + e] + b[bOff + e % c] : x[xOff + e];
        float dropped = v * dropout_scale(base, threshold, keep, runs, runLength, e);
        out[outOff + e] = res[resOff + e] + dropped;
    }
}

/* ---- sum to a broadcast shape -----------------------------------------------------------------------------------
 * One work-item per output element: kept dims (up to 4, sizes ks, input strides ki, output strides ko) locate it,
 * then it adds the reduced dims (up to 4, sizes rs, input strides ri) in row-major order, as the cpu kernel does.
 */
__kernel void sum_to(__global const float* in, long inOff, __global float* out, long outOff, long count,
                     int4 ks, long4 ki, long4 ko, int4 rs, long4 ri) {
    long e = get_global_id(0);
    if (e >= count) {
        return;
    }
    long r = e;
    long k3 = r % ks.w; r /= ks.w;
    long k2 = r % ks.z; r /= ks.z;
    long k1 = r % ks.y; r /= ks.y;
    long k0 = r;
    long base = inOff + k0 * ki.x + k1 * ki.y + k2 * ki.z + k3 * ki.w;
    float acc = 0.0f;
    for (int r0 = 0; r0 < rs.x; r0++) {
        for (int r1 = 0; r1 < rs.y; r1++) {
            for (int r2 = 0; r2 < rs.z; r2++) {
                long p = base + r0 * ri.x + r1 * ri.y + r2 * ri.z;
                for (int r3 = 0; r3 < rs.w; r3++) {
                    acc += in[p + r3 * ri.w];
                }
            }
        }
    }
    out[outOff + k0 * ko.x + k1 * ko.y + k2 * ko.z + k3 * ko.w] = acc;
}

/* out[c] = sum over rows of in[r * n + c] (the contiguous bias-gradient case), VW columns per work-item. */
__kernel void column_sums(__global const float* in, long inOff, __global float* out, long outOff, int rows, int n) {
    int c0 = get_global_id(0) * VW;
    if (c0 >= n) {
        return;
    }
    __global const float* p = in + inOff;
    if (c0 + VW <= n) {
        floatv acc = (floatv) (0.0f);
        for (int r = 0; r < rows; r++) {
            acc += VLOAD(0, p + (long) r * n + c0);
        }
        VSTORE(acc, 0, out + outOff + c0);
    } else {
        for (int c = c0; c < n; c++) {
            float acc = 0.0f;
            for (int r = 0; r < rows; r++) {
                acc += p[(long) r * n + c];
            }
            out[outOff + c] = acc;
        }
    }
}

/* ---- softmax --------------------------------------------------------------------------------------------------- */

/* One work-group (RW work-items) per row; causalT > 0: rows are [.., T, T] and column j > row % T is masked. */
__kernel void softmax_fwd(__global const float* x, long xOff, __global float* y, long yOff, int n, int causalT,
                          float scale) {
#if RW > 1
    __local float red[RW];
#endif
    long row = get_group_id(0);
    __global const float* xr = x + xOff + row * n;
    __global float* yr = y + yOff + row * n;
    int valid = causalT > 0 ? (int) (row % causalT) + 1 : n;
    float m = -INFINITY;
    FOR_CHUNKS(c, valid) {
        m = fmax(m, hmax(VLOAD(c, xr)));
    }
    FOR_TAIL(j, valid) {
        m = fmax(m, xr[j]);
    }
    m = wg_max(m, red);
    float shift = m * scale;
    floatv acc = (floatv) (0.0f);
    float s = 0.0f;
    FOR_CHUNKS(c, valid) {
        floatv e = exp(VLOAD(c, xr) * scale - shift);
        VSTORE(e, c, yr);
        acc += e;
    }
    FOR_TAIL(j, valid) {
        float e = exp(xr[j] * scale - shift);
        yr[j] = e;
        s += e;
    }
    s = wg_sum(s + hsum(acc), red);
    float inv = 1.0f / s;
    FOR_CHUNKS(c, valid) {
        VSTORE(VLOAD(c, yr) * inv, c, yr);
    }
    FOR_TAIL(j, valid) {
        yr[j] *= inv;
    }
    FOR_ALL(j, valid, n) {
        yr[j] = 0.0f;
    }
}

/* gradIn = scale * y * (gradOut - rowsum(gradOut * y)). */
__kernel void softmax_bwd(__global const float* y, long yOff, __global const float* g, long gOff,
                          __global float* gi, long giOff, int n, float scale) {
#if RW > 1
    __local float red[RW];
#endif
    long row = get_group_id(0);
    __global const float* yr = y + yOff + row * n;
    __global const float* gr = g + gOff + row * n;
    __global float* ir = gi + giOff + row * n;
    floatv acc = (floatv) (0.0f);
    float dot = 0.0f;
    FOR_CHUNKS(c, n) {
        acc = fma(VLOAD(c, yr), VLOAD(c, gr), acc);
    }
    FOR_TAIL(j, n) {
        dot += yr[j] * gr[j];
    }
    dot = wg_sum(dot + hsum(acc), red);
    FOR_CHUNKS(c, n) {
        VSTORE((VLOAD(c, gr) - dot) * VLOAD(c, yr) * scale, c, ir);
    }
    FOR_TAIL(j, n) {
        ir[j] = scale * yr[j] * (gr[j] - dot);
    }
}

/* ---- layer norm ------------------------------------------------------------------------------------------------ */

__kernel void layernorm_fwd(__global const float* x, long xOff, __global const float* gamma, long gammaOff,
                            __global const float* beta, long betaOff, __global float* y, long yOff,
                            __global float* mean, long meanOff, __global float* rstd, long rstdOff, int n, float eps,
                            int centered) {
#if RW > 1
    __local float red[RW];
#endif
    long row = get_group_id(0);
    __global const float* xr = x + xOff + row * n;
    __global float* yr = y + yOff + row * n;
    __global const float* gm = gamma + gammaOff;
    __global const float* bt = beta + betaOff;
    floatv acc = (floatv) (0.0f);
    float s = 0.0f;
    float mu = 0.0f;
    if (centered) {
        FOR_CHUNKS(c, n) {
            acc += VLOAD(c, xr);
        }
        FOR_TAIL(j, n) {
            s += xr[j];
        }
        mu = wg_sum(s + hsum(acc), red) / n;
        acc = (floatv) (0.0f);
    }
    float v = 0.0f;
    FOR_CHUNKS(c, n) {
        floatv d = VLOAD(c, xr) - mu;
        acc = fma(d, d, acc);
    }
    FOR_TAIL(j, n) {
        float d = xr[j] - mu;
        v += d * d;
    }
    v = wg_sum(v + hsum(acc), red);
    float rs = 1.0f / sqrt(v / n + eps);
    if (LID == 0) {
        if (centered) {
            mean[meanOff + row] = mu;
        }
        rstd[rstdOff + row] = rs;
    }
    if (centered) {
        FOR_CHUNKS(c, n) {
            VSTORE(fma((VLOAD(c, xr) - mu) * rs, VLOAD(c, gm), VLOAD(c, bt)), c, yr);
        }
        FOR_TAIL(j, n) {
            yr[j] = (xr[j] - mu) * rs * gm[j] + bt[j];
        }
    } else {
        FOR_CHUNKS(c, n) {
            VSTORE(VLOAD(c, xr) * rs * VLOAD(c, gm), c, yr);
        }
        FOR_TAIL(j, n) {
            yr[j] = xr[j] * rs * gm[j];
        }
    }
}

/*
 * dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * gamma; uncentered (RMSNorm), the
 * mean(dxhat) term is absent. That difference cancels to rounding noise when a row is one element, so the
 * products are not fused into multiply-adds, as the cpu backend rounds them.
 */
__kernel void layernorm_bwd_dx(__global const float* x, long xOff, __global const float* gamma, long gammaOff,
                               __global const float* mean, long meanOff, __global const float* rstd, long rstdOff,
                               __global const float* dy, long dyOff, __global float* dx, long dxOff, int n, int centered) {
    #pragma OPENCL FP_CONTRACT OFF
#if RW > 1
    __local float red[RW];
#endif
    long row = get_group_id(0);
    __global const float* xr = x + xOff + row * n;
    __global const float* gr = dy + dyOff + row * n;
    __global float* ir = dx + dxOff + row * n;
    __global const float* gm = gamma + gammaOff;
    float mu = centered ? mean[meanOff + row] : 0.0f;
    float rs = rstd[rstdOff + row];
    floatv a1 = (floatv) (0.0f);
    floatv a2 = (floatv) (0.0f);
    float s1 = 0.0f;
    float s2 = 0.0f;
    FOR_CHUNKS(c, n) {
        floatv xhat = (VLOAD(c, xr) - mu) * rs;
        floatv dxhat = VLOAD(c, gr) * VLOAD(c, gm);
        a1 += dxhat;
        a2 = fma(dxhat, xhat, a2);
    }
    FOR_TAIL(j, n) {
        float xhat = (xr[j] - mu) * rs;
        float dxhat = gr[j] * gm[j];
        s1 += dxhat;
        s2 += dxhat * xhat;
    }
    float meanDxhat = centered ? wg_sum(s1 + hsum(a1), red) / n : 0.0f;
    float meanDxhatXhat = wg_sum(s2 + hsum(a2), red) / n;
    FOR_CHUNKS(c, n) {
        floatv xhat = (VLOAD(c, xr) - mu) * rs;
        floatv dxhat = VLOAD(c, gr) * VLOAD(c, gm);
        VSTORE(rs * (dxhat - meanDxhat - xhat * meanDxhatXhat), c, ir);
    }
    FOR_TAIL(j, n) {
        float xhat = (xr[j] - mu) * rs;
        float dxhat = gr[j] * gm[j];
        ir[j] = rs * (dxhat - meanDxhat - xhat * meanDxhatXhat);
    }
}

/* gradGamma[c] += sum_r dy * xhat, gradBeta[c] += sum_r dy; VW columns per work-item, rows in order. */
__kernel void layernorm_bwd_params(__global const float* x, long xOff, __global const float* mean, long meanOff,
                                   __global const float* rstd, long rstdOff, __global const float* dy, long dyOff,
                                   __global float* gg, long ggOff, __global float* gb, long gbOff,
                                   int withGamma, int withBeta, int rows, int n) {
    int c0 = get_global_id(0) * VW;
    if (c0 >= n) {
        return;
    }
    if (c0 + VW <= n) {
        floatv ag = (floatv) (0.0f);
        floatv ab = (floatv) (0.0f);
        for (int r = 0; r < rows; r++) {
            floatv d = VLOAD(0, dy + dyOff + (long) r * n + c0);
            floatv xhat = (VLOAD(0, x + xOff + (long) r * n + c0) - mean[meanOff + r]) * rstd[rstdOff + r];
            ag = fma(d, xhat, ag);
            ab += d;
        }
        if (withGamma) {
            VSTORE(VLOAD(0, gg + ggOff + c0) + ag, 0, gg + ggOff + c0);
        }
        if (withBeta) {
            VSTORE(VLOAD(0, gb + gbOff + c0) + ab, 0, gb + gbOff + c0);
        }
    } else {
        for (int c = c0; c < n; c++) {
            float ag = 0.0f;
            float ab = 0.0f;
            for (int r = 0; r < rows; r++) {
                float d = dy[dyOff + (long) r * n + c];
                ag += d * ((x[xOff + (long) r * n + c] - mean[meanOff + r]) * rstd[rstdOff + r]);
                ab += d;
            }
            if (withGamma) {
                gg[ggOff + c] += ag;
            }
            if (withBeta) {
                gb[gbOff + c] += ab;
            }
        }
    }
}

/* ---- embedding ------------------------------------------------------------------------------------------------- */

/* out[i, c] = weight[ids[i] - rowOffset, c], zero for ids another shard owns. dim 0: column, dim 1: token. */
__kernel void embedding_fwd(__global const int* ids, __global const float* w, long wOff, int rows, int d, int rowOffset,
                            __global float* out, long oOff) {
    int c = get_global_id(0);
    long i = get_global_id(1);
    if (c >= d) {
        return;
    }
    int row = ids[i] - rowOffset;
    out[oOff + i * d + c] = row >= 0 && row < rows ? w[wOff + (long) row * d + c] : 0.0f;
}

/* gradWeight[ids[i] - rowOffset, :] += gradOut[i, :], ids in order, VW columns per work-item (deterministic). */
__kernel void embedding_bwd(__global const int* ids, int count, __global const float* g, long gOff, __global float* gw,
                            long gwOff, int rows, int d, int rowOffset) {
    int c0 = get_global_id(0) * VW;
    if (c0 >= d) {
        return;
    }
    bool full = c0 + VW <= d;
    for (int i = 0; i < count; i++) {
        int row = ids[i] - rowOffset;
        if (row < 0 || row >= rows) {
            continue;
        }
        __global const float* src = g + gOff + (long) i * d + c0;
        __global float* dst = gw + gwOff + (long) row * d + c0;
        if (full) {
            VSTORE(VLOAD(0, dst) + VLOAD(0, src), 0, dst);
        } else {
            for (int c = 0; c < d - c0; c++) {
                dst[c] += src[c];
            }
        }
    }
}

/* ---- cross-entropy --------------------------------------------------------------------------------------------- */

/* Per row: lse over the first `valid` columns, loss = lse - logits[target]; ignored rows get 0 and 0. */
__kernel void cross_entropy_fwd(__global const float* logits, long lOff, __global const int* targets, int ignoreIndex,
                                int valid, int v, __global float* losses, long lossOff, __global float* lse, long lseOff) {
#if RW > 1
    __local float red[RW];
#endif
    long row = get_group_id(0);
    int target = targets[row];
    /* no early return for an ignored row: every work-item of the group must reach the reductions' barriers */
    bool ignored = target == ignoreIndex;
    int cols = ignored ? 0 : valid;
    __global const float* lr = logits + lOff + row * v;
    float m = -INFINITY;
    FOR_CHUNKS(c, cols) {
        m = fmax(m, hmax(VLOAD(c, lr)));
    }
    FOR_TAIL(j, cols) {
        m = fmax(m, lr[j]);
    }
    m = wg_max(m, red);
    floatv acc = (floatv) (0.0f);
    float s = 0.0f;
    FOR_CHUNKS(c, cols) {
        acc += exp(VLOAD(c, lr) - m);
    }
    FOR_TAIL(j, cols) {
        s += exp(lr[j] - m);
    }
    s = wg_sum(s + hsum(acc), red);
    if (LID == 0) {
        float l = ignored ? 0.0f : m + log(s);
        lse[lseOff + row] = l;
        losses[lossOff + row] = ignored ? 0.0f : l - lr[target];
    }
}

/* grad[r, j] = (exp(logits - lse) - onehot(target)) * rowScale over valid columns, 0 elsewhere and for ignored rows;
 * VW columns per work-item. */
__kernel void cross_entropy_bwd(__global const float* logits, long lOff, __global const int* targets, int ignoreIndex,
                                int valid, int v, __global const float* lse, long lseOff, float rowScale,
                                __global float* grad, long gOff) {
    int j0 = get_global_id(0) * VW;
    long r = get_global_id(1);
    if (j0 >= v) {
        return;
    }
    int target = targets[r];
    float l = lse[lseOff + r];
    __global const float* lr = logits + lOff + r * v;
    __global float* gr = grad + gOff + r * v;
    bool ignored = target == ignoreIndex;
    if (j0 + VW <= valid) {
        floatv e = ignored ? (floatv) (0.0f) : exp(VLOAD(0, lr + j0) - l) * rowScale;
        VSTORE(e, 0, gr + j0);
    } else {
        for (int j = j0; j < j0 + VW && j < v; j++) {
            gr[j] = !ignored && j < valid ? exp(lr[j] - l) * rowScale : 0.0f;
        }
    }
    if (!ignored && target >= j0 && target < j0 + VW && target < valid) {
        gr[target] -= rowScale;
    }
}

/* ---- optimizer --------------------------------------------------------------------------------------------------- */

/* One AdamW step over n elements, with the scalars AdamW computes per parameter (see OptimizerKernels). */
__kernel void adamw_step(__global float* p, long pOff, __global const float* g, long gOff, __global float* m, long mOff,
                         __global float* v, long vOff, long n, float decay, float b1, float b2, float ob1, float ob2,
                         float stepSize, float invBc2Sqrt, float eps) {
    long i = get_global_id(0);
    if (i >= n) {
        return;
    }
    float gv = g[gOff + i];
    float pv = p[pOff + i] * decay;
    float mv = m[mOff + i] * b1 + gv * ob1;
    float vv = v[vOff + i] * b2 + gv * gv * ob2;
    float denom = sqrt(vv) * invBc2Sqrt + eps;
    p[pOff + i] = pv - mv * stepSize / denom;
    m[mOff + i] = mv;
    v[vOff + i] = vv;
}
