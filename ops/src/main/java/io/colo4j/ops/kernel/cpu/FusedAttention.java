package io.colo4j.ops.kernel.cpu;

import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Attention per (batch, head) tile, one tile per task of the kernel pool, in blocks of {@link #BLOCK} query rows: a
 * block's scores [BLOCK, keys] live in a thread-local buffer that stays in L2 (keys = the block's last row + 1 when
 * causal, so the masked half of q k^T and of P v is never computed), are turned into probabilities by the row softmax
 * and multiplied into v. Backward recomputes a block's probabilities bit for bit from the saved shift and 1 / sum,
 * then dV += P^T dO, dS = softmax' (dO v^T), dQ = scale dS k, dK += scale dS^T q. Every product runs on one thread
 * ({@link Sgemm} with threads 1) and the blocks of a tile run in order, so the bits depend on the shapes only.
 */
final class FusedAttention {
    /** Query rows per block: 64 x 1024 keys is 256 KB of scores. */
    static final int BLOCK = 64;

    private FusedAttention() {}

    /** One tile's operands: [rows, cols] matrices at a base offset with a row stride (floats). */
    private record Layout(int batch, int heads, int tq, int tk, int hd, int hv) {
        static Layout of(Tensor q, Tensor k, Tensor v, boolean causal) {
            int[] qs = q.shape();
            int[] ks = k.shape();
            int[] vs = v.shape();
            if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4 || qs[0] != ks[0] || qs[1] != ks[1] || qs[3] != ks[3]
                    || vs[0] != ks[0] || vs[1] != ks[1] || vs[2] != ks[2] || (causal && qs[2] != ks[2])
                    || q.stride(3) != 1 || k.stride(3) != 1 || v.stride(3) != 1) {
                throw new IllegalArgumentException("fused attention: q " + Shapes.format(qs) + ", k " + Shapes.format(ks)
                        + ", v " + Shapes.format(vs) + " are not [B, H, Tq, hd], [B, H, Tk, hd], [B, H, Tk, hv] with"
                        + " stride 1 in the last dim" + (causal ? " and Tq == Tk" : ""));
            }
            return new Layout(qs[0], qs[1], qs[2], ks[2], qs[3], vs[3]);
        }

        int tiles() {
            return batch * heads;
        }
    }

    /** Where tile {@code t} of {@code x} starts, in floats. */
    private static long tileBase(Tensor x, int heads, int t) {
        return x.offset() + (t / heads) * x.stride(0) + (t % heads) * x.stride(1);
    }

    static void forward(Tensor q, Tensor k, Tensor v, float scale, boolean causal, Tensor out, Tensor stats) {
        Layout s = Layout.of(q, k, v, causal);
        MemorySegment mq = q.segment();
        MemorySegment mk = k.segment();
        MemorySegment mv = v.segment();
        MemorySegment mo = out.segment();
        MemorySegment ms = stats.segment();
        int ldq = (int) q.stride(2);
        int ldk = (int) k.stride(2);
        int ldv = (int) v.stride(2);
        CpuThreads.parallelFor(s.tiles(), 1, (from, to) -> {
            MemorySegment scores = Buffers.get().scores(s.tk);
            for (int t = from; t < to; t++) {
                long qb = tileBase(q, s.heads, t);
                long kb = tileBase(k, s.heads, t);
                long vb = tileBase(v, s.heads, t);
                long ob = out.offset() + (long) t * s.tq * s.hv;
                long sb = stats.offset() + (long) t * s.tq * 2;
                for (int i0 = 0; i0 < s.tq; i0 += BLOCK) {
                    int rows = Math.min(BLOCK, s.tq - i0);
                    int keys = causal ? i0 + rows : s.tk;
                    Sgemm.sgemm(false, true, rows, keys, s.hd, scale, mq, qb + (long) i0 * ldq, ldq, mk, kb, ldk,
                            0f, scores, 0, keys, 1);
                    float[] p = RowArrays.first(rows * keys);
                    for (int r = 0; r < rows; r++) {
                        int valid = causal ? i0 + r + 1 : keys;
                        Softmax.row(scores, (long) r * keys, p, r * keys, keys, valid, 1f, ms, sb + 2L * (i0 + r));
                    }
                    MemorySegment.copy(p, 0, scores, Vec.F, 0, rows * keys);
                    Sgemm.sgemm(false, false, rows, s.hv, keys, 1f, scores, 0, keys, mv, vb, ldv,
                            0f, mo, ob + (long) i0 * s.hv, s.hv, 1);
                }
            }
        });
    }

    static void backward(Tensor q, Tensor k, Tensor v, Tensor stats, Tensor gradOut, float scale, boolean causal,
                         Tensor gradQ, Tensor gradK, Tensor gradV) {
        Layout s = Layout.of(q, k, v, causal);
        if (gradOut.stride(3) != 1) {
            throw new IllegalArgumentException("fused attention backward: gradOut " + Shapes.format(gradOut.shape())
                    + " needs stride 1 in its last dim");
        }
        MemorySegment mq = q.segment();
        MemorySegment mk = k.segment();
        MemorySegment mv = v.segment();
        MemorySegment mg = gradOut.segment();
        MemorySegment ms = stats.segment();
        MemorySegment dq = gradQ.segment();
        MemorySegment dk = gradK.segment();
        MemorySegment dv = gradV.segment();
        int ldq = (int) q.stride(2);
        int ldk = (int) k.stride(2);
        int ldv = (int) v.stride(2);
        int ldg = (int) gradOut.stride(2);
        CpuThreads.parallelFor(s.tiles(), 1, (from, to) -> {
            Buffers buffers = Buffers.get();
            MemorySegment probs = buffers.scores(s.tk);
            MemorySegment grads = buffers.grads(s.tk);
            for (int t = from; t < to; t++) {
                long qb = tileBase(q, s.heads, t);
                long kb = tileBase(k, s.heads, t);
                long vb = tileBase(v, s.heads, t);
                long gb = tileBase(gradOut, s.heads, t);
                long sb = stats.offset() + (long) t * s.tq * 2;
                long dqb = gradQ.offset() + (long) t * s.tq * s.hd;
                long dkb = gradK.offset() + (long) t * s.tk * s.hd;
                long dvb = gradV.offset() + (long) t * s.tk * s.hv;
                // dK and dV gather every block's share, in block order
                dk.asSlice(dkb * Float.BYTES, (long) s.tk * s.hd * Float.BYTES).fill((byte) 0);
                dv.asSlice(dvb * Float.BYTES, (long) s.tk * s.hv * Float.BYTES).fill((byte) 0);
                for (int i0 = 0; i0 < s.tq; i0 += BLOCK) {
                    int rows = Math.min(BLOCK, s.tq - i0);
                    int keys = causal ? i0 + rows : s.tk;
                    long qRow = qb + (long) i0 * ldq;
                    long gRow = gb + (long) i0 * ldg;
                    Sgemm.sgemm(false, true, rows, keys, s.hd, scale, mq, qRow, ldq, mk, kb, ldk, 0f, probs, 0, keys, 1);
                    int floats = rows * keys;
                    float[] p = RowArrays.first(floats);
                    for (int r = 0; r < rows; r++) {
                        long st = sb + 2L * (i0 + r);
                        Softmax.recomputeRow(probs, (long) r * keys, p, r * keys, keys, causal ? i0 + r + 1 : keys, 1f,
                                Vec.get(ms, st), Vec.get(ms, st + 1));
                    }
                    MemorySegment.copy(p, 0, probs, Vec.F, 0, floats);
                    Sgemm.sgemm(true, false, keys, s.hv, rows, 1f, probs, 0, keys, mg, gRow, ldg, 1f, dv, dvb, s.hv, 1);
                    Sgemm.sgemm(false, true, rows, keys, s.hv, 1f, mg, gRow, ldg, mv, vb, ldv, 0f, grads, 0, keys, 1);
                    for (int r = 0; r < rows; r++) {
                        long rb = (long) r * keys;
                        Softmax.backwardRow(probs, rb, grads, rb, grads, rb, keys, 1f);
                    }
                    Sgemm.sgemm(false, false, rows, s.hd, keys, scale, grads, 0, keys, mk, kb, ldk,
                            0f, dq, dqb + (long) i0 * s.hd, s.hd, 1);
                    Sgemm.sgemm(true, false, keys, s.hd, rows, scale, grads, 0, keys, mq, qRow, ldq, 1f, dk, dkb, s.hd, 1);
                }
            }
        });
    }

    /** A thread's score and score-gradient blocks, grown to the longest key length seen and kept. */
    private static final class Buffers {
        private static final ThreadLocal<Buffers> LOCAL = ThreadLocal.withInitial(Buffers::new);
        private MemorySegment scores = MemorySegment.NULL;
        private MemorySegment grads = MemorySegment.NULL;

        static Buffers get() {
            return LOCAL.get();
        }

        MemorySegment scores(int keys) {
            scores = fit(scores, keys);
            return scores;
        }

        MemorySegment grads(int keys) {
            grads = fit(grads, keys);
            return grads;
        }

        /** Auto arena: the buffer goes when its thread does; shared access lets Sgemm's checks pass from any thread. */
        private static MemorySegment fit(MemorySegment buffer, int keys) {
            long bytes = (long) BLOCK * Math.max(keys, 1) * Float.BYTES;
            return buffer.byteSize() >= bytes ? buffer : Arena.ofAuto().allocate(bytes, 64);
        }
    }
}
